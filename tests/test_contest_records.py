"""Contest records and selection on every real backend: editions, ideas and their routing,
nominations (the limit of three under concurrency), jury sheets, finalists, the finale poll."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from live.contest.editions import Edition, Stage, check_edition
from live.contest.ideas import IdeaStatus, check_idea
from live.contest.jury import Criterion
from live.contest.organisations import COLLEGE_ID, Directory
from live.contest.records import RULES, Contest, Idea
from live.contest.selection import Selection
from live.errors import BadRequest, Conflict, Forbidden, NotFound
from live.finale.stage_order import seeded_order
from live.store import Store
from live.store.base import StaleRecord
from live.store.models import PollStatus, Record, Role, User
from live.tally import Method
from live.tokens import ContestLinks
from tests.support.contest import idea_form

pytestmark = pytest.mark.asyncio

DIRECTORY = Directory.shipped()
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


class Clock:
    """The contest's clock, set by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def enter(self, stage: Stage) -> None:
        """A minute into `stage` (a day before the deadline, for the first stage)."""
        if stage is Stage.SUBMISSION:
            self.now = EDITION.submission_deadline - timedelta(days=1)
        else:
            self.now = EDITION.start_of(stage) + timedelta(minutes=1)


@pytest.fixture
def clock() -> Clock:
    found = Clock(EDITION.submission_deadline)
    found.enter(Stage.SUBMISSION)
    return found


@pytest_asyncio.fixture
async def contest(store: Store, clock: Clock) -> Contest:
    """A contest with the 2022 edition, in the submission stage."""
    found = Contest(store, ContestLinks("k" * 32), clock=clock)
    await found.save_edition(ORGANISER, EDITION, 0)
    return found


@pytest.fixture
def selection(contest: Contest) -> Selection:
    return Selection(contest)


def answers_of(form: dict[str, str | list[str]], *, submitting: bool = True) -> dict[str, object]:
    answers, errors = check_idea(form, DIRECTORY, submitting=submitting)
    assert errors == {}
    return answers


async def submit(contest: Contest, title: str, owner: str = "m:1103", **fields: str) -> Idea:
    answers = answers_of(idea_form(title, owner, **fields))
    return await contest.save_idea(YEAR, None, answers, submit=True)


async def make_user(store: Store, email: str, role: Role, network_id: str | None = None) -> User:
    return await store.create_user(email, role, None, network_id=network_id)


# Editions ---------------------------------------------------------------------------


async def test_an_edition_is_created_once_and_updated_with_its_version(contest: Contest) -> None:
    edition, version = await contest.edition(YEAR)
    assert edition == EDITION and version == 1
    with pytest.raises(Conflict, match="already") as duplicate:
        await contest.save_edition(ORGANISER, EDITION, 0)
    assert not isinstance(duplicate.value, StaleRecord)

    renamed = Edition(**{**EDITION.__dict__, "title": "Ny tittel"})
    await contest.save_edition(ORGANISER, renamed, version)
    assert await contest.edition(YEAR) == (renamed, 2)
    with pytest.raises(StaleRecord):  # the organiser saw version 1, someone saved since
        await contest.save_edition(ORGANISER, EDITION, version)
    assert isinstance(StaleRecord(), Conflict)
    assert (await contest.edition(YEAR))[0].title == "Ny tittel"

    later = check_edition(
        "2023", "2023", "5", {k: v.replace("2022", "2023") for k, v in DATES.items()}, CRITERIA
    )
    await contest.save_edition(ORGANISER, later, 0)
    assert [e.year for e in await contest.editions()] == [2023, 2022]
    with pytest.raises(NotFound):
        await contest.edition(1999)
    actions = [(e.action, e.subject) for e in await contest.store.list_audit()]
    assert actions == [
        ("edition.create", "edition:2022"),
        ("edition.update", "edition:2022"),
        ("edition.create", "edition:2023"),
    ]


# Ideas ------------------------------------------------------------------------------


async def test_a_draft_is_saved_then_submitted(contest: Contest) -> None:
    draft_answers = answers_of({"title": "Chatbot"}, submitting=False)
    draft = await contest.save_idea(YEAR, None, draft_answers, submit=False)
    assert draft.status is IdeaStatus.DRAFT and draft.title == "Chatbot"
    assert draft.network_id is None and draft.owner_label == "" and draft.submitted_at is None
    assert draft.year == YEAR and draft.routed_by == RULES and len(draft.nonce) >= 20
    assert await contest.idea_by_link(contest.link_for(draft)) == draft

    submitted = await contest.save_idea(YEAR, draft.id, answers_of(idea_form()), submit=True)
    assert submitted.id == draft.id and submitted.nonce == draft.nonce
    assert submitted.status is IdeaStatus.SUBMITTED and submitted.submitted_at is not None
    assert submitted.network_id == "digi-rogaland" and submitted.owner_label == "Stavanger kommune"
    assert submitted.version == draft.version + 1
    assert await contest.idea(draft.id) == submitted

    # Saving a submitted idea again keeps it submitted, with its first submission time.
    changed = answers_of(idea_form(need="Nytt behov"))
    again = await contest.save_idea(YEAR, draft.id, changed, submit=False)
    assert again.status is IdeaStatus.SUBMITTED and again.submitted_at == submitted.submitted_at
    assert again.answers["need"] == "Nytt behov"
    assert [i.id for i in await contest.ideas(YEAR)] == [draft.id]
    assert await contest.ideas(2023) == []

    entries = [e for e in await contest.store.list_audit() if e.subject == f"idea:{draft.id}"]
    assert [e.action for e in entries] == ["idea.save", "idea.submit", "idea.save"]
    # The sender is named by reference to the idea, whose contact details erasure reaches.
    assert entries[1].actor == f"idea:{draft.id} (idea form)"
    assert entries[1].before["status"] == "draft" and entries[1].after["status"] == "submitted"
    assert entries[0].actor == f"idea:{draft.id} (idea form)"


