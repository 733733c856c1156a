"""From ideas to the finale: nominations, the jury's sheets, the ranking and the finalists.

Each network's nominations are one record, so the three-place limit is checked on the
latest data in the same compare-and-set that writes it (`records.transact`): concurrent
clicks can never make a fourth. A nomination is written only if the idea is still as it
was read (not moved meanwhile). Each jury sheet is its own record (one member, one idea);
the first one also writes the edition's `scoring` record, so that the criteria (in the
edition) can change only while that is absent, and a sheet is saved only against the
criteria it was checked with. The finale poll is made in the same atomic step that points
the edition to it, so two clicks anywhere make one poll.
"""

from __future__ import annotations

import asyncio
import random
import re
from dataclasses import dataclass

from live.contest.editions import Edition, Stage
from live.contest.ideas import IdeaStatus
from live.contest.jury import Criterion, IdeaResult, aggregate
from live.contest.nominations import MAX_NOMINATIONS
from live.contest.records import (
    NOMINATIONS,
    RETRIES,
    Contest,
    Idea,
    Reads,
    Write,
    nominations_key,
    read_idea,
    transact,
)
from live.errors import N_, BadRequest, Conflict, Forbidden, NotFound
from live.finale import polls, stage_order
from live.store.base import StaleRecord
from live.store.models import Poll, RecordWrite, Role, User
from live.store.timestamps import now_iso
from live.tally import Method

RATIONALE_MAX = 2000
COMMENT_MAX = 4000
SCORING = "scoring"  # per edition: present once the jury has saved its first sheet


@dataclass(frozen=True)
class Nomination:
    network_id: str
    idea_id: int
    rationale: str
    by: str
    at: str


@dataclass(frozen=True)
class Sheet:
    idea_id: int
    member_id: int
    member: str
    scores: dict[str, int]
    comment: str
    conflict: bool
    at: str


@dataclass(frozen=True)
class Ranked:
    idea: Idea
    result: IdeaResult | None  # None: no complete sheet yet
    sheets: int
    conflicts: int


