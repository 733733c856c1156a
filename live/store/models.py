"""The records the store keeps, as frozen dataclasses shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from live.store.timestamps import iso_from_ms
from live.tally import Method, Standing, count


class PollStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class Role(StrEnum):
    ORGANISER = "organiser"
    HOST = "host"
    COORDINATOR = "coordinator"  # of one regional network or the college (`User.network_id`)
    JURY = "jury"


class TieRule(StrEnum):
    LOTS = "lots"
    DECISION = "decision"


@dataclass(frozen=True)
class FinalistDraft:
    name: str
    pitch: str = ""
    owner: str = ""


@dataclass(frozen=True)
class PollDraft:
    """A poll as an organiser describes it; checked by `live.finale.polls.check_draft`."""

    title: str
    method: Method
    winners: int
    finalists: tuple[FinalistDraft, ...]


@dataclass(frozen=True)
class Finalist:
    id: int
    name: str
    pitch: str
    owner: str


@dataclass(frozen=True)
class Poll:
    id: int
    code: str
    title: str
    method: Method
    winners: int
    status: PollStatus
    hide_counts: bool
    revealed: int
    version: int
    finalists: tuple[Finalist, ...]
    created_at: str
    opened_at: str | None
    closed_at: str | None
    closes_at_ms: int | None = None  # the countdown's end while open (epoch milliseconds)
    show_results: bool = False  # the organiser showed the full result after the reveal

    @property
    def closes_at(self) -> str | None:
        """The countdown's end as ISO 8601 with offset, or None."""
        return None if self.closes_at_ms is None else iso_from_ms(self.closes_at_ms)

    @property
    def reveal_complete(self) -> bool:
        return self.status is PollStatus.CLOSED and self.revealed >= self.winners

    @property
    def finalist_ids(self) -> tuple[int, ...]:
        return tuple(f.id for f in self.finalists)

    def finalist(self, finalist_id: int) -> Finalist | None:
        return next((f for f in self.finalists if f.id == finalist_id), None)


ChoicePattern = tuple[int, ...]


@dataclass(frozen=True)
class Ballot:
    choices: ChoicePattern
    revision: int
    updated_at: str


@dataclass(frozen=True)
class CastOutcome:
    """What `cast_ballot` did. `ballot` is what is recorded now, after the call.

    `stale` is true when the submission was older than the recorded ballot (a late
    retry) and so changed nothing.
    """

    ballot: Ballot
    replaced: bool
    stale: bool


@dataclass(frozen=True)
class TieResolution:
    order: tuple[int, ...]
    rule: TieRule
    seed: str | None
    note: str
    decided_by: str
    decided_at: str


@dataclass(frozen=True)
class Snapshot:
    """A poll, its choice counts and tie resolutions, read at one instant (`poll.version`)."""

    poll: Poll
    counts: tuple[tuple[ChoicePattern, int], ...]
    resolutions: tuple[TieResolution, ...] = ()

    @property
    def ballots(self) -> int:
        return sum(number for _, number in self.counts)


@dataclass(frozen=True)
class LockedResult:
    """The counts frozen when the poll closed, and the recorded tie resolutions.

    The standings are a pure function of the frozen counts, so they never change.
    """

    poll_id: int
    method: Method
    finalist_ids: tuple[int, ...]
    counts: tuple[tuple[ChoicePattern, int], ...]
    locked_at: str
    resolutions: tuple[TieResolution, ...]

    @property
    def ballots(self) -> int:
        return sum(number for _, number in self.counts)

    @property
    def standings(self) -> tuple[Standing, ...]:
        return count(self.method, self.finalist_ids, self.counts).standings


@dataclass(frozen=True)
class User:
    id: int
    email: str
    role: Role
    password_hash: str | None
    created_at: str
    network_id: str | None = None  # the network a coordinator nominates for


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires_at: float


@dataclass(frozen=True)
class Record:
    """A contest record (an edition, an idea, a network's nominations…) as JSON data.

    `version` starts at 1 and rises by one on every write, so a writer can say which
    version it read and have its write refused if someone else wrote in between.
    """

    kind: str
    key: str
    version: int
    data: dict[str, Any]
    updated_at: str


@dataclass(frozen=True)
class AuditEntry:
    """One change: who made it, what it was, to what, and the data before and after."""

    id: int
    at: str
    actor: str
    action: str
    subject: str
    before: Any = None
    after: Any = None