@pytest.mark.parametrize(
    ("owner", "company", "network", "label"),
    [
        ("m:1103", "", "digi-rogaland", "Stavanger kommune"),
        ("m:1103", "Stavanger IKT AS", "digi-rogaland", "Stavanger IKT AS (Stavanger kommune)"),
        ("m:5001", "", "digitrondelag", "Trondheim kommune"),
        ("c:11", "", COLLEGE_ID, "Rogaland fylkeskommune"),
        ("n:digivestland", "", "digivestland", "DigiVestland"),
        ("k:kollegiet", "", COLLEGE_ID, "Kollegiet for HR og IKT/digitalisering"),
        ("m:0301", "", None, "Oslo kommune"),
        ("c:03", "", None, "Oslo fylkeskommune"),
    ],
)
async def test_a_submitted_idea_goes_where_the_call_says(
    contest: Contest, owner: str, company: str, network: str | None, label: str
) -> None:
    idea = await submit(contest, "Idé", owner, company_name=company)
    assert (idea.network_id, idea.owner_label, idea.routed_by) == (network, label, RULES)
    assert idea.routing_reason
    if network is None:
        assert "Oslo" in idea.routing_reason


async def test_ideas_are_closed_after_the_submission_deadline(
    contest: Contest, clock: Clock
) -> None:
    idea = await submit(contest, "Tidlig")
    clock.now = EDITION.submission_deadline - timedelta(seconds=1)
    await contest.save_idea(YEAR, idea.id, answers_of(idea_form("Tidlig")), submit=True)
    clock.now = EDITION.submission_deadline
    with pytest.raises(Conflict, match=r"passed 26\.03\.2022 23:59"):
        await contest.save_idea(YEAR, idea.id, answers_of(idea_form("Sent")), submit=True)
    with pytest.raises(Conflict):
        await submit(contest, "Ny og for sen")
    assert [i.title for i in await contest.ideas(YEAR)] == ["Tidlig"]
    with pytest.raises(NotFound):
        await contest.save_idea(2031, None, answers_of(idea_form()), submit=True)


async def test_an_idea_is_saved_only_under_its_own_edition(contest: Contest) -> None:
    idea = await submit(contest, "Idé")
    dates = {name: value.replace("2022", "2023") for name, value in DATES.items()}
    later = check_edition("2023", "2023", "5", dates, CRITERIA)
    await contest.save_edition(ORGANISER, later, 0)
    with pytest.raises(NotFound):
        await contest.save_idea(2023, idea.id, answers_of(idea_form()), submit=True)
    assert (await contest.idea(idea.id)).year == YEAR


async def test_idea_links_need_the_ideas_own_nonce(contest: Contest) -> None:
    idea = await submit(contest, "Idé")
    assert (await contest.idea_by_link(contest.link_for(idea))).id == idea.id
    with pytest.raises(NotFound, match="link to an idea"):
        await contest.idea_by_link(contest.links.idea_link(idea.id, "wrong-nonce"))
    with pytest.raises(NotFound):
        await contest.idea_by_link(contest.links.idea_link(idea.id + 1000, idea.nonce))
    with pytest.raises(NotFound):
        await contest.idea_by_link(ContestLinks("x" * 32).idea_link(idea.id, idea.nonce))
    with pytest.raises(NotFound):
        await contest.idea(idea.id + 1000)


async def test_an_organiser_reroutes_on_record_and_it_sticks(contest: Contest) -> None:
    idea = await submit(contest, "Oslo-idé", "m:0301")
    assert idea.network_id is None
    with pytest.raises(BadRequest) as no_note:
        await contest.reroute(ORGANISER, idea.id, "digiviken", "  ")
    assert no_note.value.field == "note"
    with pytest.raises(BadRequest) as bad_network:
        await contest.reroute(ORGANISER, idea.id, "digi-oslo", "Nær Viken")
    assert bad_network.value.field == "network_id"
    with pytest.raises(NotFound):
        await contest.reroute(ORGANISER, 999, "digiviken", "Nær Viken")

    moved = await contest.reroute(ORGANISER, idea.id, "digiviken", " Nær Viken ")
    assert (moved.network_id, moved.routed_by, moved.routing_reason) == (
        "digiviken",
        ORGANISER,
        "Nær Viken",
    )

    # The owner edits the idea, even naming another owner: it stays where it was put.
    edited = await contest.save_idea(
        YEAR, idea.id, answers_of(idea_form("Oslo-idé", "m:1103")), submit=True
    )
    assert edited.network_id == "digiviken" and edited.routed_by == ORGANISER
    assert edited.owner_label == "Stavanger kommune"

    back = await contest.reroute(ORGANISER, idea.id, None, "Feil nettverk")
    assert back.network_id is None and back.routing_reason == "Feil nettverk"

    entries = [e for e in await contest.store.list_audit() if e.subject == f"idea:{idea.id}"]
    assert [e.action for e in entries] == [
        "idea.submit",
        "idea.reroute",
        "idea.submit",
        "idea.reroute",
    ]
    reroute = entries[1]
    assert reroute.actor == ORGANISER
    assert reroute.before["network_id"] is None and reroute.after["network_id"] == "digiviken"


