"""The public finalist page over HTTP: a preview for organisers, published (and taken
down) on record once the finalists are chosen, the finalists in the stage order of the
finale poll, a link to vote while it is open, and the ballot's link to the page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from live.config import Settings
from live.contest.finalist_page import FinaleLinks
from live.store.models import Role
from live.tokens import VoterToken
from tests.conftest import api_headers, create_poll, services_of
from tests.support.contest import idea_form
from tests.test_coordinators import YEAR, csrf_of, logged_in, new_client, save_deadlines

pytestmark = pytest.mark.asyncio

PUBLIC = f"/ideer/{YEAR}/finalister"
EDITION = f"/admin/contest/{YEAR}"
ACTION = f"{EDITION}/finalist-page"


@pytest.fixture(params=["sqlite", "redis"])
def settings(request: pytest.FixtureRequest, make_settings: Callable[..., Settings]) -> Settings:
    if request.param == "sqlite":
        return make_settings()
    return make_settings(LIVE_STORE_URL=request.getfixturevalue("redis_url"))


@dataclass
class World:
    app: Starlette
    organiser: httpx.AsyncClient
    ids: dict[str, int]


async def post_form(
    http: httpx.AsyncClient, page: str, target: str, /, **data: Any
) -> httpx.Response:
    """Post the form on `page` to `target`, the way a browser does (its CSRF token along)."""
    html = (await http.get(page)).text
    return await http.post(target, data={"csrf": csrf_of(html), **data})


@pytest_asyncio.fixture
async def world(app: Starlette) -> AsyncIterator[World]:
    """Three nominated ideas, the jury stage reached; no finalists chosen yet."""
    organiser = await logged_in(app, "arrangor@ks.no", Role.ORGANISER)
    await save_deadlines(organiser, (1, 2, 3, 4), new=True)
    async with new_client(app) as public:
        for title, owner in (("Alfa", "m:1103"), ("Bravo", "m:1101"), ("Charlie", "m:1106")):
            form = {**idea_form(title, owner, need=f"Behovet til {title}."), "action": "submit"}
            assert (await public.post(f"/ideer/{YEAR}/ny", data=form)).status_code == 303
    ids = {i.title: i.id for i in await services_of(app).contest.ideas(YEAR)}
    await save_deadlines(organiser, (-0.02, 2, 3, 4), new=False)
    for number in ids.values():
        page = f"{EDITION}/ideas/{number}"
        nominated = await post_form(organiser, page, f"{page}/nominate", rationale="Nytte.")
        assert nominated.status_code == 303, nominated.text
    await save_deadlines(organiser, (-0.02, -0.01, 3, 4), new=False)
    try:
        yield World(app, organiser, ids)
    finally:
        await organiser.aclose()


async def choose(world: World, *titles: str) -> None:
    picked = [str(world.ids[t]) for t in titles]
    ranking = f"{EDITION}/ranking"
    chosen = await post_form(world.organiser, ranking, f"{EDITION}/finalists/select", idea=picked)
    assert chosen.status_code == 303, chosen.text


def names_on(html: str) -> list[str]:
    return re.findall(r'<h2 id="finalist-\d+">([^<]+)</h2>', html)


async def test_unpublished_the_public_gets_404_and_organisers_a_preview(world: World) -> None:
    async with new_client(world.app) as public:
        missing = await public.get(PUBLIC)
        assert missing.status_code == 404
        assert f"There is no finalist page for {YEAR} yet." in missing.text
    preview = await world.organiser.get(PUBLIC)
    assert preview.status_code == 200
    assert 'id="preview-note"' in preview.text
    assert "The finalists have not been chosen yet." in preview.text
    await choose(world, "Charlie", "Alfa")
    preview = await world.organiser.get(PUBLIC)
    assert names_on(preview.text) == ["Charlie", "Alfa"]  # the selection's order
    assert "Behovet til Charlie." in preview.text and "Stavanger" in preview.text  # pitch, owner


async def test_publishing_needs_the_finalists_and_is_on_record(world: World) -> None:
    refused = await post_form(world.organiser, EDITION, ACTION, action="publish", place="")
    assert refused.status_code == 409
    assert "Choose the finalists before publishing their page." in refused.text
    await choose(world, "Bravo", "Charlie")
    place = "Clarion Hotel The Edge, Tromsø"
    published = await post_form(world.organiser, EDITION, ACTION, action="publish", place=place)
    assert published.status_code == 303
    assert published.headers["location"] == f"{EDITION}#finalist-page"
    async with new_client(world.app) as public:
        page = await public.get(PUBLIC)
        assert page.status_code == 200, page.text
        assert names_on(page.text) == ["Bravo", "Charlie"]
        assert place in page.text and "(Norwegian time)" in page.text
        assert 'id="preview-note"' not in page.text
        assert "vote now" not in page.text  # no poll yet
    edition = (await world.organiser.get(EDITION)).text
    assert "Take the page down" in edition and place in edition
    down = await post_form(world.organiser, EDITION, ACTION, action="unpublish")
    assert down.status_code == 303
    async with new_client(world.app) as public:
        assert (await public.get(PUBLIC)).status_code == 404
    again = await post_form(world.organiser, EDITION, ACTION, action="unpublish")
    assert again.status_code == 409 and "The finalist page is not published." in again.text
    audit = await services_of(world.app).store.list_audit()
    mine = [(e.action, e.subject) for e in audit if e.subject == f"finalists:{YEAR}:page"]
    assert mine == [("finalists.publish", f"finalists:{YEAR}:page"),
                    ("finalists.unpublish", f"finalists:{YEAR}:page")]  # fmt: skip


async def test_a_place_too_long_is_named_beside_its_field(world: World) -> None:
    await choose(world, "Bravo", "Charlie")
    answer = await post_form(world.organiser, EDITION, ACTION, action="publish", place="x" * 201)
    assert answer.status_code == 400
    assert 'id="f-place-error"' in answer.text and 'value="' + "x" * 201 + '"' in answer.text


async def test_only_organisers_publish(world: World) -> None:
    await choose(world, "Bravo", "Charlie")
    coordinator = await logged_in(world.app, "digi@rogaland.no", Role.COORDINATOR, "digi-rogaland")
    html = (await coordinator.get(EDITION)).text
    answer = await coordinator.post(ACTION, data={"csrf": csrf_of(html), "action": "publish"})
    assert answer.status_code == 403
    await coordinator.aclose()
    forged = await world.organiser.post(ACTION, data={"csrf": "forged", "action": "publish"})
    assert forged.status_code == 403
    async with new_client(world.app) as public:
        assert (await public.get(PUBLIC)).status_code == 404


async def test_the_finale_poll_orders_the_page_and_its_ballot_links_to_it(world: World) -> None:
    await choose(world, "Alfa", "Charlie")
    poll = await post_form(world.organiser, f"{EDITION}/ranking", f"{EDITION}/finalists/poll")
    assert poll.status_code == 303
    poll_id = int(poll.headers["location"].rsplit("/", 1)[1])
    store = services_of(world.app).store
    finale = await store.get_poll(poll_id)
    stage_order = [f.name for f in finale.finalists]
    async with new_client(world.app) as voter:
        ballot = await voter.get(f"/p/{finale.code}")
        assert ballot.status_code == 200 and PUBLIC not in ballot.text  # not published yet
    published = await post_form(world.organiser, EDITION, ACTION, action="publish", place="")
    assert published.status_code == 303
    async with new_client(world.app) as public:
        page = await public.get(PUBLIC)
        assert names_on(page.text) == stage_order  # the poll's stage order
        assert f"/p/{finale.code}" not in page.text  # the poll is not open yet
        headers = await api_headers(world.app)
        opened = await public.post(f"/api/polls/{poll_id}/open", headers=headers)
        assert opened.status_code == 200, opened.text
        page = await public.get(PUBLIC)
        assert f'href="/p/{finale.code}"' in page.text and "Voting is open: vote now" in page.text
        ballot = await public.get(f"/p/{finale.code}")
        assert f'<a href="{PUBLIC}">Read about the finalists</a>' in ballot.text
        other = await create_poll(public, headers)
        plain = await public.get(f"/p/{other['code']}")
        assert plain.status_code == 200 and "Read about the finalists" not in plain.text


async def test_the_ballot_asks_the_store_once_per_poll_not_per_vote(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = services_of(world.app).store
    await choose(world, "Alfa", "Bravo")
    assert (await post_form(world.organiser, EDITION, ACTION, action="publish")).status_code == 303
    poll = await post_form(world.organiser, f"{EDITION}/ranking", f"{EDITION}/finalists/poll")
    finale = await store.get_poll(int(poll.headers["location"].rsplit("/", 1)[1]))
    lookups = []
    real = store.list_records

    async def counted(kind: str) -> Any:
        lookups.append(kind)
        return await real(kind)

    monkeypatch.setattr(store, "list_records", counted)
    links = FinaleLinks(store)
    assert [await links.year_for(finale) for _ in range(50)] == [YEAR] * 50
    assert lookups == ["edition"]
    async with new_client(world.app) as voters:
        for _ in range(20):
            assert (await voters.get(f"/p/{finale.code}")).status_code == 200
    assert lookups.count("edition") == 2  # once more: the app's own cache, then memory
    opened = await store.open_poll(finale.id, actor="org@example.no")
    for number in range(5):  # each vote raises the poll's version
        await store.cast_ballot(VoterToken(finale.id, f"v{number}"), [finale.finalist_ids[0]], None)
        assert await links.year_for(await store.get_poll(finale.id)) == YEAR
    assert opened.version > finale.version
    assert lookups.count("edition") == 2
    links.forget()
    await links.year_for(finale)
    assert lookups.count("edition") == 3
