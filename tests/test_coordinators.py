"""A network's coordinator over HTTP: the ideas filtered by state with counts, the filter
kept in the URL, and two or three ideas compared side by side (more: a clear error)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from live.contest.editions import OSLO
from live.contest.nominations import check_compared, check_filter, filter_counts
from live.errors import BadRequest
from live.store.models import Role
from live.web.auth import hash_password
from tests.conftest import BASE_URL, log_in, services_of
from tests.support.contest import idea_form

YEAR = 2033
ROGALAND = "digi-rogaland"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def new_client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers={"Accept-Language": "en"}
    )


async def logged_in(
    app: Starlette, email: str, role: Role, network: str | None = None
) -> httpx.AsyncClient:
    store = services_of(app).store
    await store.create_user(email, role, await hash_password("a long password"), network)
    http = new_client(app)
    assert (await log_in(http, email)).status_code == 303
    return http


async def save_deadlines(http: httpx.AsyncClient, days: tuple[float, ...], new: bool) -> None:
    path = "/admin/contest/new" if new else f"/admin/contest/{YEAR}/edit"
    page = (await http.get(path)).text
    version = re.search(r'id="version-field" value="(\d+)"', page)
    now = datetime.now(OSLO)
    names = ("submission_deadline", "nomination_deadline", "jury_deadline", "finale_at")
    data = {
        "csrf": csrf_of(page),
        "version": version.group(1) if version else "0",
        "year": str(YEAR),
        "title": "Idékonkurransen 2033",
        "finalists": "2",
        **{
            n: (now + timedelta(days=d)).strftime("%Y-%m-%dT%H:%M")
            for n, d in zip(names, days, strict=True)
        },
    }
    answer = await http.post(path, data=data)
    assert answer.status_code == 303, answer.text


@dataclass
class World:
    organiser: httpx.AsyncClient
    coordinator: httpx.AsyncClient
    ids: dict[str, int]


@pytest_asyncio.fixture
async def world(app: Starlette) -> AsyncIterator[World]:
    """Rogaland's ideas: Alfa nominated, Bravo and Charlie submitted, Delta withdrawn by its
    sender, Echo a draft; Oslo's idea elsewhere. The contest is in its nomination stage."""
    organiser = await logged_in(app, "arrangor@ks.no", Role.ORGANISER)
    coordinator = await logged_in(app, "digi@rogaland.no", Role.COORDINATOR, ROGALAND)
    await save_deadlines(organiser, (1, 2, 3, 4), new=True)
    links = {}
    async with new_client(app) as public:
        for title, owner, action in (
            ("Alfa", "m:1103", "submit"), ("Bravo", "m:1101", "submit"),
            ("Charlie", "m:1106", "submit"), ("Delta", "m:1108", "submit"),
            ("Echo", "m:1111", "draft"), ("Oslo", "m:0301", "submit"),
        ):  # fmt: skip
            form = {**idea_form(title, owner, need=f"Behovet til {title}."), "action": action}
            sent = await public.post(f"/ideer/{YEAR}/ny", data=form)
            assert sent.status_code == 303, sent.text
            links[title] = sent.headers["location"].split("?")[0]
        assert (await public.post(f"{links['Delta']}/trekk")).status_code == 303
    ids = {i.title: i.id for i in await services_of(app).contest.ideas(YEAR)}
    await save_deadlines(organiser, (-0.01, 2, 3, 4), new=False)
    page = f"/admin/contest/{YEAR}/ideas/{ids['Alfa']}"
    html = (await coordinator.get(page)).text
    nominated = await coordinator.post(
        f"{page}/nominate", data={"csrf": csrf_of(html), "rationale": "Stor nytte."}
    )
    assert nominated.status_code == 303, nominated.text
    try:
        yield World(organiser, coordinator, ids)
    finally:
        await organiser.aclose()
        await coordinator.aclose()


