"""A poll's settings (who may vote, approval's k, the tie rule, the expected voters) and
the stage's order: the rules, the API on both backends, and the poll form."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from live.config import Settings
from live.errors import BadRequest, Conflict
from live.finale import polls, stage_order
from live.server import create_app
from live.store.models import (
    Eligibility,
    Finalist,
    LockedResult,
    Poll,
    PollSettings,
    PollStatus,
    Role,
    TieRule,
)
from live.tally import Method
from tests.conftest import BASE_URL, FINALISTS, api_headers, log_in, make_user, services_of

FIVE = [{"name": name} for name in ("A", "B", "C", "D", "E")]


# The rules (pure) ---------------------------------------------------------------------


def draft(method: str = "single", **settings: object) -> Any:
    return polls.check_draft("Finalen", method, None, FIVE, settings)


def test_the_defaults_are_open_lots_and_no_k() -> None:
    made = polls.check_draft("Finalen", None, None, FIVE)
    assert made.settings == PollSettings(Eligibility.OPEN, None, TieRule.LOTS, None)
    blank = draft(eligibility="", max_choices="", tie_rule=None, expected_voters="")
    assert blank.settings == made.settings


def test_every_setting_is_kept() -> None:
    made = draft("approval", eligibility="badge", max_choices=2, tie_rule="decision",
                 expected_voters=800)  # fmt: skip
    assert made.method is Method.APPROVAL
    assert made.settings == PollSettings(Eligibility.BADGE, 2, TieRule.DECISION, 800)
    from_form = draft("approval", max_choices="4", expected_voters=" 100000 ")
    assert from_form.settings.max_choices == 4 and from_form.settings.expected_voters == 100_000


@pytest.mark.parametrize(
    ("method", "settings", "field"),
    [
        ("approval", {}, "max_choices"),
        ("approval", {"max_choices": 0}, "max_choices"),
        ("approval", {"max_choices": 5}, "max_choices"),  # k must be below the finalists
        ("approval", {"max_choices": "two"}, "max_choices"),
        ("approval", {"max_choices": True}, "max_choices"),
        ("approval", {"max_choices": 2.0}, "max_choices"),
        ("single", {"max_choices": 1}, "max_choices"),
        ("ranked", {"max_choices": "3"}, "max_choices"),
        ("single", {"eligibility": "everyone"}, "eligibility"),
        ("single", {"eligibility": 1}, "eligibility"),
        ("single", {"tie_rule": "coin"}, "tie_rule"),
        ("single", {"expected_voters": 0}, "expected_voters"),
        ("single", {"expected_voters": 100_001}, "expected_voters"),
        ("single", {"expected_voters": "-5"}, "expected_voters"),
        ("single", {"expected_voters": "٣"}, "expected_voters"),
        ("single", {"expected_voters": False}, "expected_voters"),
        ("borda", {}, "method"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(
    method: str, settings: dict[str, object], field: str
) -> None:
    with pytest.raises(BadRequest) as refused:
        draft(method, **settings)
    assert refused.value.field == field
    assert field in str(refused.value) or field == "method"


def test_the_k_message_says_the_range() -> None:
    with pytest.raises(BadRequest, match="from 1 to 4"):
        draft("approval", max_choices=9)


def test_a_tie_rule_other_than_the_announced_one_is_refused() -> None:
    poll = make_poll(TieRule.DECISION)
    with pytest.raises(Conflict, match="recorded decision") as refused:
        polls.make_resolution(poll, locked_tie(poll), "lots", [1, 2], "", "org@ks.no")
    assert refused.value.field == "rule"
    lots_poll = make_poll(TieRule.LOTS)
    with pytest.raises(Conflict, match="drawing lots"):
        polls.make_resolution(lots_poll, locked_tie(lots_poll), "decision", [1, 2], "J", "o")
    made = polls.make_resolution(poll, locked_tie(poll), "decision", [2, 1], "Jury", "o")
    assert made.order == (2, 1) and made.rule is TieRule.DECISION
    drawn = polls.make_resolution(lots_poll, locked_tie(lots_poll), "lots", [1, 2], "", "o")
    assert drawn.seed and sorted(drawn.order) == [1, 2]


def make_poll(rule: TieRule) -> Poll:
    finalists = tuple(Finalist(i, f"F{i}", "", "") for i in (1, 2, 3))
    return Poll(1, "ABCDEF", "T", Method.SINGLE, 1, PollStatus.CLOSED, False, 0, 3, finalists,
                "2026-01-01T00:00:00+00:00", None, None,
                settings=PollSettings(tie_rule=rule))  # fmt: skip


def locked_tie(poll: Poll) -> LockedResult:
    counts = (((1,), 2), ((2,), 2), ((3,), 1))
    return LockedResult(poll.id, poll.method, poll.finalist_ids, counts, "now", ())


def test_a_note_is_required_and_bounded() -> None:
    assert polls.check_note("  Jury chair \n and host ") == "Jury chair and host"
    for bad in (None, "", "   ", 5, "x" * 501):
        with pytest.raises(BadRequest) as refused:
            polls.check_note(bad)
        assert refused.value.field == "note"


# The stage order (pure) --------------------------------------------------------------


def test_a_seeded_stage_order_is_a_repeatable_permutation() -> None:
    ranking = [31, 7, 12, 5, 19]  # the jury's order
    drawn = stage_order.seeded_order(ranking, "fixed seed")
    assert sorted(drawn) == sorted(ranking)
    assert drawn == stage_order.seeded_order(list(reversed(ranking)), "fixed seed")
    assert list(drawn) != ranking


def test_every_finalist_is_first_about_as_often() -> None:
    """2,000 seeded draws of five: each finalist is first 400 times on average; a fair
    draw keeps every count within 400 ± 80 (about 4.5 standard deviations)."""
    firsts = Counter(stage_order.seeded_order([1, 2, 3, 4, 5], f"s{n}")[0] for n in range(2000))
    assert set(firsts) == {1, 2, 3, 4, 5}
    assert all(320 <= number <= 480 for number in firsts.values()), firsts


# The API on both backends ----------------------------------------------------------


@pytest_asyncio.fixture
async def app(make_settings: Callable[..., Settings], store_url: str) -> AsyncIterator[Starlette]:
    application = create_app(make_settings(LIVE_STORE_URL=store_url))
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture
async def api(app: Starlette) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    headers = await api_headers(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http, headers


Api = tuple[httpx.AsyncClient, dict[str, str]]
SETTINGS = {"eligibility": "badge", "method": "approval", "max_choices": 2,
            "tie_rule": "decision", "expected_voters": 250}  # fmt: skip


@pytest.mark.asyncio
async def test_settings_round_trip_and_are_fixed_once_open(api: Api) -> None:
    http, headers = api
    made = await http.post("/api/polls", json={"title": "F", "finalists": FINALISTS, **SETTINGS},
                           headers=headers)  # fmt: skip
    assert made.status_code == 201, made.text
    poll = made.json()
    assert {key: poll[key] for key in SETTINGS} == SETTINGS and poll["choice_limit"] == 2
    again = await http.get(f"/api/polls/{poll['id']}", headers=headers)
    assert {key: again.json()[key] for key in SETTINGS} == SETTINGS

    plain = {"title": "F", "finalists": FINALISTS}
    edited = await http.put(f"/api/polls/{poll['id']}", json=plain, headers=headers)
    assert edited.status_code == 200
    body = edited.json()
    assert (body["eligibility"], body["method"], body["max_choices"], body["tie_rule"]) == (
        "open", "single", None, "lots",
    )  # fmt: skip
    assert body["choice_limit"] == 1 and body["expected_voters"] is None
    ranked = await http.put(f"/api/polls/{poll['id']}", json={**plain, "method": "ranked"},
                            headers=headers)  # fmt: skip
    assert ranked.json()["choice_limit"] == 3

    await http.post(f"/api/polls/{poll['id']}/open", headers=headers)
    for change in ({"tie_rule": "decision"}, {"eligibility": "badge"}, {}):
        late = await http.put(f"/api/polls/{poll['id']}", json={**plain, **change},
                              headers=headers)  # fmt: skip
        assert late.status_code == 409
    still = (await http.get(f"/api/polls/{poll['id']}", headers=headers)).json()
    assert still["tie_rule"] == "lots" and still["method"] == "ranked"


@pytest.mark.asyncio
async def test_the_expected_voters_change_in_any_status(api: Api, app: Starlette) -> None:
    http, headers = api
    poll = (await http.post("/api/polls", json={"title": "F", "finalists": FINALISTS},
                            headers=headers)).json()  # fmt: skip
    url = f"/api/polls/{poll['id']}/expected-voters"
    for step in ("draft", "open", "close"):
        if step != "draft":
            await http.post(f"/api/polls/{poll['id']}/{step}", headers=headers)
        answer = await http.post(url, json={"expected_voters": 800}, headers=headers)
        assert answer.status_code == 200 and answer.json()["expected_voters"] == 800
        cleared = await http.post(url, json={"expected_voters": None}, headers=headers)
        assert cleared.status_code == 200 and cleared.json()["expected_voters"] is None
    for bad in ({}, {"expected_voters": 0}, {"expected_voters": "many"},
                {"expected_voters": 100_001}, {"expected_voters": True}):  # fmt: skip
        refused = await http.post(url, json=bad, headers=headers)
        assert refused.status_code == 400 and refused.json()["error"]["field"] == "expected_voters"
    host = await api_headers(app, "host@example.no", role=Role.HOST)
    assert (await http.post(url, json={"expected_voters": 5}, headers=host)).status_code == 403
    missing = await http.post("/api/polls/999/expected-voters", json={"expected_voters": 5},
                              headers=headers)  # fmt: skip
    assert missing.status_code == 404
    actions = [e.action for e in await services_of(app).store.list_audit()]
    assert actions.count("poll.expected_voters") == 6


@pytest.mark.asyncio
async def test_the_stage_order_is_chosen_or_drawn_while_a_draft(api: Api, app: Starlette) -> None:
    http, headers = api
    poll = (await http.post("/api/polls", json={"title": "F", "finalists": FINALISTS,
                                                "tie_rule": "decision"},
                            headers=headers)).json()  # fmt: skip
    url = f"/api/polls/{poll['id']}/stage-order"
    ids = [f["id"] for f in poll["finalists"]]
    names = {f["id"]: f["name"] for f in poll["finalists"]}
    wanted = [ids[4], ids[2], ids[0], ids[1], ids[3]]
    chosen = await http.post(url, json={"order": wanted}, headers=headers)
    assert chosen.status_code == 200, chosen.text
    body = chosen.json()
    assert [f["name"] for f in body["finalists"]] == [names[i] for i in wanted]
    assert body["finalists"][1]["pitch"] == "" and body["tie_rule"] == "decision"
    assert len({f["id"] for f in body["finalists"]}) == 5  # ids may change: these are current
    store = services_of(app).store
    update = [e for e in await store.list_audit() if e.action == "poll.update"][-1]
    assert update.after["finalists"] == [names[i] for i in wanted]
    assert update.before["finalists"] == [f["name"] for f in FINALISTS]

    new_ids = [f["id"] for f in body["finalists"]]
    for bad in ({"order": new_ids[:4]}, {"order": [*new_ids, new_ids[0]]},
                {"order": [*new_ids[:4], 999]}, {"order": "A,B"}, {}, {"draw": False},
                {"draw": "yes"}, {"draw": True, "order": new_ids}):  # fmt: skip
        refused = await http.post(url, json=bad, headers=headers)
        assert refused.status_code == 400, bad
        assert refused.json()["error"]["field"] == "order"

    seen = set()
    for _ in range(12):  # 120 orders of five: twelve draws all alike would be a broken draw
        drawn = await http.post(url, json={"draw": True}, headers=headers)
        assert drawn.status_code == 200
        order = tuple(f["name"] for f in drawn.json()["finalists"])
        assert sorted(order) == sorted(names.values())
        seen.add(order)
    assert len(seen) > 1

    await http.post(f"/api/polls/{poll['id']}/open", headers=headers)
    late = await http.post(url, json={"draw": True}, headers=headers)
    assert late.status_code == 409
    opened = (await http.get(f"/api/polls/{poll['id']}", headers=headers)).json()
    late_order = [f["id"] for f in opened["finalists"]]
    refused = await http.post(url, json={"order": late_order[::-1]}, headers=headers)
    assert refused.status_code == 409


# The poll form ------------------------------------------------------------------------


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def form(csrf: str, **extra: str) -> dict[str, str]:
    return {"csrf": csrf, "title": "Finalen", "method": "single", "winners": "2",
            "name_1": "Alfa", "name_2": "Bravo", "name_3": "Charlie", "max_choices": "2",
            "expected_voters": "", **extra}  # fmt: skip


@pytest.mark.asyncio
async def test_the_poll_form_sets_and_shows_every_setting(app: Starlette) -> None:
    await make_user(app, "org@example.no", Role.ORGANISER)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as web:
        await log_in(web, "org@example.no")
        page = await web.get("/admin/polls/new")
        assert "Who may vote" in page.text or "Hvem kan stemme" in page.text
        assert 'value="approval"' in page.text and 'name="max_choices"' in page.text
        assert 'name="tie_rule"' in page.text and 'name="expected_voters"' in page.text
        assert "poll_form.js" in page.text
        csrf = csrf_of(page.text)
        # k stays on the form for single (no script): it is ignored there, not refused
        single = await web.post("/admin/polls/new", data=form(csrf))
        assert single.status_code == 303
        store = services_of(app).store
        first = (await store.list_polls())[0]
        assert first.settings == PollSettings() and first.method is Method.SINGLE

        bad = await web.post("/admin/polls/new", data=form(csrf, method="approval",
                                                           max_choices="3"))  # fmt: skip
        assert bad.status_code == 400 and 'id="max_choices-error"' in bad.text
        assert 'aria-invalid="true"' in bad.text and 'value="approval" checked' in bad.text

        made = await web.post("/admin/polls/new", data=form(
            csrf, method="approval", max_choices="2", eligibility="badge", tie_rule="decision",
            expected_voters="300"))  # fmt: skip
        assert made.status_code == 303
        poll = (await store.list_polls())[0]
        assert poll.settings == PollSettings(Eligibility.BADGE, 2, TieRule.DECISION, 300)
        edit = await web.get(f"/admin/polls/{poll.id}/edit")
        for checked in ('value="badge" checked', 'value="approval" checked',
                        'value="decision" checked', 'value="300"'):  # fmt: skip
            assert re.search(checked.replace(" checked", "[^>]* checked"), edit.text), checked
        assert "Draw the stage order" in edit.text or "Trekk" in edit.text


@pytest.mark.asyncio
async def test_the_form_draws_the_stage_order_of_a_draft(app: Starlette) -> None:
    await make_user(app, "org@example.no", Role.ORGANISER)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as web:
        await log_in(web, "org@example.no")
        csrf = csrf_of((await web.get("/admin/polls/new")).text)
        names = {f"name_{n}": f"F{n}" for n in range(1, 9)}
        assert (await web.post("/admin/polls/new", data=form(csrf, **names))).status_code == 303
        store = services_of(app).store
        poll = (await store.list_polls())[0]
        url = f"/admin/polls/{poll.id}/edit/draw-order"
        assert (await web.post(url, data={"csrf": "wrong"})).status_code == 403
        orders = set()
        for _ in range(5):
            drawn = await web.post(url, data={"csrf": csrf})
            assert drawn.status_code == 303
            assert drawn.headers["location"] == f"/admin/polls/{poll.id}/edit?drawn=1"
            now = await store.get_poll(poll.id)
            assert sorted(f.name for f in now.finalists) == sorted(names.values())
            orders.add(tuple(f.name for f in now.finalists))
        assert len(orders) > 1  # 8! orders: five draws all alike would be a broken draw
        page = await web.get(f"/admin/polls/{poll.id}/edit?drawn=1")
        assert 'role="status"' in page.text
        await store.open_poll(poll.id, actor="test")
        assert (await web.post(url, data={"csrf": csrf})).status_code == 409


@pytest.mark.asyncio
async def test_the_dashboard_links_each_poll_s_own_pages(app: Starlette) -> None:
    store = services_of(app).store
    badge = await store.create_poll(
        polls.check_draft("Med kort", None, None, FIVE, {"eligibility": "badge"}), actor="t"
    )
    closed = await store.create_poll(polls.check_draft("Ferdig", None, None, FIVE), actor="t")
    await store.open_poll(closed.id, actor="t")
    await store.close_poll(closed.id, actor="t")
    draft = await store.create_poll(polls.check_draft("Utkast", None, None, FIVE), actor="t")
    await make_user(app, "org@example.no", Role.ORGANISER)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as web:
        await log_in(web, "org@example.no")
        page = (await web.get("/admin")).text
    assert f'href="/admin/polls/{badge.id}/badges"' in page
    assert f'href="/admin/polls/{closed.id}/results"' in page
    assert f'href="/p/{closed.code}/bulletin"' in page
    assert f"/admin/polls/{draft.id}/" not in page  # a draft has no pages beside its console


@pytest.mark.asyncio
async def test_the_tie_controls_offer_only_the_announced_rule(app: Starlette) -> None:
    store = services_of(app).store
    made = {}
    for rule in ("lots", "decision"):  # closed without ballots: all five tie for first
        poll = await store.create_poll(
            polls.check_draft(rule, None, None, FIVE, {"tie_rule": rule}), actor="t"
        )
        await store.open_poll(poll.id, actor="t")
        await store.close_poll(poll.id, actor="t")
        made[rule] = poll.id
    for role in (Role.ORGANISER, Role.HOST):
        await make_user(app, f"{role.value}@example.no", role)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL
        ) as web:
            await log_in(web, f"{role.value}@example.no")
            lots = (await web.get(f"/admin/polls/{made['lots']}/ties")).text
            decision = (await web.get(f"/admin/polls/{made['decision']}/ties")).text
        assert 'name="rule" value="lots"' in lots
        assert 'name="rule" value="decision"' not in lots
        assert 'name="rule" value="lots"' not in decision
        if role is Role.ORGANISER:
            assert 'name="rule" value="decision"' in decision and 'name="note"' in decision
        else:
            assert 'name="rule" value="decision"' not in decision