# Nominations ------------------------------------------------------------------------


async def test_nominations_are_open_only_in_their_stage(
    contest: Contest, selection: Selection, clock: Clock
) -> None:
    idea = await submit(contest, "Idé")
    coordinator = await make_user(
        contest.store, "rogaland@ks.no", Role.COORDINATOR, "digi-rogaland"
    )
    with pytest.raises(Conflict, match=r"not started yet; it opens 26\.03\.2022 23:59"):
        await selection.nominate(coordinator, YEAR, idea.id, "Godt forankret")
    clock.enter(Stage.JURY)
    with pytest.raises(Conflict, match=r"passed 29\.04\.2022 12:00"):
        await selection.nominate(coordinator, YEAR, idea.id, "Godt forankret")
    clock.now = EDITION.nomination_deadline - timedelta(seconds=1)
    await selection.nominate(coordinator, YEAR, idea.id, "Godt forankret")
    clock.enter(Stage.JURY)
    with pytest.raises(Conflict):
        await selection.withdraw(coordinator, YEAR, idea.id)
    assert [n.idea_id for n in await selection.nominations(YEAR)] == [idea.id]


async def test_only_the_ideas_own_network_nominates(
    contest: Contest, selection: Selection, clock: Clock
) -> None:
    rogaland = await submit(contest, "Rogaland")
    county = await submit(contest, "Fylket", "c:11")
    store = contest.store
    other = await make_user(store, "viken@ks.no", Role.COORDINATOR, "digiviken")
    college = await make_user(store, "kollegiet@ks.no", Role.COORDINATOR, COLLEGE_ID)
    host = await make_user(store, "host@ks.no", Role.HOST)
    juror = await make_user(store, "jury@ks.no", Role.JURY)
    organiser = await make_user(store, ORGANISER, Role.ORGANISER)
    clock.enter(Stage.NOMINATION)
    for user in (other, college, host, juror):
        with pytest.raises(Forbidden):
            await selection.nominate(user, YEAR, rogaland.id, "Begrunnelse")
    await selection.nominate(college, YEAR, county.id, "Fylkets beste")
    await selection.nominate(organiser, YEAR, rogaland.id, "På vegne av nettverket")
    found = {n.idea_id: n for n in await selection.nominations(YEAR)}
    assert found[county.id].network_id == COLLEGE_ID and found[county.id].by == college.email
    assert found[rogaland.id].network_id == "digi-rogaland"
    assert found[rogaland.id].rationale == "På vegne av nettverket"
    with pytest.raises(Forbidden):
        await selection.withdraw(other, YEAR, rogaland.id)


async def test_a_nomination_needs_a_rationale_and_a_routed_submitted_idea(
    contest: Contest, selection: Selection, clock: Clock
) -> None:
    idea = await submit(contest, "Idé")
    oslo = await submit(contest, "Oslo", "m:0301")
    draft = await contest.save_idea(YEAR, None, answers_of(idea_form("Utkast")), submit=False)
    organiser = await make_user(contest.store, ORGANISER, Role.ORGANISER)
    clock.enter(Stage.NOMINATION)
    for rationale in ("", "   ", "x" * 2001):
        with pytest.raises(BadRequest) as caught:
            await selection.nominate(organiser, YEAR, idea.id, rationale)
        assert caught.value.field == "rationale"
    with pytest.raises(Conflict, match="submitted"):
        await selection.nominate(organiser, YEAR, draft.id, "Begrunnelse")
    with pytest.raises(Conflict, match="routed"):
        await selection.nominate(organiser, YEAR, oslo.id, "Begrunnelse")
    with pytest.raises(NotFound):
        await selection.nominate(organiser, YEAR, 999, "Begrunnelse")
    await selection.nominate(organiser, YEAR, idea.id, " " + "x" * 2000 + " ")
    assert len((await selection.nominations(YEAR))[0].rationale) == 2000