def titles_in(html: str) -> list[str]:
    return re.findall(r'<td class="idea-title">(?:<a href="[^"]+">)?([^<]+)', html)


def options_in(html: str) -> dict[str, str]:
    return dict(re.findall(r'<option value="([a-z]+)"(?: selected)?>([^<]+)</option>', html))


@pytest.mark.asyncio
async def test_a_coordinator_sees_their_networks_ideas_in_the_running_with_counts(
    world: World,
) -> None:
    answer = await world.coordinator.get(f"/admin/contest/{YEAR}/ideas")
    assert answer.status_code == 200, answer.text
    assert titles_in(answer.text) == ["Alfa", "Bravo", "Charlie"]  # no draft, no withdrawn
    assert options_in(answer.text) == {
        "current": "Submitted and nominated (3)",
        "submitted": "Submitted, not nominated (2)",
        "nominated": "Nominated (1)",
        "withdrawn": "Withdrawn by the sender (1)",
        "all": "All ideas (4)",
    }  # drafts are the sender's own until submitted: no filter for them
    assert '<option value="current" selected>' in answer.text
    assert 'role="region"' in answer.text and 'aria-labelledby="group-digi-rogaland"' in answer.text


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "titles"),
    [
        ("submitted", ["Bravo", "Charlie"]),
        ("nominated", ["Alfa"]),
        ("withdrawn", ["Delta"]),
        ("all", ["Alfa", "Bravo", "Charlie", "Delta"]),
    ],
)
async def test_the_filter_is_kept_in_the_url(world: World, status: str, titles: list[str]) -> None:
    answer = await world.coordinator.get(f"/admin/contest/{YEAR}/ideas?status={status}")
    assert answer.status_code == 200
    assert titles_in(answer.text) == titles
    assert f'<option value="{status}" selected>' in answer.text
    assert f'<input type="hidden" name="status" value="{status}">' in answer.text


@pytest.mark.asyncio
async def test_a_withdrawn_idea_is_named_but_not_opened_by_its_coordinator(world: World) -> None:
    answer = await world.coordinator.get(f"/admin/contest/{YEAR}/ideas?status=withdrawn")
    delta = world.ids["Delta"]
    assert "Withdrawn by the sender" in answer.text
    assert f"/ideas/{delta}" not in answer.text and f'value="{delta}"' not in answer.text
    opened = await world.coordinator.get(f"/admin/contest/{YEAR}/ideas/{delta}")
    assert opened.status_code == 404


@pytest.mark.asyncio
async def test_an_unknown_or_unoffered_filter_is_a_clear_400(world: World) -> None:
    for status in ("draft", "everything"):
        answer = await world.coordinator.get(f"/admin/contest/{YEAR}/ideas?status={status}")
        assert answer.status_code == 400
        assert "Choose a status from the list." in answer.text


@pytest.mark.asyncio
async def test_organisers_see_every_idea_and_can_filter_drafts(world: World) -> None:
    everything = await world.organiser.get(f"/admin/contest/{YEAR}/ideas")
    assert titles_in(everything.text) == ["Oslo", "Alfa", "Bravo", "Charlie", "Delta", "Echo"]
    assert options_in(everything.text)["all"] == "All ideas (6)"
    drafts = await world.organiser.get(f"/admin/contest/{YEAR}/ideas?status=draft")
    assert titles_in(drafts.text) == ["Echo"]
    assert options_in(drafts.text)["draft"] == "Drafts (1)"


def headings_of(article: str) -> list[str]:
    return re.findall(r"<(?:h3|dt)>([^<:]+)", article)


