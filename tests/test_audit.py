"""The audit log as people and scripts meet it: every poll action through the API is on
record, `GET /api/audit` pages through the log, the audit page reads only what it shows,
and two clicks on "make the finale poll" in two processes make one poll."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from live.contest.editions import Edition, Stage
from live.contest.records import Contest
from live.contest.selection import Selection
from live.store import Store, make_store
from live.store.models import AuditEntry, Role
from live.tokens import ContestLinks
from live.web.auth import hash_password
from tests.conftest import api_headers, create_poll, log_in, services_of
from tests.support.contest import idea_form
from tests.support.process import ServerProcess
from tests.test_admin import csrf_of, logged_in
from tests.test_api import vote
from tests.test_contest_records import EDITION, Clock, answers_of

pytestmark = pytest.mark.asyncio

ORGANISER = "org@example.no"


async def test_every_poll_action_through_the_api_is_on_record(
    app: Starlette, client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    host = await api_headers(app, "host@example.no", Role.HOST)
    names = [{"name": "Alfa"}, {"name": "Bravo"}, {"name": "Charlie"}]
    poll = await create_poll(client, organiser, finalists=names, winners=1)
    url = f"/api/polls/{poll['id']}"
    steps: list[tuple[str, str, str, dict[str, Any] | None]] = [
        ("put", "", ORGANISER, {"title": "Finalen 2026", "finalists": names, "winners": 1}),
        ("post", "/open", "host@example.no", None),
        ("post", "/open", ORGANISER, None),  # a repeat: harmless, and not on record again
        ("post", "/countdown", ORGANISER, {"seconds": 600}),
        ("post", "/hide-counts", "host@example.no", {"hidden": True}),
    ]
    for method, path, who, body in steps:
        headers = host if who == "host@example.no" else organiser
        answer = await client.request(method, url + path, json=body, headers=headers)
        assert answer.status_code == 200, answer.text
    a, b, _ = [f["id"] for f in poll["finalists"]]
    await vote(client, poll["ballot_url"], a)
    await vote(client, poll["ballot_url"], b)  # a tie for the one winning place
    for _ in range(2):
        assert (await client.post(f"{url}/close", headers=host)).status_code == 200
    tie = await client.post(f"{url}/ties", json={"rule": "lots", "order": [a, b]},
                            headers=organiser)  # fmt: skip
    assert tie.status_code == 201, tie.text
    assert (await client.post(f"{url}/reveal", headers=host)).status_code == 200
    shown = await client.post(f"{url}/show-results", json={"shown": True}, headers=organiser)
    assert shown.status_code == 200, shown.text

    entries = [e for e in await services_of(app).store.list_audit()
               if e.subject == f"poll:{poll['id']}"]  # fmt: skip
    assert [(e.actor, e.action) for e in entries] == [
        (ORGANISER, "poll.create"),
        (ORGANISER, "poll.update"),
        ("host@example.no", "poll.open"),
        (ORGANISER, "poll.countdown"),
        ("host@example.no", "poll.hide"),
        ("host@example.no", "poll.close"),
        (ORGANISER, "poll.tie"),
        ("host@example.no", "poll.reveal"),
        (ORGANISER, "poll.results"),
    ]
    assert entries[1].before["title"] == "Finalen" and entries[1].after["title"] == "Finalen 2026"
    assert entries[6].after["order"] in ([a, b], [b, a]) and entries[6].after["seed"]


async def test_the_api_reads_the_log_oldest_first_a_page_at_a_time(
    app: Starlette, client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    store = services_of(app).store
    for n in range(7):
        await store.append_audit(ORGANISER, "note", f"n:{n}", after={"n": n, "å": [n]})
    everything = await store.list_audit()
    read: list[dict[str, Any]] = []
    after, pages = 0, 0
    while True:
        answer = await client.get(f"/api/audit?after={after}&limit=3", headers=organiser)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        pages += 1
        read.extend(page["entries"])
        assert len(page["entries"]) <= 3
        after = page["next_after"]
        if not page["more"]:
            break
    assert pages == -(-len(everything) // 3)
    assert read == [_as_json(e) for e in everything]
    assert after == everything[-1].id
    later = (await client.get(f"/api/audit?after={after}", headers=organiser)).json()
    assert later == {"entries": [], "next_after": after, "more": False}
    default = (await client.get("/api/audit", headers=organiser)).json()
    assert [e["id"] for e in default["entries"]] == [e.id for e in everything]

    host = await api_headers(app, "host@example.no", Role.HOST)
    assert (await client.get("/api/audit", headers=host)).status_code == 403
    assert (await client.get("/api/audit")).status_code == 401
    refused = [("after=-1", "after"), ("after=%C2%B2", "after"), ("after=1e3", "after"),
               ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=x", "limit")]  # fmt: skip
    for query, field in refused:
        bad = await client.get(f"/api/audit?{query}", headers=organiser)
        assert bad.status_code == 400 and bad.json()["error"]["field"] == field, query


def _as_json(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": entry.at, "actor": entry.actor, "action": entry.action,
            "subject": entry.subject, "before": entry.before, "after": entry.after}  # fmt: skip


async def test_the_audit_page_reads_only_the_page_it_shows(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = services_of(app).store
    entries = 20_000
    for start in range(0, entries, 1000):
        await asyncio.gather(
            *(store.append_audit(ORGANISER, "note", f"n:{n}", after={"text": "x" * 200})
              for n in range(start, start + 1000))
        )  # fmt: skip
    read = {"entries": 0}

    def counting(name: str) -> None:
        method = getattr(store, name)

        async def count(*args: Any, **kwargs: Any) -> list[AuditEntry]:
            found: list[AuditEntry] = await method(*args, **kwargs)
            read["entries"] += len(found)
            return found

        monkeypatch.setattr(store, name, count)

    async with logged_in(app) as http:  # making the account is audited too
        newest = (await store.list_audit_before(limit=1))[0].id
        counting("list_audit")
        counting("list_audit_before")
        started = time.perf_counter()
        page = await http.get("/admin/audit")
        took = time.perf_counter() - started
        assert page.status_code == 200
        assert page.text.count('<tr><td class="num">') == 200
        assert read["entries"] <= 201, read  # the page and one more, to know of older ones
        assert f'<td class="num">{newest}</td>' in page.text
        assert f"?before={newest - 199}" in page.text
        older = await http.get(f"/admin/audit?before={newest - 199}")
        assert f'<tr><td class="num">{newest - 200}</td>' in older.text
        assert read["entries"] <= 402
        print(f"audit page with {entries} entries: {took * 1000:.0f} ms")


# Two processes, one finale poll ---------------------------------------------------------


@pytest_asyncio.fixture
async def redis_store(redis_url: str) -> AsyncIterator[Store]:
    store = make_store(redis_url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def ready_for_the_finale(store: Store, years: range) -> None:
    """Editions with three nominated ideas each, and those chosen as finalists."""
    clock = Clock(EDITION.submission_deadline)
    selection = Selection(Contest(store, ContestLinks("k" * 32), clock=clock))
    contest = selection.contest
    organiser = await store.get_user(ORGANISER)
    for year in years:
        clock.enter(Stage.SUBMISSION)
        edition = Edition(**{**EDITION.__dict__, "year": year, "title": f"Finalen {year}"})
        await contest.save_edition(ORGANISER, edition, 0)
        answers = [answers_of(idea_form(f"Idé {year}-{n}")) for n in range(3)]
        ideas = [await contest.save_idea(year, None, a, submit=True) for a in answers]
        clock.enter(Stage.NOMINATION)
        for idea in ideas:
            await selection.nominate(organiser, year, idea.id, "Begrunnelse")
        clock.enter(Stage.FINALE)
        await selection.select_finalists(ORGANISER, year, [i.id for i in ideas])


async def test_two_clicks_in_two_processes_make_one_finale_poll(
    tmp_path: Path, redis_url: str, redis_store: Store
) -> None:
    years = range(2040, 2048)
    await redis_store.create_user(ORGANISER, Role.ORGANISER, await hash_password("a long password"))
    await ready_for_the_finale(redis_store, years)
    secret = "shared secret key for every worker, 32+ characters"
    servers = [ServerProcess(tmp_path / name, store_url=redis_url, LIVE_SECRET_KEY=secret)
               for name in ("one", "two")]  # fmt: skip
    for server in servers:
        server.start()
    try:
        clients = [httpx.AsyncClient(base_url=server.url, timeout=10) for server in servers]
        for http in clients:
            assert (await log_in(http, ORGANISER)).status_code == 303
        for year in years:
            forms = [csrf_of((await http.get(f"/admin/contest/{year}/ranking")).text)
                     for http in clients]  # fmt: skip
            answers = await asyncio.gather(*(
                http.post(f"/admin/contest/{year}/finalists/poll", data={"csrf": csrf})
                for http, csrf in zip(clients, forms, strict=True)
            ))  # fmt: skip
            assert [a.status_code for a in answers] == [303, 303], [a.text for a in answers]
            assert answers[0].headers["location"] == answers[1].headers["location"]
        for http in clients:
            await http.aclose()
    finally:
        for server in servers:
            server.stop()
    polls = await redis_store.list_polls()
    assert sorted(p.title for p in polls) == [f"Finalen {year}" for year in years]
    created = [e for e in await redis_store.list_audit() if e.action == "poll.create"]
    assert sorted(e.subject for e in created) == sorted(f"poll:{p.id}" for p in polls)
    assert {e.actor for e in created} == {ORGANISER}