class SameVersionRace:
    """Within the block, each task's first read of `kind` waits until `parties` tasks have
    read it, so that they all write from the same version; `stale` counts refused writes."""

    def __init__(self, store: Store, kind: str, parties: int) -> None:
        self.store, self.kind, self.stale = store, kind, 0
        self._barrier = asyncio.Barrier(parties)
        self._seen: set[asyncio.Task[Any] | None] = set()

    def __enter__(self) -> SameVersionRace:
        read, writes = self.store.get_record, self.store.put_records

        async def read_together(kind: str, key: str) -> Record | None:
            record = await read(kind, key)
            if kind == self.kind and asyncio.current_task() not in self._seen:
                self._seen.add(asyncio.current_task())
                await asyncio.wait_for(self._barrier.wait(), timeout=5)
            return record

        # Every record write goes through put_records (put_record too, on both backends).
        async def count_stale_writes(*args: Any, **kwargs: Any) -> list[Record]:
            try:
                return await writes(*args, **kwargs)
            except StaleRecord:
                self.stale += 1
                raise

        self._patch = pytest.MonkeyPatch()
        self._patch.setattr(self.store, "get_record", read_together)
        self._patch.setattr(self.store, "put_records", count_stale_writes)
        return self

    def __exit__(self, *exc: object) -> None:
        self._patch.undo()


async def test_concurrent_nominations_never_pass_the_limit_of_three(
    contest: Contest, selection: Selection, clock: Clock
) -> None:
    ideas = [await submit(contest, f"Idé {number}") for number in range(5)]
    coordinator = await make_user(
        contest.store, "rogaland@ks.no", Role.COORDINATOR, "digi-rogaland"
    )
    clock.enter(Stage.NOMINATION)
    with SameVersionRace(contest.store, "nominations", parties=5) as race:
        outcomes = await asyncio.gather(
            *(selection.nominate(coordinator, YEAR, i.id, f"Grunn {i.id}") for i in ideas),
            return_exceptions=True,
        )
    assert race.stale >= 4  # all five wrote from version 0: four were refused and read again
    assert sum(outcome is None for outcome in outcomes) == 3
    refused = [outcome for outcome in outcomes if outcome is not None]
    assert len(refused) == 2
    assert all(type(error) is Conflict and "withdraw one" in str(error) for error in refused)
    nominated = [n.idea_id for n in await selection.nominations(YEAR)]
    assert len(nominated) == len(set(nominated)) == 3
    winners = {i.id for i, outcome in zip(ideas, outcomes, strict=True) if outcome is None}
    assert set(nominated) == winners
    record = await contest.store.get_record("nominations", f"{YEAR}:digi-rogaland")
    assert record is not None and record.version == 3

    with pytest.raises(Conflict, match="already"):
        await selection.nominate(coordinator, YEAR, nominated[0], "Igjen")
    left_out = [i.id for i in ideas if i.id not in winners]
    with pytest.raises(Conflict, match="withdraw one"):
        await selection.nominate(coordinator, YEAR, left_out[0], "Plass?")

    await selection.withdraw(coordinator, YEAR, nominated[0])
    with pytest.raises(Conflict, match="not nominated"):
        await selection.withdraw(coordinator, YEAR, nominated[0])
    await selection.nominate(coordinator, YEAR, left_out[0], "Ledig plass")
    after = {n.idea_id for n in await selection.nominations(YEAR)}
    assert after == (winners - {nominated[0]}) | {left_out[0]}

    actions = [
        e.action
        for e in await contest.store.list_audit()
        if e.subject == f"nominations:{YEAR}:digi-rogaland"
    ]
    assert actions == ["nomination.add"] * 3 + ["nomination.withdraw", "nomination.add"]


# The jury ---------------------------------------------------------------------------


async def nominated_ideas(
    contest: Contest, selection: Selection, clock: Clock, titles: tuple[str, ...]
) -> list[Idea]:
    """Ideas submitted from Stavanger and nominated by Digi Rogaland; the clock in nomination."""
    ideas = [await submit(contest, title) for title in titles]
    organiser = await make_user(contest.store, "nominator@ks.no", Role.ORGANISER)
    clock.enter(Stage.NOMINATION)
    for idea in ideas:
        await selection.nominate(organiser, YEAR, idea.id, "Begrunnelse")
    return ideas


async def test_only_jury_members_score_nominees_in_the_jury_stage(
    contest: Contest, selection: Selection, clock: Clock
) -> None:
    other = await submit(contest, "Ikke nominert")
    (nominee,) = await nominated_ideas(contest, selection, clock, ("Nominert",))
    store = contest.store
    juror = await make_user(store, "anne@ks.no", Role.JURY)
    scores = {"need": "4", "risk": "7"}
    with pytest.raises(Conflict, match="not started yet"):
        await selection.save_sheet(juror, YEAR, nominee.id, scores, "", conflict=False)
    clock.enter(Stage.JURY)
    for role in (Role.ORGANISER, Role.COORDINATOR, Role.HOST):
        user = await make_user(store, f"{role}@ks.no", role, "digi-rogaland")
        with pytest.raises(Forbidden):
            await selection.save_sheet(user, YEAR, nominee.id, scores, "", conflict=False)
    with pytest.raises(Conflict, match="nominated"):
        await selection.save_sheet(juror, YEAR, other.id, scores, "", conflict=False)
    await selection.save_sheet(juror, YEAR, nominee.id, scores, " Lovende ", conflict=False)
    (sheet,) = await selection.sheets(YEAR)
    assert (sheet.idea_id, sheet.member_id, sheet.member) == (nominee.id, juror.id, juror.email)
    assert sheet.scores == {"need": 4, "risk": 7} and sheet.comment == "Lovende"
    clock.enter(Stage.FINALE)
    with pytest.raises(Conflict, match=r"passed 20\.05\.2022 12:00"):
        await selection.save_sheet(juror, YEAR, nominee.id, scores, "", conflict=False)


