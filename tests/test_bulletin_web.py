"""The bulletin on the web and the results export, on both backends where the store
matters: `GET /api/polls/{id}/bulletin`, `/p/{code}/bulletin`, `/admin/polls/{id}/results`
(.json, .csv) and the digest in `GET /api/polls/{id}/results`."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from live import tally
from live.config import Settings
from live.finale import bulletin
from live.server import create_app
from live.store.models import Role
from live.tally import Method
from live.tokens import VoterToken
from tests.conftest import BASE_URL, api_headers, log_in, make_user, open_poll, services_of
from tests.test_api import vote

pytestmark = pytest.mark.asyncio

NOTE = "Kari Nordmann and the host: a burst of tokens from one address."


ENGLISH = {"Accept-Language": "en"}  # these tests read the English texts


@pytest_asyncio.fixture
async def app(make_settings: Callable[..., Settings], store_url: str) -> AsyncIterator[Starlette]:
    application = create_app(make_settings(LIVE_STORE_URL=store_url))
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=ENGLISH
    ) as web:
        yield web


def public(http: httpx.AsyncClient) -> httpx.AsyncClient:
    """Another browser on the same app: no token, no login."""
    return httpx.AsyncClient(transport=http._transport, base_url=BASE_URL, headers=ENGLISH)


async def voted_and_closed(
    app: Starlette, http: httpx.AsyncClient, org: dict[str, str], **fields: Any
) -> tuple[dict[str, Any], list[str]]:
    """A poll with votes through the ballot page, one flagged ballot excluded by a
    decision, then closed. The receipts the voters were shown."""
    poll = await open_poll(http, org, **fields)
    ids = [f["id"] for f in poll["finalists"]]
    approval = fields.get("method") == "approval"
    patterns = [[ids[0], ids[1]], [ids[1]], [ids[0], ids[2]], [ids[0]]] if approval else [
        [ids[0]], [ids[0]], [ids[0]], [ids[1]], [ids[1]], [ids[2]],
    ]  # fmt: skip
    receipts = []
    for choices in patterns:
        answer = await vote(http, poll["ballot_url"], *choices)
        assert answer.status_code == 200, answer.text
        receipts.append(answer.json()["receipt"])
    bot = VoterToken(poll["id"], "bot-1", flagged=True)
    await services_of(app).store.cast_ballot(bot, (ids[3],), None, receipt="BOTT-0001")
    excluded = await http.post(f"/api/polls/{poll['id']}/exclusions", json={"note": NOTE},
                               headers=org)  # fmt: skip
    assert excluded.status_code == 201, excluded.text
    assert (await http.post(f"/api/polls/{poll['id']}/close", headers=org)).status_code == 200
    return poll, receipts


@pytest.mark.parametrize("method", ["single", "approval"])
async def test_a_recount_of_the_bulletin_equals_the_locked_result(
    app: Starlette, http: httpx.AsyncClient, method: str
) -> None:
    org = await api_headers(app)
    fields = {"method": method, "max_choices": 2} if method == "approval" else {}
    poll, receipts = await voted_and_closed(app, http, org, **fields)
    answer = await http.get(f"/api/polls/{poll['id']}/bulletin", headers=org)
    assert answer.status_code == 200, answer.text
    document = answer.json()
    checked = bulletin.verify(document)
    assert checked.ok, checked.problems

    locked = await services_of(app).store.get_result(poll["id"])
    patterns = Counter(tuple(b["choices"]) for b in document["ballots"])
    recount = tally.count(Method(method), locked.finalist_ids, sorted(patterns.items()))
    assert recount.standings == locked.standings and recount.ballots == locked.ballots
    assert checked.tally == locked.standings
    assert sorted(b["receipt"] for b in document["ballots"]) == sorted(receipts)
    assert document["excluded"] == [
        {"receipt": "BOTT-0001", "choices": [poll["finalists"][3]["id"]], "exclusion": 1}
    ]
    assert document["exclusions"][0]["note"] == NOTE and "org@example.no" not in answer.text

    results = (await http.get(f"/api/polls/{poll['id']}/results", headers=org)).json()
    assert results["digest"] == document["digest"]
    assert results["digest"].startswith("sha256:") and len(results["digest"]) == 71


async def test_nothing_before_closing_and_the_public_waits_for_the_reveal(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    org = await api_headers(app)
    host = await api_headers(app, "host@example.no", Role.HOST)
    poll = await open_poll(http, org)
    ids = [f["id"] for f in poll["finalists"]]
    for choice in (ids[0], ids[0], ids[0], ids[1], ids[1], ids[2]):
        await vote(http, poll["ballot_url"], choice)
    api_path, page = f"/api/polls/{poll['id']}/bulletin", f"/p/{poll['code']}/bulletin"
    early = await http.get(api_path, headers=org)
    assert early.status_code == 409
    assert early.json()["error"]["message"] == bulletin.NOT_CLOSED
    results = (await http.get(f"/api/polls/{poll['id']}/results", headers=org)).json()
    assert results["digest"] is None
    async with public(http) as anyone:
        assert (await anyone.get(page)).status_code == 409
        assert (await http.post(f"/api/polls/{poll['id']}/close", headers=org)).status_code == 200
        waiting = await anyone.get(api_path)
        assert waiting.status_code == 409
        assert "published when the winners have been revealed" in waiting.text
        shown = await anyone.get(page)
        assert shown.status_code == 409 and "the winners have been revealed" in shown.text
        assert (
            await anyone.get(api_path, headers={"Authorization": "Bearer nope"})
        ).status_code == 401
        # organisers and hosts: as soon as it is closed, by token or by login
        assert (await anyone.get(api_path, headers=host)).status_code == 200
        await make_user(app, "crew@example.no", Role.HOST)
        assert (await log_in(anyone, "crew@example.no")).status_code == 303
        assert (await anyone.get(page)).status_code == 200
    async with public(http) as anyone:
        for _ in range(3):
            assert (
                await http.post(f"/api/polls/{poll['id']}/reveal", headers=org)
            ).status_code == 200
        opened = await anyone.get(api_path)
        assert opened.status_code == 200 and bulletin.verify(opened.json()).ok
        kept = await anyone.get(api_path + "?download=1")
        assert kept.headers["content-disposition"] == (
            f'attachment; filename="bulletin-{poll["code"]}.json"'
        )
        assert json.loads(kept.content.decode("utf-8")) == opened.json()


async def test_the_public_page_lists_ballots_and_finds_a_receipt(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    org = await api_headers(app)
    poll, receipts = await voted_and_closed(app, http, org, winners=1)
    await http.post(f"/api/polls/{poll['id']}/reveal", headers=org)
    page_path = f"/p/{poll['code']}/bulletin"
    async with public(http) as anyone:
        page = await anyone.get(page_path)
        assert page.status_code == 200, page.text
        document = (await anyone.get(f"/api/polls/{poll['id']}/bulletin")).json()
        assert document["digest"] in page.text
        assert all(receipt in page.text for receipt in receipts)
        assert "BOTT-0001" in page.text and NOTE in page.text
        assert f"/api/polls/{poll['id']}/bulletin?download=1" in page.text
        assert f"live verify bulletin-{poll['code']}.json" in page.text
        found = await anyone.get(page_path, params={"receipt": receipts[3].lower()})
        assert 'id="receipt-result"' in found.text and "is counted" in found.text
        name = poll["finalists"][1]["name"]
        assert f"with this choice: {name}." in found.text
        apart = await anyone.get(page_path, params={"receipt": "bott 0001"})
        assert "taken out of the count by a recorded decision" in apart.text
        absent = await anyone.get(page_path, params={"receipt": "ZZZZ-ZZZZ"})
        assert "is not in the list" in absent.text


def _csv_rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


async def test_results_export_for_organisers_and_hosts(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    org = await api_headers(app)
    poll = await open_poll(http, org)
    base = f"/admin/polls/{poll['id']}/results"
    await make_user(app, "host@example.no", Role.HOST)
    async with public(http) as crew:
        assert (await log_in(crew, "host@example.no")).status_code == 303
        assert (await crew.get(base)).status_code == 409
        assert (await crew.get(base + ".csv")).status_code == 409
        poll2, _ = await voted_and_closed(app, http, org)
        base = f"/admin/polls/{poll2['id']}/results"
        page = await crew.get(base)
        assert page.status_code == 200, page.text
        digest = (await http.get(f"/api/polls/{poll2['id']}/results", headers=org)).json()["digest"]
        assert digest in page.text and NOTE in page.text and "print.css" in page.text
        exported = (await crew.get(base + ".json")).json()
        assert exported["digest"] == digest and exported["ballots"] == 6
        assert exported["excluded"] == 1 and exported["winners"][0] == poll2["finalists"][0]["id"]
        sheet = await crew.get(base + ".csv")
        assert sheet.headers["content-type"].startswith("text/csv")
        assert f'filename="results-{poll2["code"]}.csv"' in sheet.headers["content-disposition"]
        rows = _csv_rows(sheet.text)
        assert rows[0] == ["place", "finalist_id", "finalist", "owner", "score", "winner"]
        assert rows[1][2:] == ["Alfa", "", "3", "1"]
        assert ["digest", digest] in rows and ["ballots", "6"] in rows
    async with public(http) as anyone:
        assert (await anyone.get(base)).status_code != 200
        assert (await anyone.get(base + ".json")).status_code != 200
