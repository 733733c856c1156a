"""The jury's workflow: assignments, automatic conflicts of interest and their recorded
overrides, blind scoring, the ranking that counts only what may count, the progress grid
with its reminder mail (a real SMTP server), and the sheet on a phone."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from starlette.applications import Starlette

from live import i18n
from live.config import Settings
from live.contest.editions import Stage, check_edition
from live.contest.ideas import check_idea
from live.contest.jury import Criterion, PairState
from live.contest.jury_work import ASSIGNMENTS, JuryWork
from live.contest.organisations import Directory
from live.contest.records import Contest, Idea
from live.contest.selection import Selection
from live.errors import BadRequest, Conflict
from live.server import create_app
from live.store import Store
from live.store.models import Role, User
from live.tokens import ContestLinks
from tests.conftest import BASE_URL, log_in, make_user, services_of
from tests.support.contest import idea_form
from tests.support.redis_server import free_port

pytestmark = pytest.mark.asyncio

YEAR = 2022
CRITERIA = (Criterion("need", "Behov", 2.0, 1, 5), Criterion("risk", "Risiko", 1.0, 0, 10))
DATES = {
    "submission_deadline": "2022-03-26T23:59",
    "nomination_deadline": "2022-04-29T12:00",
    "jury_deadline": "2022-05-20T12:00",
    "finale_at": "2022-06-01T10:00",
}
EDITION = check_edition(str(YEAR), "Idékonkurransen 2022", "3", DATES, CRITERIA)
ORGANISER = "org@ks.no"
FULL = {"need": "5", "risk": "10"}
REMINDER_SUBJECT = "Reminder: your jury scores for %(edition)s"


class Clock:
    def __init__(self) -> None:
        self.now = EDITION.submission_deadline - timedelta(days=1)

    def __call__(self) -> datetime:
        return self.now

    def enter(self, stage: Stage) -> None:
        self.now = EDITION.start_of(stage) + timedelta(minutes=1)


async def nominees(contest: Contest, selection: Selection, clock: Clock) -> list[Idea]:
    """Two nominees in the jury stage: one from Digi Rogaland, one from Digi Vestland."""
    ideas = []
    for title, owner in (("Rogalands idé", "m:1103"), ("Bergens idé", "m:4601")):
        answers, errors = check_idea(idea_form(title, owner), Directory.shipped(), submitting=True)
        assert errors == {}
        ideas.append(await contest.save_idea(YEAR, None, answers, submit=True))
    organiser = await contest.store.create_user("nominator@ks.no", Role.ORGANISER, None)
    clock.enter(Stage.NOMINATION)
    for idea in ideas:
        await selection.nominate(organiser, YEAR, idea.id, "Begrunnelse")
    clock.enter(Stage.JURY)
    return ideas


@pytest_asyncio.fixture
async def world(store: Store) -> tuple[JuryWork, Clock, list[Idea]]:
    clock = Clock()
    contest = Contest(store, ContestLinks("k" * 32), clock=clock)
    await contest.save_edition(ORGANISER, EDITION, 0)
    selection = Selection(contest)
    return JuryWork(selection), clock, await nominees(contest, selection, clock)


# Conflicts, assignments and the ranking on every backend --------------------------------


async def test_a_member_from_the_nominees_network_is_left_out_until_an_override(
    world: tuple[JuryWork, Clock, list[Idea]],
) -> None:
    work, _, (rogaland, bergen) = world
    store, selection = work.store, work.selection
    anne = await store.create_user("anne@ks.no", Role.JURY, None, "digi-rogaland")  # account
    bjorn = await store.create_user("bjorn@ks.no", Role.JURY, None)
    carl = await store.create_user("carl@ks.no", Role.JURY, None)
    board = await work.board(YEAR)
    await work.save_assignments(ORGANISER, YEAR, set(), set(), {carl.id: "digivestland"},
                                board.version)  # fmt: skip
    for member in (anne, bjorn, carl):
        for idea in (rogaland, bergen):
            await selection.save_sheet(member, YEAR, idea.id, FULL, "", conflict=False)

    board = await work.board(YEAR)
    assert board.state(rogaland, anne) is PairState.NETWORK_CONFLICT  # the account's network
    assert board.state(bergen, carl) is PairState.NETWORK_CONFLICT  # set by the organiser
    assert board.state(bergen, anne) is PairState.SCORED
    ranked = {row.idea.id: row for row in board.ranking()}
    assert ranked[rogaland.id].result is not None and ranked[rogaland.id].result.members == 2
    assert ranked[rogaland.id].conflicts == 1 and ranked[bergen.id].conflicts == 1
    assert not board.sees_others(rogaland, anne)

    with pytest.raises(BadRequest, match="reason"):
        await work.override(ORGANISER, YEAR, rogaland.id, anne.id, "   ")
    with pytest.raises(Conflict, match="not from the nominee's network"):
        await work.override(ORGANISER, YEAR, rogaland.id, bjorn.id, "Ingen grunn")
    await work.override(ORGANISER, YEAR, rogaland.id, anne.id, "Jobber ikke lenger der")
    board = await work.board(YEAR)
    assert board.state(rogaland, anne) is PairState.SCORED
    assert board.ranking()[0].result is not None
    assert {r.idea.id: r.result.members for r in board.ranking() if r.result}[rogaland.id] == 3
    decided = board.overridden(rogaland, anne)
    assert decided is not None and (decided.by, decided.reason) == (
        ORGANISER,
        "Jobber ikke lenger der",
    )
    entries = [e for e in await store.list_audit() if e.action == "jury.override"]
    assert len(entries) == 1 and entries[0].actor == ORGANISER
    assert entries[0].after == {"idea_id": rogaland.id, "member": "anne@ks.no",
                                "reason": "Jobber ikke lenger der"}  # fmt: skip

    await work.override(ORGANISER, YEAR, rogaland.id, anne.id, None)  # withdrawn, on record
    board = await work.board(YEAR)
    assert board.state(rogaland, anne) is PairState.NETWORK_CONFLICT
    withdrawn = [e for e in await store.list_audit() if e.action == "jury.override"][-1]
    assert withdrawn.after is None and withdrawn.before is not None


async def test_only_assigned_members_count_and_a_stale_form_is_refused(
    world: tuple[JuryWork, Clock, list[Idea]],
) -> None:
    work, _, (rogaland, bergen) = world
    store, selection = work.store, work.selection
    anne = await store.create_user("anne@ks.no", Role.JURY, None)
    bjorn = await store.create_user("bjorn@ks.no", Role.JURY, None)
    await selection.save_sheet(anne, YEAR, rogaland.id, {"need": "1", "risk": "0"}, "", False)
    await selection.save_sheet(bjorn, YEAR, rogaland.id, FULL, "", False)
    board = await work.board(YEAR)
    shown = {(i.id, m.id) for i in board.nominees for m in board.members}
    checked = shown - {(rogaland.id, anne.id)}
    await work.save_assignments(ORGANISER, YEAR, shown, checked, {}, board.version)
    with pytest.raises(Conflict, match="changed the assignments"):
        await work.save_assignments(ORGANISER, YEAR, shown, shown, {}, board.version)

    board = await work.board(YEAR)
    assert board.state(rogaland, anne) is PairState.UNASSIGNED
    assert [i.id for i in board.assigned_to(anne)] == [bergen.id]
    (top, _) = board.ranking()
    assert top.idea.id == rogaland.id and top.result is not None
    assert top.result.members == 1 and top.result.score == pytest.approx(1.0)  # bjørn only
    later = await store.create_user("later@ks.no", Role.JURY, None)
    board = await work.board(YEAR)
    assert board.state(rogaland, later) is PairState.NOT_STARTED  # assigned to begin with
    assert [i.title for i in board.missing(later)] == ["Rogalands idé", "Bergens idé"]
    assert (await store.get_record(ASSIGNMENTS, str(YEAR))) is not None
    assert [e.action for e in await store.list_audit()].count("jury.assign") == 1


async def test_a_double_tap_claims_one_reminder(
    world: tuple[JuryWork, Clock, list[Idea]],
) -> None:
    work, _, _ = world
    anne = await work.store.create_user("anne@ks.no", Role.JURY, None)
    first, second = await asyncio.gather(
        work.claim_reminder(ORGANISER, YEAR, anne), work.claim_reminder("o2@ks.no", YEAR, anne)
    )
    assert sorted([first.fresh, second.fresh]) == [False, True]
    assert first.at == second.at
    again = await work.claim_reminder(ORGANISER, YEAR, anne)
    assert not again.fresh and again.next_at() > datetime.fromisoformat(again.at)
    assert (await work.reminders(YEAR))[anne.id].at == first.at


# Over HTTP, with a real mail server ----------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        found = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(found, EmailMessage)
        self.messages.append(found)
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


class Site:
    def __init__(self, app: Starlette, ideas: list[Idea], members: dict[str, User]) -> None:
        self.app, self.ideas, self.members = app, ideas, members

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE_URL)

    async def as_user(self, email: str) -> httpx.AsyncClient:
        http = self.client()
        assert (await log_in(http, email)).status_code == 303
        return http


async def make_site(settings: Settings) -> AsyncIterator[Site]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        contest, selection = services_of(app).contest, services_of(app).selection
        clock = Clock()
        contest.clock = clock
        await contest.save_edition(ORGANISER, EDITION, 0)
        ideas = await nominees(contest, selection, clock)
        await make_user(app, ORGANISER, Role.ORGANISER)
        members = {}
        for email in ("anne@ks.no", "bjorn@ks.no"):
            await make_user(app, email, Role.JURY)
            members[email] = await services_of(app).store.get_user(email)
        yield Site(app, ideas, members)


@pytest_asyncio.fixture
async def site(
    make_settings: Callable[..., Settings], inbox: tuple[Inbox, int]
) -> AsyncIterator[Site]:
    settings = make_settings(
        LIVE_SMTP_URL=f"smtp://127.0.0.1:{inbox[1]}", LIVE_MAIL_FROM="jury@ks.no"
    )
    async for found in make_site(settings):
        yield found


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def post_form(
    http: httpx.AsyncClient, page: str, action: str | None = None, **data: Any
) -> httpx.Response:
    html = (await http.get(page)).text
    return await http.post(action or page, data={"csrf": csrf_of(html), **data})


def subject_in(language: str) -> str:
    subject = i18n.load_catalogues()[language].gettext(REMINDER_SUBJECT)
    return subject % {"edition": EDITION.title}


def sheet_path(idea: Idea) -> str:
    return f"/admin/contest/{YEAR}/jury/{idea.id}"


async def test_the_sheet_shows_the_idea_first_and_every_invalid_score_at_once(
    site: Site,
) -> None:
    anne = await site.as_user("anne@ks.no")
    idea = site.ideas[0]
    page = (await anne.get(sheet_path(idea))).text
    assert page.index("Innbyggerne venter lenge") < page.index('name="score_need"')
    assert 'inputmode="numeric"' in page
    answer = await post_form(
        anne, sheet_path(idea), score_need="9", score_risk="2,5", comment="x" * 4001
    )
    assert answer.status_code == 400
    summary = answer.text.split('id="error-summary"')[1].split("</div>")[0]
    assert re.findall(r'href="#f-([a-z_]+)"', summary) == ["score_need", "score_risk", "comment"]
    assert 'id="f-score_need-error"' in answer.text and "fra 1 til 5" in answer.text
    assert 'id="f-score_risk-error"' in answer.text and "fra 0 til 10" in answer.text
    assert re.search(r'id="f-score_risk"[^>]*value="2,5"', answer.text)  # kept as typed
    assert re.search(r'id="f-score_need"[^>]*aria-invalid="true"', answer.text)
    assert await services_of(site.app).selection.sheets(YEAR) == []  # nothing saved


async def test_scores_are_blind_until_the_members_own_sheet_is_complete(site: Site) -> None:
    anne, bjorn = await site.as_user("anne@ks.no"), await site.as_user("bjorn@ks.no")
    idea = site.ideas[0]
    saved = await post_form(anne, sheet_path(idea), score_need="4", score_risk="7",
                            comment="Anne sin vurdering")  # fmt: skip
    assert saved.status_code == 303, saved.text
    before = (await bjorn.get(sheet_path(idea))).text
    assert "anne@ks.no" not in before and "Anne sin" not in before
    listing = (await bjorn.get(f"/admin/contest/{YEAR}/jury?lang=en")).text
    assert "Hidden until you have scored it" in listing and "73.3" not in listing
    partly = await post_form(bjorn, sheet_path(idea), score_need="2")
    assert partly.status_code == 303
    assert "anne@ks.no" not in (await bjorn.get(sheet_path(idea))).text  # partly: still blind
    await post_form(bjorn, sheet_path(idea), score_need="2", score_risk="3")
    after = (await bjorn.get(sheet_path(idea))).text
    others = after.split('id="others-heading"')[1]
    assert "anne@ks.no" in others and "bjorn@ks.no" not in others
    assert '<td class="num">73,3</td>' in others  # anne: (2 · 0.75 + 0.7) / 3
    listing = (await bjorn.get(f"/admin/contest/{YEAR}/jury?lang=en")).text
    assert listing.count("Hidden until you have scored it") == 1  # bjørn's other nominee
    assert "50.0" in listing  # the mean of anne 73.3 and bjørn 26.7, once bjørn has scored
    organiser = await site.as_user(ORGANISER)
    ranking = (await organiser.get(f"/admin/contest/{YEAR}/ranking?lang=en")).text
    assert "when its member is assigned to the nominee" in ranking  # says what counts


async def test_a_conflicted_member_cannot_score_until_an_override(site: Site) -> None:
    rogaland = site.ideas[0]
    anne = site.members["anne@ks.no"]
    organiser = await site.as_user(ORGANISER)
    assign = f"/admin/contest/{YEAR}/jury/assign"
    page = (await organiser.get(assign)).text
    shown = re.findall(r'name="shown" value="([0-9:]+)"', page)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version and len(shown) == 4
    saved = await organiser.post(assign, data={
        "csrf": csrf_of(page), "version": version.group(1), "shown": shown, "assigned": shown,
        f"network_{anne.id}": "digi-rogaland",
    })  # fmt: skip
    assert saved.status_code == 303, saved.text
    page = (await organiser.get(f"{assign}?lang=en")).text
    assert "Conflict: own network" in page

    member = await site.as_user("anne@ks.no")
    sheet = (await member.get(sheet_path(rogaland) + "?lang=en")).text
    assert "from your own network" in sheet
    assert re.search(r'name="score_need"[^>]*disabled', sheet)
    refused = await post_form(member, sheet_path(rogaland), **{"score_need": "5"})
    assert refused.status_code == 403
    listing = (await member.get(f"/admin/contest/{YEAR}/jury?lang=en")).text
    assert "Conflict: your own network" in listing

    no_reason = await post_form(organiser, assign, f"{assign}/override",
                                pair=f"{rogaland.id}:{anne.id}", reason=" ")  # fmt: skip
    assert no_reason.status_code == 400 and 'aria-invalid="true"' in no_reason.text
    pair = f"{rogaland.id}:{anne.id}"
    overridden = await post_form(
        organiser, assign, f"{assign}/override", pair=pair, reason="Sluttet i fjor"
    )
    assert overridden.status_code == 303
    assert "Sluttet i fjor" in (await organiser.get(assign)).text
    allowed = await post_form(member, sheet_path(rogaland), score_need="5", score_risk="9")
    assert allowed.status_code == 303, allowed.text


async def test_progress_shows_what_is_missing_and_a_double_tap_mails_one_reminder(
    site: Site, inbox: tuple[Inbox, int]
) -> None:
    bjorn = await site.as_user("bjorn@ks.no")
    saved = await post_form(bjorn, sheet_path(site.ideas[0]) + "?lang=nn",
                            sheet_path(site.ideas[0]) + "?lang=nn", score_need="3",
                            score_risk="5")  # fmt: skip
    assert saved.status_code == 303, saved.text
    organiser = await site.as_user(ORGANISER)
    progress = f"/admin/contest/{YEAR}/jury/progress"
    page = (await organiser.get(f"{progress}?lang=en")).text
    assert 'role="region"' in page and "Not started" in page and "Scored" in page
    assert "bjorn@ks.no: Bergens idé" in page
    assert "anne@ks.no: Rogalands idé, Bergens idé" in page

    bjorn_id, anne_id = site.members["bjorn@ks.no"].id, site.members["anne@ks.no"].id
    remind = f"{progress}/{bjorn_id}/remind"
    first = await post_form(organiser, progress, remind)
    second = await post_form(organiser, progress, remind)
    assert first.status_code == second.status_code == 303
    assert "again" not in first.headers["location"] and "again" in second.headers["location"]
    [mail] = inbox[0].messages  # one mail for two taps
    assert mail["To"] == "bjorn@ks.no" and mail["From"] == "jury@ks.no"
    body = str(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert "Bergens idé" in body and "Rogalands idé" not in body
    assert "20.05.2022 12:00" in body and f"{BASE_URL}/admin/contest/{YEAR}/jury" in body
    assert mail["Subject"] == subject_in("nn")  # bjørn's language, as he last used it
    work = JuryWork(services_of(site.app).selection)
    assert await work.language_of(site.members["bjorn@ks.no"]) == "nn"
    assert await work.language_of(site.members["anne@ks.no"]) is None
    told = (await organiser.get(first.headers["location"] + "&lang=en")).text
    assert "A reminder was mailed to bjorn@ks.no." in told
    again = (await organiser.get(second.headers["location"] + "&lang=en")).text
    assert "so no new mail was sent" in again

    await post_form(organiser, progress, f"{progress}/{anne_id}/remind")
    assert len(inbox[0].messages) == 2
    assert inbox[0].messages[1]["Subject"] == subject_in("nb")  # anne's is not known
    audit = [e.action for e in await services_of(site.app).store.list_audit()]
    assert audit.count("jury.remind") == 2


async def test_without_mail_the_page_says_the_reminder_did_not_go(
    make_settings: Callable[..., Settings],
) -> None:
    async for found in make_site(make_settings()):
        organiser = await found.as_user(ORGANISER)
        progress = f"/admin/contest/{YEAR}/jury/progress"
        member = found.members["anne@ks.no"].id
        answer = await post_form(organiser, progress, f"{progress}/{member}/remind")
        told = (await organiser.get(answer.headers["location"] + "&lang=en")).text
        assert "was not mailed" in told


@pytest.mark.parametrize("path", ["/jury/assign", "/jury/progress", "/ranking"])
async def test_only_organisers_see_the_jury_admin_pages(site: Site, path: str) -> None:
    member = await site.as_user("anne@ks.no")
    assert (await member.get(f"/admin/contest/{YEAR}{path}")).status_code == 403
    organiser = await site.as_user(ORGANISER)
    assert (await organiser.get(f"/admin/contest/{YEAR}{path}")).status_code == 200