@pytest.mark.asyncio
async def test_two_or_three_ideas_side_by_side_with_answers_in_the_same_order(
    world: World,
) -> None:
    ids = world.ids
    picked = [ids["Charlie"], ids["Alfa"], ids["Bravo"]]
    query = "&".join(f"idea={n}" for n in picked)
    answer = await world.coordinator.get(f"/admin/contest/{YEAR}/compare?{query}&status=all")
    assert answer.status_code == 200, answer.text
    articles = answer.text.split('<article class="compare-idea"')[1:]
    assert len(articles) == 3 and 'class="compare compare-3"' in answer.text
    assert [re.search(r'idea-\d+-title"><a[^>]*>([^<]+)', a).group(1) for a in articles] == [  # type: ignore[union-attr]
        "Charlie",
        "Alfa",
        "Bravo",
    ]  # in the order ticked
    assert headings_of(articles[0]) == headings_of(articles[1]) == headings_of(articles[2])
    assert len(headings_of(articles[0])) > 10
    assert "Behovet til Charlie." in articles[0] and "Behovet til Bravo." in articles[2]
    assert "Stor nytte." in articles[1]  # Alfa's nomination rationale
    assert f'href="/admin/contest/{YEAR}/ideas?status=all"' in answer.text  # back, filter kept


@pytest.mark.asyncio
async def test_more_than_three_is_a_clear_error_with_the_ticks_kept(world: World) -> None:
    ids = world.ids
    four = [ids["Alfa"], ids["Bravo"], ids["Charlie"], ids["Alfa"], ids["Delta"]]
    query = "&".join(f"idea={n}" for n in four)
    answer = await world.organiser.get(f"/admin/contest/{YEAR}/compare?{query}")
    assert answer.status_code == 400
    assert "You can compare at most 3 ideas at a time; you ticked 4." in answer.text
    assert 'role="alert" id="compare-error"' in answer.text
    for title in ("Alfa", "Bravo", "Charlie", "Delta"):
        assert (
            f'value="{ids[title]}" id="pick-{ids[title]}" aria-describedby="compare-hint" checked'
            in answer.text
        )
    one = await world.coordinator.get(f"/admin/contest/{YEAR}/compare?idea={ids['Alfa']}")
    assert one.status_code == 400 and "Tick two or three ideas to compare them." in one.text
    odd = await world.coordinator.get(f"/admin/contest/{YEAR}/compare?idea=x&idea=1")
    assert odd.status_code == 400
    flood = "&".join(f"idea={n}" for n in range(60))
    many = await world.coordinator.get(f"/admin/contest/{YEAR}/compare?{flood}")
    assert many.status_code == 400 and "you ticked 60." in many.text


@pytest.mark.asyncio
async def test_a_coordinator_compares_only_ideas_they_may_see(world: World) -> None:
    ids = world.ids
    for other in ("Oslo", "Delta", "Echo"):
        query = f"idea={ids['Alfa']}&idea={ids[other]}"
        answer = await world.coordinator.get(f"/admin/contest/{YEAR}/compare?{query}")
        assert answer.status_code == 404, other


@pytest.mark.asyncio
async def test_the_jury_and_the_public_cannot_compare(app: Starlette, world: World) -> None:
    jury = await logged_in(app, "jury@ks.no", Role.JURY)
    query = f"idea={world.ids['Alfa']}&idea={world.ids['Bravo']}"
    assert (await jury.get(f"/admin/contest/{YEAR}/compare?{query}")).status_code == 403
    async with new_client(app) as public:
        answer = await public.get(f"/admin/contest/{YEAR}/compare?{query}")
        assert answer.status_code == 303  # to the login page
    await jury.aclose()


def test_the_rules_without_http() -> None:
    assert check_compared([3, 1, 3]) == [3, 1]
    with pytest.raises(BadRequest):
        check_compared([1, 2, 3, 4])
    with pytest.raises(BadRequest):
        check_compared([])
    assert check_filter(None, ["current", "all"], "current") == "current"
    with pytest.raises(BadRequest):
        check_filter("draft", ["current", "all"], "current")
    counts = filter_counts(["nominated", "submitted", "withdrawn", "draft"], ["current", "all"])
    assert counts == {"current": 2, "all": 4}
