"""The JSON API against its own OpenAPI document, fuzzed by schemathesis.

Every operation in `/api/openapi.json` gets generated requests, valid and invalid (the
document's examples, schemathesis's coverage cases at each boundary, then random ones),
sent with an organiser's bearer token to the app in this process. No answer may be a
server error, and each must match the document: a documented status and content type,
and a body of the documented schema. The examples per operation are bounded so that the
whole run takes about a minute.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.applications import Starlette

from live.config import load_settings
from live.server import create_app
from live.store import make_store
from live.store.models import Role
from live.tokens import digest, new_secret
from live.web.openapi import openapi_document

BASE_URL = "http://testserver"
EXAMPLES_PER_OPERATION = 400
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
cases_sent: dict[str, int] = {}
statuses: dict[int, int] = {}


async def _organiser_token(store_url: str) -> str:
    """An organiser and an API token, written before the app opens the same store."""
    store = make_store(store_url)
    await store.open()
    try:
        user = await store.create_user("fuzz@ks.no", Role.ORGANISER, None)
        token = new_secret()
        await store.create_api_token(user.id, digest(token))
        return token
    finally:
        await store.close()


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Starlette, str]]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz") / "var"
    live_settings = load_settings(
        {"LIVE_DATA_DIR": str(data_dir), "LIVE_ALLOWED_HOSTS": "testserver"}
    )
    token = asyncio.run(_organiser_token(live_settings.store_url))
    app = create_app(live_settings)
    with asgi.get_client(app) as http:
        http.headers["Authorization"] = f"Bearer {token}"
        seeded.extend(_seed_polls(http))
    yield app, token
    asgi.shutdown_lifespans()  # the store closes with the app's lifespan
    total = sum(cases_sent.values())
    print(f"\nschemathesis: {total} cases over {len(cases_sent)} operations; statuses {statuses}")


def _poll(http: Any, votes: list[int], close: bool = False, reveal: int = 0) -> int:
    """A poll of five finalists with a vote for finalist number n (1-5) in `votes`."""
    body = {"title": "Fuzz", "finalists": [{"name": name} for name in "ABCDE"]}
    poll = http.post("/api/polls", json=body).json()
    if votes or close:
        assert http.post(f"/api/polls/{poll['id']}/open").status_code == 200
    ids = [finalist["id"] for finalist in poll["finalists"]]
    for number in votes:
        with asgi.get_client(http.app) as phone:
            phone.get(f"/p/{poll['code']}")
            cast = phone.post(f"/p/{poll['code']}", data={"choice": str(ids[number - 1])})
            assert cast.status_code in (200, 303), cast.text
    if close:
        assert http.post(f"/api/polls/{poll['id']}/close").status_code == 200
    for _ in range(reveal):
        assert http.post(f"/api/polls/{poll['id']}/reveal").status_code == 200
    poll_id: int = poll["id"]
    return poll_id


def _seed_polls(http: Any) -> list[int]:
    """Polls in each state for the fuzzer to find: a draft, an open poll with votes, a
    closed poll with an open tie for first place, a closed poll revealed to the end."""
    return [
        _poll(http, []),
        _poll(http, [1, 2, 2]),
        _poll(http, [1, 2], close=True),
        _poll(http, [1, 1, 1, 2, 2, 3], close=True, reveal=3),
    ]


seeded: list[int] = []


# The document as `/api/openapi.json` serves it (checked below), read at collection
# without starting an app; each case is then sent to the app in `fuzzed`.
schema = schemathesis.openapi.from_dict(openapi_document(BASE_URL))


@schema.hook("map_path_parameters")
def _mostly_polls_that_exist(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """A generated id picks one of the seeded polls or one that does not exist; an id
    that is not a whole number (a negative case) goes as it is."""
    value = (path_parameters or {}).get("poll_id")
    if path_parameters and isinstance(value, int) and not isinstance(value, bool) and seeded:
        choices = [*seeded, 10**9]
        path_parameters["poll_id"] = choices[abs(value) % len(choices)]
    return path_parameters


def test_the_served_document_is_the_one_fuzzed(fuzzed: tuple[Starlette, str]) -> None:
    app, _ = fuzzed
    with asgi.get_client(app) as http:
        served = http.get("/api/openapi.json")
    assert served.status_code == 200 and served.json() == openapi_document(BASE_URL)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_answer_is_documented_and_none_is_a_server_error(
    case: Any, fuzzed: tuple[Starlette, str]
) -> None:
    app, token = fuzzed
    label = f"{case.method} {case.path}"
    cases_sent[label] = cases_sent.get(label, 0) + 1
    response = case.call_and_validate(
        app=app, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
    )
    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
