"""The jury's work in one edition: who scores which nominee, conflicts of interest, the
progress organisers follow, the scores a member may see, and reminders.

The assignments are one record per edition (`jury-assignment`), changed only through
`records.transact`, so the store audits each change (who, before, after) in the same
atomic step; an organiser's override of a network conflict is kept there with its
reason. A `Board` is one reading of everything the pages need: the nominees, the
members, the assignments and the sheets; the ranking it makes counts only sheets in
`PairState.SCORED`. A reminder is a `jury-reminder` record per member, written with
compare-and-set before the mail goes, so a double tap (or two organisers at once)
sends one mail in `REMINDER_GAP`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from live.contest.editions import Edition
from live.contest.jury import (
    Assignments,
    Override,
    Pair,
    PairState,
    aggregate,
    awaits_scores,
    pair_state,
)
from live.contest.records import Idea, Reads, Write, transact
from live.contest.selection import Ranked, Selection, Sheet
from live.errors import N_, BadRequest, Conflict, NotFound
from live.store.base import StaleRecord
from live.store.models import Role, User
from live.store.timestamps import now_iso

ASSIGNMENTS = "jury-assignment"  # keyed by year
REMINDER = "jury-reminder"  # keyed by "year:member id"
MEMBER = "jury-member"  # keyed by member id: {"language": the language they last used}
REASON_MAX = 500  # characters
REMINDER_GAP = timedelta(minutes=10)


@dataclass(frozen=True)
class Board:
    """The jury's work in an edition as read at one moment."""

    edition: Edition
    nominees: list[Idea]
    members: list[User]
    assignments: Assignments
    version: int  # of the assignments record (0: never saved)
    sheets: dict[Pair, Sheet]

    def network_conflict(self, idea: Idea, member: User) -> bool:
        """Whether the member's own network is the nominee's, overridden or not."""
        own = self.assignments.network_of(member.id, member.network_id)
        return own is not None and own == idea.network_id

    def overridden(self, idea: Idea, member: User) -> Override | None:
        return self.assignments.overrides.get((idea.id, member.id))

    def state(self, idea: Idea, member: User) -> PairState:
        sheet = self.sheets.get((idea.id, member.id))
        return pair_state(
            self.edition.criteria,
            assigned=self.assignments.assigned(idea.id, member.id),
            network_conflict=self.network_conflict(idea, member),
            overridden=self.overridden(idea, member) is not None,
            scores=None if sheet is None else sheet.scores,
            declared_conflict=sheet is not None and sheet.conflict,
        )

    def missing(self, member: User) -> list[Idea]:
        """The nominees the member still owes scores for."""
        return [idea for idea in self.nominees if awaits_scores(self.state(idea, member))]

    def assigned_to(self, member: User) -> list[Idea]:
        """The member's nominees: assigned to them, conflicts included (shown as such)."""
        return [i for i in self.nominees if self.assignments.assigned(i.id, member.id)]

    def counted(self, idea: Idea) -> list[Sheet]:
        """The sheets that count for the nominee: assigned, without a conflict (or with
        an organiser's override of a network conflict), every criterion scored."""
        return [
            self.sheets[(idea.id, member.id)]
            for member in self.members
            if self.state(idea, member) is PairState.SCORED
        ]

    def sees_others(self, idea: Idea, member: User) -> bool:
        """Blind scoring: a member sees the others' scores for a nominee only once their
        own sheet for it is complete."""
        return self.state(idea, member) is PairState.SCORED

    def ranking(self) -> list[Ranked]:
        """The nominees by the counted sheets' weighted mean, with the spread; a nominee
        without a counted sheet comes last. `conflicts` counts both kinds."""
        criteria = self.edition.criteria
        counted = {
            (sheet.member, idea.id): sheet.scores
            for idea in self.nominees
            for sheet in self.counted(idea)
        }
        results = {r.idea_id: r for r in aggregate(criteria, counted)}
        ranked = []
        for idea in self.nominees:
            states = [self.state(idea, member) for member in self.members]
            conflicts = sum(
                1
                for state in states
                if state in (PairState.NETWORK_CONFLICT, PairState.DECLARED_CONFLICT)
            )
            ranked.append(Ranked(idea, results.get(idea.id), len(self.counted(idea)), conflicts))
        return sorted(
            ranked,
            key=lambda r: (r.result is None, -(r.result.score if r.result else 0), r.idea.id),
        )

    def member(self, member_id: int) -> User:
        for member in self.members:
            if member.id == member_id:
                return member
        raise NotFound(N_("There is no jury member number %(number)s."), number=member_id)

    def nominee(self, idea_id: int) -> Idea:
        for idea in self.nominees:
            if idea.id == idea_id:
                return idea
        raise NotFound(N_("There is no idea number %(number)s."), number=idea_id)


@dataclass(frozen=True)
class Reminder:
    at: str  # ISO time, UTC
    by: str
    mailed: bool | None  # None: being sent
    fresh: bool  # False: an earlier reminder inside the gap; no new mail

    def next_at(self) -> datetime:
        return datetime.fromisoformat(self.at) + REMINDER_GAP


class _Recent(Exception):
    """A reminder went out inside the gap: nothing to write."""


