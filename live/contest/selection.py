"""From ideas to the finale: nominations, the jury's sheets, the ranking and the finalists.

Each network's nominations are one record, so the three-place limit is checked on the
latest data in the same compare-and-set that writes it (`records.change`): concurrent
clicks can never make a fourth. Each jury sheet is its own record (one member, one idea).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from live.contest.editions import Edition, Stage
from live.contest.ideas import IdeaStatus
from live.contest.jury import Criterion, IdeaResult, aggregate
from live.contest.nominations import MAX_NOMINATIONS
from live.contest.records import Contest, Idea, change
from live.errors import N_, BadRequest, Conflict, Forbidden
from live.finale import polls
from live.store.models import Poll, Role, User
from live.store.timestamps import now_iso
from live.tally import Method

RATIONALE_MAX = 2000
COMMENT_MAX = 4000


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
        self._poll_lock = asyncio.Lock()

    async def _edition(self, year: int) -> Edition:
        edition, _ = await self.contest.edition(year)
        return edition

    # Nominations -------------------------------------------------------------------
    async def nominations(self, year: int) -> list[Nomination]:
        found: list[Nomination] = []
        for record in await self.store.list_records("nominations"):
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
        network = self._check_nominator(user, await self.contest.idea(idea_id), year)
        text = rationale.strip()
        if not text or len(text) > RATIONALE_MAX:
            raise BadRequest(N_("Give a rationale of at most %(limit)s characters."),
                             "rationale", limit=RATIONALE_MAX)  # fmt: skip

        def add(data: dict[str, Any] | None) -> dict[str, Any]:
            items = (data or {"nominations": []})["nominations"]
            if any(item["idea_id"] == idea_id for item in items):
                raise Conflict(N_("The idea is nominated already."))
            if len(items) >= MAX_NOMINATIONS:
                raise Conflict(N_("The network has nominated %(limit)s ideas already; withdraw "
                                  "one to free its place."), limit=MAX_NOMINATIONS)  # fmt: skip
            item = Nomination(network, idea_id, text, user.email, now_iso())
            return {"nominations": [*items, item.__dict__]}

        await change(self.store, "nominations", f"{year}:{network}", add,
                     actor=user.email, action="nomination.add")  # fmt: skip

    async def withdraw(self, user: User, year: int, idea_id: int) -> None:
        edition = await self._edition(year)
        edition.require(Stage.NOMINATION, self.contest.clock())
        network = self._check_nominator(user, await self.contest.idea(idea_id), year)

        def remove(data: dict[str, Any] | None) -> dict[str, Any]:
            items = (data or {"nominations": []})["nominations"]
            kept = [item for item in items if item["idea_id"] != idea_id]
            if len(kept) == len(items):
                raise Conflict(N_("The idea is not nominated."))
            return {"nominations": kept}

        await change(self.store, "nominations", f"{year}:{network}", remove,
                     actor=user.email, action="nomination.withdraw")  # fmt: skip

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
        checked = {} if conflict else _check_scores(edition.criteria, scores)
        sheet = Sheet(idea_id, user.id, user.email, checked, comment.strip(), conflict, now_iso())
        await change(self.store, "sheet", f"{year}:{idea_id}:{user.id}",
                     lambda _: sheet.__dict__, actor=user.email,
                     action="jury.conflict" if conflict else "jury.score")  # fmt: skip

    async def save_criteria(
        self, actor: str, year: int, criteria: tuple[Criterion, ...], expected_version: int
    ) -> None:
        """New criteria, weights and scales; only before the first score is saved."""
        if await self.sheets(year):
            raise Conflict(N_("The jury has started scoring, so the criteria are fixed."))
        edition = await self._edition(year)
        await self.contest.save_edition(
            actor, Edition(**{**edition.__dict__, "criteria": criteria}), expected_version
        )

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
        edition = await self._edition(year)
        if edition.stage(self.contest.clock()) in (Stage.SUBMISSION, Stage.NOMINATION):
            raise Conflict(N_("Finalists are chosen after the nomination deadline."))
        if edition.poll_id is not None:
            raise Conflict(N_("The finale poll exists already, so the finalists are fixed."))
        chosen = list(dict.fromkeys(idea_ids))
        if len(chosen) != edition.finalists:
            raise BadRequest(N_("Choose exactly %(count)s finalists; you chose %(chosen)s."),
                             "finalists", count=edition.finalists, chosen=len(chosen))  # fmt: skip
        nominated = {n.idea_id for n in await self.nominations(year)}
        if not set(chosen) <= nominated:
            raise BadRequest(N_("Only nominated ideas can be finalists."), "finalists")
        await change(self.store, "finalists", str(year),
                     lambda _: {"idea_ids": chosen, "by": actor, "at": now_iso()},
                     actor=actor, action="finalists.select")  # fmt: skip

    async def create_finale_poll(self, actor: str, year: int) -> Poll:
        """The finale poll from the selected finalists, once; the edition points to it."""
        async with self._poll_lock:  # a double click in this process makes one poll
            edition, version = await self.contest.edition(year)
            if edition.poll_id is not None:
                return await self.store.get_poll(edition.poll_id)
            chosen = await self.finalists(year)
            if not chosen:
                raise Conflict(N_("Choose the finalists first."))
            ideas = [await self.contest.idea(idea_id) for idea_id in chosen]
            draft = polls.check_draft(
                edition.title, Method.SINGLE, polls.DEFAULT_WINNERS,
                [{"name": i.title, "owner": _shortened(i.owner_label, polls.OWNER_MAX),
                  "pitch": _pitch(i)} for i in ideas],
            )  # fmt: skip
            poll = await self.store.create_poll(draft)
            await self.contest.save_edition(actor, edition.with_poll(poll.id), version)
            return poll


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