@pytest.mark.parametrize(
    ("scores", "field"),
    [
        ({"need": "6", "risk": "5"}, "score_need"),
        ({"need": "0", "risk": "5"}, "score_need"),
        ({"need": "3", "risk": "11"}, "score_risk"),
        ({"need": "3", "risk": "-1"}, "score_risk"),
        ({"need": "3", "risk": "--3"}, "score_risk"),
        ({"need": "2.5", "risk": "5"}, "score_need"),
        ({"need": "fire", "risk": "5"}, "score_need"),
        ({"need": "³", "risk": "5"}, "score_need"),
    ],
)
async def test_a_score_outside_its_scale_names_its_criterion(
    contest: Contest, selection: Selection, clock: Clock, scores: dict[str, str], field: str
) -> None:
    (nominee,) = await nominated_ideas(contest, selection, clock, ("Nominert",))
    juror = await make_user(contest.store, "anne@ks.no", Role.JURY)
    clock.enter(Stage.JURY)
    with pytest.raises(BadRequest, match="whole number") as caught:
        await selection.save_sheet(juror, YEAR, nominee.id, scores, "", conflict=False)
    assert caught.value.field == field
    with pytest.raises(BadRequest) as long_comment:
        await selection.save_sheet(juror, YEAR, nominee.id, {}, "x" * 4001, conflict=False)
    assert long_comment.value.field == "comment"
    assert await selection.sheets(YEAR) == []


async def test_the_ranking_leaves_out_conflicts_and_shows_the_spread(
    contest: Contest, selection: Selection, clock: Clock
) -> None:
    first, second, third = await nominated_ideas(
        contest, selection, clock, ("Delt jury", "Enig jury", "Uferdig")
    )
    store = contest.store
    anne, bjorn, carl = [
        await make_user(store, f"{name}@ks.no", Role.JURY) for name in ("anne", "bjorn", "carl")
    ]
    clock.enter(Stage.JURY)

    async def score(user: User, idea: Idea, need: str, risk: str, conflict: bool = False) -> None:
        scores = {"need": need, "risk": risk}
        await selection.save_sheet(user, YEAR, idea.id, scores, "", conflict=conflict)

    await score(anne, first, "5", "10")  # total 1.0
    await score(bjorn, first, "1", "0")  # total 0.0
    await score(anne, second, "4", "5")  # (2 * 0.75 + 0.5) / 3
    await score(bjorn, second, "4", "5")
    await score(carl, second, "5", "10")
    await score(anne, third, "3", "")  # incomplete: kept, but not counted
    ranking = await selection.ranking(YEAR)
    assert [r.idea.id for r in ranking] == [second.id, first.id, third.id]
    assert ranking[0].result is not None and ranking[0].result.members == 3

    await score(carl, second, "", "", conflict=True)  # carl declares a conflict of interest
    ranking = await selection.ranking(YEAR)
    assert [r.idea.id for r in ranking] == [second.id, first.id, third.id]
    top, middle, last = ranking
    assert top.result is not None and middle.result is not None
    assert top.result.members == 2 and top.sheets == 3 and top.conflicts == 1
    assert top.result.score == pytest.approx(2 / 3) and top.result.spread == pytest.approx(0)
    assert middle.result.score == pytest.approx(0.5) and middle.result.spread == pytest.approx(1)
    assert middle.conflicts == 0 and middle.result.members == 2
    assert last.result is None and last.sheets == 1
    assert len(await selection.sheets(YEAR)) == 6  # a member's new sheet replaces the old one
    carls = [s for s in await selection.sheets(YEAR) if s.member == carl.email]
    assert [(s.conflict, s.scores) for s in carls] == [(True, {})]
    actions = [e.action for e in await store.list_audit() if e.subject.startswith("sheet:")]
    assert actions == ["jury.score"] * 6 + ["jury.conflict"]


async def test_criteria_are_fixed_once_the_jury_starts(
    contest: Contest, selection: Selection, clock: Clock
) -> None:
    (nominee,) = await nominated_ideas(contest, selection, clock, ("Nominert",))
    _, version = await contest.edition(YEAR)
    simpler = (Criterion("need", "Behov", 1.0, 1, 3),)
    await selection.save_criteria(ORGANISER, YEAR, simpler, version)
    edition, version = await contest.edition(YEAR)
    assert edition.criteria == simpler and edition.title == EDITION.title
    with pytest.raises(StaleRecord):
        await selection.save_criteria(ORGANISER, YEAR, CRITERIA, version - 1)

    juror = await make_user(contest.store, "anne@ks.no", Role.JURY)
    clock.enter(Stage.JURY)
    with pytest.raises(BadRequest) as caught:  # the new scale is 1..3
        await selection.save_sheet(juror, YEAR, nominee.id, {"need": "4"}, "", conflict=False)
    assert caught.value.field == "score_need"
    await selection.save_sheet(juror, YEAR, nominee.id, {"need": "3"}, "", conflict=False)
    with pytest.raises(Conflict, match="criteria are fixed"):
        await selection.save_criteria(ORGANISER, YEAR, CRITERIA, version)
    assert (await contest.edition(YEAR))[0].criteria == simpler