class JuryWork:
    """Assignments, conflicts, progress and reminders of the editions in `selection`."""

    def __init__(self, selection: Selection) -> None:
        self.selection = selection
        self.contest = selection.contest
        self.store = selection.store

    async def board(self, year: int) -> Board:
        edition, _ = await self.contest.edition(year)
        nominated = sorted({n.idea_id for n in await self.selection.nominations(year)})
        nominees = [await self.contest.idea(idea_id) for idea_id in nominated]
        members = [user for user in await self.store.list_users() if user.role is Role.JURY]
        record = await self.store.get_record(ASSIGNMENTS, str(year))
        sheets = {(s.idea_id, s.member_id): s for s in await self.selection.sheets(year)}
        return Board(
            edition,
            nominees,
            members,
            Assignments.from_data(None if record is None else record.data),
            0 if record is None else record.version,
            sheets,
        )

    async def save_assignments(
        self,
        actor: str,
        year: int,
        shown: set[Pair],
        checked: set[Pair],
        networks: dict[int, str | None],
        expected_version: int,
    ) -> None:
        """The pairs `shown` on the organiser's form are assigned when `checked`, taken
        off when not; other pairs keep their state. `networks` sets members' own
        networks (None: the account's). Conflict when someone saved in between."""
        await self.contest.edition(year)  # NotFound for an unknown year
        directory = await self.contest.directory()
        for network in networks.values():
            if network is not None and network not in directory.networks:
                raise BadRequest(N_("Choose a network from the list."))

        async def plan(reads: Reads) -> list[Write]:
            data = await reads.get(ASSIGNMENTS, str(year))
            if reads.version(ASSIGNMENTS, str(year)) != expected_version:
                raise Conflict(
                    N_(
                        "Someone else changed the assignments meanwhile. "
                        "Check them again, then save."
                    )
                )
            old = Assignments.from_data(data)
            own = {m: n for m, n in {**old.networks, **networks}.items() if n is not None}
            new = replace(
                old, removed=frozenset((old.removed - shown) | (shown - checked)), networks=own
            )
            return [Write(ASSIGNMENTS, str(year), new.to_data(), "jury.assign")]

        await transact(self.store, plan, actor=actor)

    async def override(
        self, actor: str, year: int, idea_id: int, member_id: int, reason: str | None
    ) -> None:
        """Record (with `reason`) or withdraw (`reason` None) an organiser's decision that
        a member scores a nominee of their own network."""
        board = await self.board(year)
        idea, member = board.nominee(idea_id), board.member(member_id)
        if reason is not None:
            reason = " ".join(reason.split())
            if not reason:
                raise BadRequest(
                    N_("Say why the member may score it; the reason is kept on record."), "reason"
                )
            if len(reason) > REASON_MAX:
                raise BadRequest(
                    N_("Write at most %(limit)s characters."), "reason", limit=REASON_MAX
                )
            if not board.network_conflict(idea, member):
                raise Conflict(N_("The member is not from the nominee's network."))

        async def plan(reads: Reads) -> list[Write]:
            old = Assignments.from_data(await reads.get(ASSIGNMENTS, str(year)))
            overrides = dict(old.overrides)
            before = overrides.pop((idea_id, member_id), None)
            if reason is not None:
                overrides[(idea_id, member_id)] = Override(reason, actor, now_iso())
            after = overrides.get((idea_id, member_id))
            change = (
                None
                if before is None
                else {"idea_id": idea_id, "member": member.email, "reason": before.reason},
                None
                if after is None
                else {"idea_id": idea_id, "member": member.email, "reason": after.reason},
            )
            new = replace(old, overrides=overrides)
            return [Write(ASSIGNMENTS, str(year), new.to_data(), "jury.override", change)]

        await transact(self.store, plan, actor=actor)

    async def remember_language(self, member: User, language: str) -> None:
        """Keep the language a member uses, for the mail they get; written only when
        it changed."""
        record = await self.store.get_record(MEMBER, str(member.id))
        if record is not None and record.data.get("language") == language:
            return
        with contextlib.suppress(StaleRecord):  # another tab wrote it: either will do
            await self.store.put_record(
                MEMBER,
                str(member.id),
                {"language": language},
                expected_version=0 if record is None else record.version,
                actor=member.email,
                action="jury.language",
            )

    async def language_of(self, member: User) -> str | None:
        record = await self.store.get_record(MEMBER, str(member.id))
        return None if record is None else str(record.data.get("language") or "") or None

    async def claim_reminder(self, actor: str, year: int, member: User) -> Reminder:
        """A new reminder for the member, recorded before any mail goes; or, when one
        went out less than `REMINDER_GAP` ago, that one (`fresh` False: send nothing)."""
        key = f"{year}:{member.id}"

        async def plan(reads: Reads) -> list[Write]:
            data = await reads.get(REMINDER, key)
            if data is not None and _recent(data["at"]):
                raise _Recent
            sent = {"at": now_iso(), "by": actor, "member": member.email, "mailed": None}
            return [Write(REMINDER, key, sent, "jury.remind")]

        try:
            (record,) = await transact(self.store, plan, actor=actor)
        except _Recent:
            found = await self.store.get_record(REMINDER, key)
            assert found is not None
            return _reminder(found.data, fresh=False)
        return _reminder(record.data, fresh=True)

    async def reminder_sent(self, actor: str, year: int, member: User, mailed: bool) -> None:
        """Record whether the mail server took the reminder."""
        key = f"{year}:{member.id}"

        async def plan(reads: Reads) -> list[Write]:
            data = await reads.get(REMINDER, key) or {}
            return [Write(REMINDER, key, {**data, "mailed": mailed}, "jury.remind_result")]

        await transact(self.store, plan, actor=actor)

    async def reminders(self, year: int) -> dict[int, Reminder]:
        """The last reminder to each member, by member id."""
        found = {}
        for record in await self.store.list_records(REMINDER):
            edition, _, member = record.key.partition(":")
            if edition == str(year):
                found[int(member)] = _reminder(record.data, fresh=False)
        return found


def _recent(at: str) -> bool:
    return datetime.now(UTC) - datetime.fromisoformat(at) < REMINDER_GAP


def _reminder(data: dict[str, Any], *, fresh: bool) -> Reminder:
    return Reminder(data["at"], data["by"], data.get("mailed"), fresh)
