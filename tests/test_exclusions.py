"""Flagged ballots and the organisers' recorded decision to exclude them, through the API
on both backends: `GET /api/polls/{id}/flagged` and `POST /api/polls/{id}/exclusions`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from live.config import Settings
from live.server import create_app
from live.store.models import Role
from live.tokens import VoterToken
from tests.conftest import BASE_URL, FINALISTS, api_headers, services_of

pytestmark = pytest.mark.asyncio

NOTE = "Kari Nordmann (organiser) and the host: 40 ballots from one address in a minute."


@pytest_asyncio.fixture
async def app(make_settings: Callable[..., Settings], store_url: str) -> AsyncIterator[Starlette]:
    application = create_app(make_settings(LIVE_STORE_URL=store_url))
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as web:
        yield web


async def cast(app: Starlette, poll_id: int, voter: str, choice: int, flagged: bool) -> None:
    """A ballot as the ballot page records it, from a token issued flagged or not."""
    store = services_of(app).store
    token = VoterToken(poll_id, voter, flagged=flagged)
    await store.cast_ballot(token, (choice,), None, receipt=f"R{voter.upper():>4}"[:9])


async def test_flagged_ballots_are_listed_and_excluded_by_a_recorded_decision(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    org = await api_headers(app)
    host = await api_headers(app, "host@example.no", Role.HOST)
    made = await http.post("/api/polls", json={"title": "F", "finalists": FINALISTS}, headers=org)
    poll = made.json()
    flagged_url = f"/api/polls/{poll['id']}/flagged"
    exclude_url = f"/api/polls/{poll['id']}/exclusions"
    empty = await http.get(flagged_url, headers=org)
    assert empty.json() == {"ballots": [], "count": 0, "exclusions": []}
    draft = await http.post(exclude_url, json={"note": NOTE}, headers=org)
    assert draft.status_code == 409  # not open yet

    await http.post(f"/api/polls/{poll['id']}/open", headers=org)
    none_flagged = await http.post(exclude_url, json={"note": NOTE}, headers=org)
    assert none_flagged.status_code == 409
    a, b = poll["finalists"][0]["id"], poll["finalists"][1]["id"]
    for number in range(3):
        await cast(app, poll["id"], f"hall{number}", a, flagged=False)
    for number in range(4):
        await cast(app, poll["id"], f"bot{number}", b, flagged=True)
    results = (await http.get(f"/api/polls/{poll['id']}/results", headers=org)).json()
    assert results["ballots"] == 7 and results["tally"][0]["finalist_id"] == b

    listed = (await http.get(flagged_url, headers=org)).json()
    assert listed["count"] == 4 and listed["exclusions"] == []
    assert all(set(item) == {"receipt", "updated_at"} for item in listed["ballots"])  # no choices
    assert sorted(item["receipt"] for item in listed["ballots"]) == sorted(
        f"R{('BOT' + str(n)):>4}"[:9] for n in range(4)
    )
    assert (await http.get(flagged_url, headers=host)).status_code == 403
    assert (await http.post(exclude_url, json={"note": NOTE}, headers=host)).status_code == 403

    for bad in ({}, {"note": ""}, {"note": "   "}, {"note": 5}, {"note": "x" * 501}):
        refused = await http.post(exclude_url, json=bad, headers=org)
        assert refused.status_code == 400 and refused.json()["error"]["field"] == "note"

    decided = await http.post(exclude_url, json={"note": NOTE}, headers=org)
    assert decided.status_code == 201, decided.text
    exclusion = decided.json()
    assert exclusion["ballots"] == 4 and exclusion["note"] == NOTE
    assert exclusion["decided_by"] == "org@example.no" and exclusion["decided_at"]
    after = (await http.get(flagged_url, headers=org)).json()
    assert after["count"] == 0 and after["ballots"] == [] and after["exclusions"] == [exclusion]
    results = (await http.get(f"/api/polls/{poll['id']}/results", headers=org)).json()
    assert results["ballots"] == 3 and results["tally"][0]["finalist_id"] == a
    again = await http.post(exclude_url, json={"note": NOTE}, headers=org)
    assert again.status_code == 409  # nothing flagged counts now

    await cast(app, poll["id"], "late", b, flagged=True)  # a new flagged ballot counts again
    assert (await http.get(flagged_url, headers=org)).json()["count"] == 1
    await http.post(f"/api/polls/{poll['id']}/close", headers=org)
    closed = await http.post(exclude_url, json={"note": NOTE}, headers=org)
    assert closed.status_code == 409
    final = (await http.get(flagged_url, headers=org)).json()
    assert final["count"] == 1 and len(final["exclusions"]) == 1
    actions = [e.action for e in await services_of(app).store.list_audit()]
    assert actions.count("poll.exclude") == 1


async def test_unknown_polls_are_404(app: Starlette, http: httpx.AsyncClient) -> None:
    org = await api_headers(app)
    assert (await http.get("/api/polls/999/flagged", headers=org)).status_code == 404
    missing = await http.post("/api/polls/999/exclusions", json={"note": NOTE}, headers=org)
    assert missing.status_code == 404