# Finalists and the finale poll --------------------------------------------------------


async def test_finalists_make_the_finale_poll_once(
    contest: Contest, selection: Selection, clock: Clock
) -> None:
    company = await submit(contest, "Felles innbyggerdialog", company_name="Stavanger IKT AS")
    plain = await submit(contest, "Digital byggesak", need="  Lang   ventetid\n på svar. ")
    county = await submit(contest, "Skyss i lomma", "c:11")
    other = await submit(contest, "Ikke nominert")
    organiser = await make_user(contest.store, ORGANISER, Role.ORGANISER)
    clock.enter(Stage.NOMINATION)
    for idea in (company, plain, county):
        await selection.nominate(organiser, YEAR, idea.id, "Begrunnelse")
    chosen = [county.id, company.id, plain.id]
    with pytest.raises(Conflict, match="after the nomination deadline"):
        await selection.select_finalists(ORGANISER, YEAR, chosen)

    clock.enter(Stage.JURY)
    with pytest.raises(Conflict, match="Choose the finalists first"):
        await selection.create_finale_poll(ORGANISER, YEAR)
    for wrong in ([county.id, company.id], [county.id, company.id, company.id], [*chosen, 99]):
        with pytest.raises(BadRequest, match="exactly 3") as count:
            await selection.select_finalists(ORGANISER, YEAR, wrong)
        assert count.value.field == "finalists"
    with pytest.raises(BadRequest, match="nominated") as not_nominated:
        await selection.select_finalists(ORGANISER, YEAR, [county.id, company.id, other.id])
    assert not_nominated.value.field == "finalists"
    assert await selection.finalists(YEAR) == []

    await selection.select_finalists(ORGANISER, YEAR, chosen)
    assert await selection.finalists(YEAR) == chosen

    poll = await selection.create_finale_poll(ORGANISER, YEAR, seed="stage")
    assert poll.title == EDITION.title and poll.status is PollStatus.DRAFT
    assert poll.method is Method.SINGLE and poll.winners == 3
    stage = seeded_order(chosen, "stage")  # a drawn stage order, not the chosen order
    names = {county.id: "Skyss i lomma", company.id: "Felles innbyggerdialog",
             plain.id: "Digital byggesak"}  # fmt: skip
    owners = {county.id: "Rogaland fylkeskommune",
              company.id: "Stavanger IKT AS (Stavanger kommune)",
              plain.id: "Stavanger kommune"}  # fmt: skip
    assert [f.name for f in poll.finalists] == [names[i] for i in stage]
    assert [f.owner for f in poll.finalists] == [owners[i] for i in stage]
    assert poll.finalists[stage.index(plain.id)].pitch == "Lang ventetid på svar."
    edition, _ = await contest.edition(YEAR)
    assert edition.poll_id == poll.id

    again = await selection.create_finale_poll(ORGANISER, YEAR)
    assert again.id == poll.id
    assert [p.id for p in await contest.store.list_polls()] == [poll.id]
    with pytest.raises(Conflict, match="finale poll exists"):
        await selection.select_finalists(ORGANISER, YEAR, [plain.id, company.id, county.id])
    assert await selection.finalists(YEAR) == chosen


async def test_a_double_click_makes_one_finale_poll(
    contest: Contest, selection: Selection, clock: Clock
) -> None:
    ideas = await nominated_ideas(contest, selection, clock, ("En", "To", "Tre"))
    clock.enter(Stage.FINALE)
    await selection.select_finalists(ORGANISER, YEAR, [i.id for i in ideas])
    polls = await asyncio.gather(*(selection.create_finale_poll(ORGANISER, YEAR) for _ in range(3)))
    assert len({p.id for p in polls}) == 1
    assert len(await contest.store.list_polls()) == 1


async def test_the_finale_poll_is_made_and_pointed_to_in_one_audited_step(
    contest: Contest, selection: Selection, clock: Clock
) -> None:
    ideas = await nominated_ideas(contest, selection, clock, ("En", "To", "Tre"))
    clock.enter(Stage.FINALE)
    await selection.select_finalists(ORGANISER, YEAR, [i.id for i in ideas])
    before = len(await contest.store.list_audit())
    poll = await selection.create_finale_poll(ORGANISER, YEAR, seed="stage")
    entries = (await contest.store.list_audit())[before:]
    assert [(e.actor, e.action, e.subject) for e in entries] == [
        (ORGANISER, "poll.create", f"poll:{poll.id}"),
        (ORGANISER, "edition.update", f"edition:{YEAR}"),
        (ORGANISER, "finalists.stage_order", f"finalists:{YEAR}"),
    ]
    stage = seeded_order([i.id for i in ideas], "stage")  # drawn, with its seed recorded
    names = {i.id: i.title for i in ideas}
    assert entries[0].after["finalists"] == [names[i] for i in stage]
    assert entries[2].after == {"seed": "stage", "idea_ids": list(stage)}
    assert (entries[1].before["poll_id"], entries[1].after["poll_id"]) == (None, poll.id)
    assert entries[0].at == entries[1].at == entries[2].at
    await selection.create_finale_poll(ORGANISER, YEAR)  # again: the same poll, no entry
    assert len(await contest.store.list_audit()) == before + 3