class Selection:
    """Nominations, jury sheets and finalists for the editions in `contest`."""

    def __init__(self, contest: Contest) -> None:
        self.contest = contest
        self.store = contest.store

    async def _edition(self, year: int) -> Edition:
        edition, _ = await self.contest.edition(year)
        return edition

    @staticmethod
    async def _read_edition(reads: Reads, year: int) -> Edition:
        data = await reads.get("edition", str(year))
        if data is None:
            raise NotFound(N_("There is no contest for %(year)s."), year=year)
        return Edition.from_data(data)

    # Nominations -------------------------------------------------------------------
    async def nominations(self, year: int) -> list[Nomination]:
        found: list[Nomination] = []
        for record in await self.store.list_records(NOMINATIONS):
            if record.key.split(":")[0] == str(year):
                found.extend(Nomination(**item) for item in record.data["nominations"])
        return sorted(found, key=lambda n: (n.network_id, n.at))

    def _check_nominator(self, user: User, idea: Idea, year: int) -> str:
        if idea.year != year or idea.status is not IdeaStatus.SUBMITTED:
            raise Conflict(N_("Only submitted ideas can be nominated."))
        if idea.network_id is None:
            raise Conflict(N_("The idea has not been routed to a network yet."))
        if user.role is Role.COORDINATOR and user.network_id != idea.network_id:
            raise Forbidden(N_("Only the coordinator of the idea's network may do this."))
        if user.role not in (Role.COORDINATOR, Role.ORGANISER):
            raise Forbidden(N_("Your account may not do this."))
        return idea.network_id

    async def nominate(self, user: User, year: int, idea_id: int, rationale: str) -> None:
        """Nominate an idea for its network, with a rationale, within the limit of three."""
        edition = await self._edition(year)
        edition.require(Stage.NOMINATION, self.contest.clock())
        text = rationale.strip()

        async def add(reads: Reads) -> list[Write]:
            network = self._check_nominator(user, await read_idea(reads, idea_id), year)
            if not text or len(text) > RATIONALE_MAX:
                raise BadRequest(
                    N_("Give a rationale of at most %(limit)s characters."),
                    "rationale",
                    limit=RATIONALE_MAX,
                )
            key = nominations_key(year, network)
            items = ((await reads.get(NOMINATIONS, key)) or {"nominations": []})["nominations"]
            if any(item["idea_id"] == idea_id for item in items):
                raise Conflict(N_("The idea is nominated already."))
            if len(items) >= MAX_NOMINATIONS:
                raise Conflict(N_("The network has nominated %(limit)s ideas already; withdraw "
                                  "one to free its place."), limit=MAX_NOMINATIONS)  # fmt: skip
            item = Nomination(network, idea_id, text, user.email, now_iso())
            return [
                Write(NOMINATIONS, key, {"nominations": [*items, item.__dict__]}, "nomination.add")
            ]

        await transact(self.store, add, actor=user.email)

    async def withdraw(self, user: User, year: int, idea_id: int) -> None:
        edition = await self._edition(year)
        edition.require(Stage.NOMINATION, self.contest.clock())

        async def remove(reads: Reads) -> list[Write]:
            network = self._check_nominator(user, await read_idea(reads, idea_id), year)
            key = nominations_key(year, network)
            items = ((await reads.get(NOMINATIONS, key)) or {"nominations": []})["nominations"]
            kept = [item for item in items if item["idea_id"] != idea_id]
            if len(kept) == len(items):
                raise Conflict(N_("The idea is not nominated."))
            return [Write(NOMINATIONS, key, {"nominations": kept}, "nomination.withdraw")]

        await transact(self.store, remove, actor=user.email)

    # The jury ------------------------------------------------------------------------
    async def sheets(self, year: int) -> list[Sheet]:
        found = [Sheet(**r.data) for r in await self.store.list_records("sheet")
                 if r.key.split(":")[0] == str(year)]  # fmt: skip
        return sorted(found, key=lambda s: (s.idea_id, s.member))

    async def save_sheet(
        self, user: User, year: int, idea_id: int, scores: dict[str, str], comment: str,
        conflict: bool,
    ) -> None:  # fmt: skip
        """A member's scores for one nominee, or their declared conflict of interest."""
        if user.role is not Role.JURY:
            raise Forbidden(N_("Only jury members score ideas."))
        edition = await self._edition(year)
        edition.require(Stage.JURY, self.contest.clock())
        if idea_id not in {n.idea_id for n in await self.nominations(year)}:
            raise Conflict(N_("Only nominated ideas are scored."))
        if len(comment) > COMMENT_MAX:
            raise BadRequest(N_("Write at most %(limit)s characters."), "comment",
                             limit=COMMENT_MAX)  # fmt: skip

        async def save(reads: Reads) -> list[Write]:
            criteria = (await self._read_edition(reads, year)).criteria  # checked unchanged
            checked = {} if conflict else _check_scores(criteria, scores)
            sheet = Sheet(
                idea_id, user.id, user.email, checked, comment.strip(), conflict, now_iso()
            )
            key = f"{year}:{idea_id}:{user.id}"
            await reads.get("sheet", key)
            writes = [
                Write("sheet", key, sheet.__dict__, "jury.conflict" if conflict else "jury.score")
            ]
            if await reads.get(SCORING, str(year)) is None:  # the first sheet fixes the criteria
                writes.append(
                    Write(SCORING, str(year), {"by": user.email, "at": sheet.at}, "jury.start")
                )
            return writes

        await transact(self.store, save, actor=user.email)

    async def save_criteria(
        self, actor: str, year: int, criteria: tuple[Criterion, ...], expected_version: int
    ) -> None:
        """New criteria, weights and scales; only before the first score is saved (the
        `scoring` record still absent when the edition is written)."""
        fixed = Conflict(N_("The jury has started scoring, so the criteria are fixed."))
        if await self.sheets(year):
            raise fixed

        async def replace(reads: Reads) -> list[Write]:
            edition = await self._read_edition(reads, year)
            if reads.version("edition", str(year)) != expected_version:
                raise StaleRecord()  # the organiser saw another version: not ours to redo
            if await reads.get(SCORING, str(year)) is not None:
                raise fixed
            changed = Edition(**{**edition.__dict__, "criteria": criteria})
            return [Write("edition", str(year), changed.to_data(), "edition.update")]

        await transact(self.store, replace, actor=actor)

    async def ranking(self, year: int) -> list[Ranked]:
        """Nominees by the jury's weighted mean score, with the spread between members."""
        edition = await self._edition(year)
        nominated = {n.idea_id for n in await self.nominations(year)}
        sheets = [s for s in await self.sheets(year) if s.idea_id in nominated]
        results = {r.idea_id: r for r in aggregate(
            edition.criteria,
            {(s.member, s.idea_id): s.scores for s in sheets},
            [(s.member, s.idea_id) for s in sheets if s.conflict],
        )}  # fmt: skip
        ranked = [
            Ranked(await self.contest.idea(idea_id), results.get(idea_id),
                   sum(1 for s in sheets if s.idea_id == idea_id),
                   sum(1 for s in sheets if s.idea_id == idea_id and s.conflict))
            for idea_id in nominated
        ]  # fmt: skip
        return sorted(
            ranked,
            key=lambda r: (r.result is None, -(r.result.score if r.result else 0), r.idea.id),
        )

    # Finalists and the finale poll ---------------------------------------------------
    async def finalists(self, year: int) -> list[int]:
        record = await self.store.get_record("finalists", str(year))
        return list(record.data["idea_ids"]) if record else []

    async def select_finalists(self, actor: str, year: int, idea_ids: list[int]) -> None:
        """The finalists, while the finale poll does not exist (checked in the same write)."""
        nominated = {n.idea_id for n in await self.nominations(year)}

        async def select(reads: Reads) -> list[Write]:
            edition = await self._read_edition(reads, year)
            if edition.stage(self.contest.clock()) in (Stage.SUBMISSION, Stage.NOMINATION):
                raise Conflict(N_("Finalists are chosen after the nomination deadline."))
            if edition.poll_id is not None:
                raise Conflict(N_("The finale poll exists already, so the finalists are fixed."))
            chosen = list(dict.fromkeys(idea_ids))
            if len(chosen) != edition.finalists:
                raise BadRequest(
                    N_("Choose exactly %(count)s finalists; you chose %(chosen)s."),
                    "finalists",
                    count=edition.finalists,
                    chosen=len(chosen),
                )
            if not set(chosen) <= nominated:
                raise BadRequest(N_("Only nominated ideas can be finalists."), "finalists")
            await reads.get("finalists", str(year))
            data = {"idea_ids": chosen, "by": actor, "at": now_iso()}
            return [Write("finalists", str(year), data, "finalists.select")]

        await transact(self.store, select, actor=actor)

    async def create_finale_poll(self, actor: str, year: int, seed: str | None = None) -> Poll:
        """The finale poll from the selected finalists, once: the poll is made (and
        audited) in the same atomic step that points the edition to it, on condition that
        neither the edition nor the finalists changed since they were read. Two clicks in
        any processes make one poll; the later one gets that poll.

        The finalists are listed in a drawn stage order, not the jury's ranking order
        (which would favour the jury's first): drawn from `seed` (a fresh one when None),
        which the same step records in the audited `finalists.stage_order` write, so
        anyone can redo the draw (`stage_order.seeded_order`)."""
        seed = seed or stage_order.new_seed()
        for attempt in range(RETRIES):
            reads = Reads(self.store)
            edition = await self._read_edition(reads, year)
            if edition.poll_id is not None:
                return await self.store.get_poll(edition.poll_id)
            selected = (await reads.get("finalists", str(year))) or {}
            chosen = selected.get("idea_ids", [])
            if not chosen:
                raise Conflict(N_("Choose the finalists first."))
            drawn = stage_order.seeded_order(chosen, seed)
            ideas = [await self.contest.idea(idea_id) for idea_id in drawn]
            draft = polls.check_draft(
                edition.title, Method.SINGLE, None,  # winners: 3, or fewer finalists if fewer
                [{"name": i.title, "owner": _shortened(i.owner_label, polls.OWNER_MAX),
                  "pitch": _pitch(i)} for i in ideas],
            )  # fmt: skip
            pointer = RecordWrite(
                "edition",
                str(year),
                reads.version("edition", str(year)),
                edition.to_data(),
                "edition.update",
                poll_field="poll_id",
            )
            order = {"seed": seed, "idea_ids": list(drawn)}
            finalists = RecordWrite(
                "finalists",
                str(year),
                reads.version("finalists", str(year)),
                {**selected, "stage_order": order},
                "finalists.stage_order",
                change=(None, order),
            )
            try:
                return await self.store.create_poll(
                    draft, actor=actor, records=[pointer, finalists]
                )
            except StaleRecord:
                await asyncio.sleep(random.random() * 0.002 * (attempt + 1))
        raise StaleRecord


def _pitch(idea: Idea) -> str:
    return _shortened(str(idea.answers.get("need", "")), polls.PITCH_MAX)


def _shortened(text: str, limit: int) -> str:
    """An idea's text made to fit a finalist's field, with "…" where it was shortened:
    an excerpt for the stage, while the idea keeps its whole text."""
    words = " ".join(text.split())
    return words if len(words) <= limit else words[: limit - 1] + "…"


def _check_scores(criteria: tuple[Criterion, ...], scores: dict[str, str]) -> dict[str, int]:
    checked = {}
    for criterion in criteria:
        raw = scores.get(criterion.id, "").strip()
        if not raw:
            continue  # an unfinished sheet is kept, and left out until it is complete
        if not re.fullmatch(r"-?[0-9]+", raw) or not (
            criterion.scale_min <= int(raw) <= criterion.scale_max
        ):
            raise BadRequest(N_("Give a whole number from %(min)s to %(max)s."),
                             f"score_{criterion.id}", min=criterion.scale_min,
                             max=criterion.scale_max)  # fmt: skip
        checked[criterion.id] = int(raw)
    return checked