async def test_an_edition_with_two_finalists_makes_a_poll_for_two(
    contest: Contest, selection: Selection, clock: Clock
) -> None:
    two = Edition(**{**EDITION.__dict__, "year": 2023, "finalists": 2})
    await contest.save_edition(ORGANISER, two, 0)
    ideas = [await submit(contest, title) for title in ("En", "To")]
    for idea in ideas:  # moved to the 2023 edition for this test
        record = await contest.store.get_record("idea", str(idea.id))
        assert record is not None
        await contest.store.put_record("idea", str(idea.id), {**record.data, "year": 2023},
                                       expected_version=record.version, actor="t",
                                       action="x")  # fmt: skip
    organiser = await make_user(contest.store, ORGANISER, Role.ORGANISER)
    clock.enter(Stage.NOMINATION)
    for idea in ideas:
        await selection.nominate(organiser, 2023, idea.id, "Begrunnelse")
    clock.enter(Stage.FINALE)
    await selection.select_finalists(ORGANISER, 2023, [i.id for i in ideas])
    poll = await selection.create_finale_poll(ORGANISER, 2023)
    assert poll.winners == 2 and sorted(f.name for f in poll.finalists) == ["En", "To"]


async def test_an_ideas_audit_entry_keeps_what_changed_and_stays_small(
    contest: Contest,
) -> None:
    long_texts = (
        "need", "partners", "benefit_quantitative", "benefit_qualitative", "goals_text",
        "execution_risk_text", "benefit_risk_text", "criticality_text",
    )  # fmt: skip
    first = await submit(contest, "Lang idé", **{name: "a" * 4000 for name in long_texts})
    assert len(str(first.answers)) > 30_000
    for n in range(3):  # saved again and again, each time with every long answer changed
        answers = answers_of(idea_form("Lang idé", **{name: str(n) * 4000 for name in long_texts}))
        await contest.save_idea(YEAR, first.id, answers, submit=True)
    entries = [e for e in await contest.store.list_audit() if e.subject == f"idea:{first.id}"]
    assert len(entries) == 4
    sizes = [len(json.dumps([e.before, e.after], ensure_ascii=False)) for e in entries]
    assert max(sizes) < 6_000, sizes  # each at most 200 characters of each changed answer
    last = entries[-1]
    assert set(last.after) == {f"answers.{name}" for name in long_texts}
    assert last.after["answers.need"] == "2" * 199 + "…"
    assert last.before["answers.need"] == "1" * 199 + "…"
    assert all("nonce" not in (e.after or {}) and "nonce" not in (e.before or {}) for e in entries)
    assert entries[0].before is None and entries[0].after["status"] == "submitted"


# Rules that span two records ----------------------------------------------------------


class Interleaving:
    """Two tasks each read `kind` before either writes anything; then the task named
    `first` writes before the other may try (and is refused, and reads again)."""

    def __init__(self, store: Store, kind: str, first: str) -> None:
        self.store, self.kind, self.first = store, kind, first

    def __enter__(self) -> Interleaving:
        read, writes = self.store.get_record, self.store.put_records
        barrier, seen, written = asyncio.Barrier(2), set(), asyncio.Event()

        async def read_together(kind: str, key: str) -> Record | None:
            record = await read(kind, key)
            task = asyncio.current_task()
            if kind == self.kind and task not in seen:
                seen.add(task)
                await asyncio.wait_for(barrier.wait(), timeout=5)
            return record

        async def in_order(*args: Any, **kwargs: Any) -> list[Record]:
            task = asyncio.current_task()
            is_first = task is not None and task.get_name() == self.first
            if not is_first:
                await asyncio.wait_for(written.wait(), timeout=5)
            try:
                return await writes(*args, **kwargs)
            finally:
                if is_first:
                    written.set()

        self._patch = pytest.MonkeyPatch()
        self._patch.setattr(self.store, "get_record", read_together)
        self._patch.setattr(self.store, "put_records", in_order)
        return self

    def __exit__(self, *exc: object) -> None:
        self._patch.undo()

    async def run(self, **calls: Any) -> dict[str, BaseException | None]:
        """Run each coroutine as a task named by its keyword; what each raised, if any."""
        tasks = {name: asyncio.create_task(call, name=name) for name, call in calls.items()}
        outcomes = await asyncio.gather(*tasks.values(), return_exceptions=True)
        return {name: o if isinstance(o, BaseException) else None
                for name, o in zip(tasks, outcomes, strict=True)}  # fmt: skip


async def nominated_where(selection: Selection, idea_id: int) -> list[str]:
    return [n.network_id for n in await selection.nominations(YEAR) if n.idea_id == idea_id]


async def test_a_nominated_idea_is_not_moved(
    contest: Contest, selection: Selection, clock: Clock
) -> None:
    idea = await submit(contest, "Idé")
    organiser = await make_user(contest.store, ORGANISER, Role.ORGANISER)
    clock.enter(Stage.NOMINATION)
    await selection.nominate(organiser, YEAR, idea.id, "Begrunnelse")
    with pytest.raises(Conflict, match="nominated"):
        await contest.reroute(ORGANISER, idea.id, "digiviken", "Nær Viken")
    await selection.withdraw(organiser, YEAR, idea.id)
    moved = await contest.reroute(ORGANISER, idea.id, "digiviken", "Nær Viken")
    assert moved.network_id == "digiviken"


@pytest.mark.parametrize("first", ["nominate", "reroute"])
async def test_a_nomination_and_a_move_at_once_never_part_idea_and_network(
    contest: Contest, selection: Selection, clock: Clock, first: str
) -> None:
    """The coordinator nominates while an organiser moves the idea to another network:
    whichever lands first, the other is refused on the fresh data."""
    idea = await submit(contest, "Idé")
    coordinator = await make_user(
        contest.store, "rogaland@ks.no", Role.COORDINATOR, "digi-rogaland"
    )
    clock.enter(Stage.NOMINATION)
    with Interleaving(contest.store, "nominations", first) as race:
        outcome = await race.run(
            nominate=selection.nominate(coordinator, YEAR, idea.id, "Begrunnelse"),
            reroute=contest.reroute(ORGANISER, idea.id, "digiviken", "Nær Viken"),
        )
    now = await contest.idea(idea.id)
    if first == "nominate":
        assert outcome["nominate"] is None
        assert isinstance(outcome["reroute"], Conflict) and "nominated" in str(outcome["reroute"])
        assert now.network_id == "digi-rogaland"
        assert await nominated_where(selection, idea.id) == ["digi-rogaland"]
    else:
        assert outcome["reroute"] is None and isinstance(outcome["nominate"], Forbidden)
        assert now.network_id == "digiviken"
        assert await nominated_where(selection, idea.id) == []


@pytest.mark.parametrize("first", ["nominate", "save"])
async def test_a_nomination_and_a_new_owner_at_once_never_part_idea_and_network(
    store: Store, contest: Contest, selection: Selection, clock: Clock, first: str
) -> None:
    """At the submission deadline the owner names another owner (another network) while a
    process whose clock is past it takes the old network's nomination."""
    idea = await submit(contest, "Idé")  # Stavanger: Digi Rogaland
    coordinator = await make_user(store, "rogaland@ks.no", Role.COORDINATOR, "digi-rogaland")
    later = Clock(clock.now)
    later.enter(Stage.NOMINATION)
    nominating = Selection(Contest(store, ContestLinks("k" * 32), clock=later))
    trondheim = answers_of(idea_form("Idé", "m:5001"))
    with Interleaving(store, "nominations", first) as race:
        outcome = await race.run(
            nominate=nominating.nominate(coordinator, YEAR, idea.id, "Begrunnelse"),
            save=contest.save_idea(YEAR, idea.id, trondheim, submit=True),
        )
    now = await contest.idea(idea.id)
    assert outcome["save"] is None and now.owner_label == "Trondheim kommune"
    if first == "nominate":
        assert outcome["nominate"] is None
        assert now.network_id == "digi-rogaland"  # nominated there: it stays
        assert await nominated_where(selection, idea.id) == ["digi-rogaland"]
    else:
        assert isinstance(outcome["nominate"], Forbidden)
        assert now.network_id == "digitrondelag"
        assert await nominated_where(selection, idea.id) == []


@pytest.mark.parametrize("first", ["sheet", "criteria"])
async def test_criteria_and_the_first_score_at_once_never_mix(
    contest: Contest, selection: Selection, clock: Clock, first: str
) -> None:
    """An organiser narrows a scale while a juror saves the first score on the old one."""
    (nominee,) = await nominated_ideas(contest, selection, clock, ("Nominert",))
    juror = await make_user(contest.store, "anne@ks.no", Role.JURY)
    clock.enter(Stage.JURY)
    _, version = await contest.edition(YEAR)
    narrower = (Criterion("need", "Behov", 2.0, 1, 3), CRITERIA[1])
    with Interleaving(contest.store, "scoring", first) as race:
        outcome = await race.run(
            sheet=selection.save_sheet(juror, YEAR, nominee.id, {"need": "4", "risk": "7"}, "",
                                       conflict=False),
            criteria=selection.save_criteria(ORGANISER, YEAR, narrower, version),
        )  # fmt: skip
    edition, _ = await contest.edition(YEAR)
    sheets = await selection.sheets(YEAR)
    if first == "sheet":
        assert outcome["sheet"] is None and [s.scores for s in sheets] == [{"need": 4, "risk": 7}]
        assert isinstance(outcome["criteria"], Conflict)
        assert "criteria are fixed" in str(outcome["criteria"])
        assert edition.criteria == CRITERIA
    else:
        assert outcome["criteria"] is None and edition.criteria == narrower
        assert isinstance(outcome["sheet"], BadRequest)  # 4 is off the new scale of 1-3
        assert outcome["sheet"].field == "score_need" and sheets == []
