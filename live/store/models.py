"""The records the store keeps, as frozen dataclasses shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from live.store.timestamps import iso_from_ms
from live.tally import Method, Standing, count, max_choices


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


class Eligibility(StrEnum):
    """Who may vote in a poll; fixed once the poll opens."""

    OPEN = "open"  # anyone with the ballot page: one ballot per device token
    BADGE = "badge"  # only holders of a one-time badge: one ballot per badge


@dataclass(frozen=True)
class FinalistDraft:
    name: str
    pitch: str = ""
    owner: str = ""


@dataclass(frozen=True)
class PollSettings:
    """How a poll is run, beside its title and finalists; fixed once the poll opens
    (except `expected_voters`, a figure for the console that may change any time).

    `max_choices` is the k of approval voting (1 <= k < finalists) and None for the other
    methods; `tie_rule` is the rule announced for a tie for a winning place."""

    eligibility: Eligibility = Eligibility.OPEN
    max_choices: int | None = None
    tie_rule: TieRule = TieRule.LOTS
    expected_voters: int | None = None


@dataclass(frozen=True)
class PollDraft:
    """A poll as an organiser describes it; checked by `live.finale.polls.check_draft`.

    The finalists' order is the stage's fixed order (the organiser's choice or a draw);
    each voter sees them in an order of their own (`live.finale.order`)."""

    title: str
    method: Method
    winners: int
    finalists: tuple[FinalistDraft, ...]
    settings: PollSettings = PollSettings()


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
    settings: PollSettings = PollSettings()

    @property
    def eligibility(self) -> Eligibility:
        return self.settings.eligibility

    @property
    def tie_rule(self) -> TieRule:
        return self.settings.tie_rule

    @property
    def choice_limit(self) -> int:
        """How many finalists one ballot may name."""
        return max_choices(self.method, self.settings.max_choices)

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
    receipt: str = ""  # the voter's public receipt code (`live.tokens.receipt_code`)


@dataclass(frozen=True)
class BallotRecord:
    """A stored ballot as the bulletin and the organisers' lists see it: no voter id.

    `flagged`: cast with a voter token issued while its address took tokens faster than
    a hall does. `excluded_by`: the id of the organisers' recorded exclusion decision
    that took it out of the count, or None while it counts."""

    receipt: str
    choices: ChoicePattern
    kind: str
    flagged: bool
    excluded_by: int | None
    updated_at: str


@dataclass(frozen=True)
class Badge:
    """A one-time badge of a badge poll; its ballot is the poll's ballot of voter
    `badge_voter_id(code)`."""

    code: str
    poll_id: int
    created_at: str
    revoked_at: str | None = None
    used: bool = False  # a ballot is recorded for it now


@dataclass(frozen=True)
class Exclusion:
    """An organiser's recorded decision to take flagged ballots out of an open poll's count."""

    id: int
    poll_id: int
    note: str
    decided_by: str
    decided_at: str
    ballots: int  # how many ballots the decision took out


def badge_voter_id(code: str) -> str:
    """The voter id under which a badge's ballot is kept: one ballot per badge."""
    return f"badge:{code}"


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
    """A login session. It ends at `expires_at` (epoch seconds), which use moves on,
    never past `created_at` plus the longest a session may live."""

    user: User
    csrf: str
    expires_at: float
    created_at: float = 0.0


@dataclass(frozen=True)
class ApiToken:
    """An API bearer token as its owner and organisers see it: never the secret itself."""

    id: int
    user_id: int
    name: str
    created_at: str  # ISO 8601, UTC
    expires_at: float | None = None  # epoch seconds; None: until revoked

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and self.expires_at <= now


def audit_data(token: ApiToken) -> dict[str, Any]:
    """What the audit log keeps of an API token (never its secret or digest)."""
    expires = None if token.expires_at is None else iso_from_ms(int(token.expires_at * 1000))
    return {"user_id": token.user_id, "name": token.name, "expires_at": expires}


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
class RecordWrite:
    """One record in `Store.put_records`, at `expected_version` (0: it must not exist yet).

    With `data` the record is written and audited as `action`; without, its version is
    only checked, so that a rule read from it still holds when the others are written.
    `change` is what the audit entry keeps as before and after (None: the whole data).
    `poll_field`, with `Store.create_poll`, is the field of `data` set to the new poll's id.
    """

    kind: str
    key: str
    expected_version: int
    data: dict[str, Any] | None = None
    action: str = ""
    change: tuple[Any, Any] | None = None
    poll_field: str | None = None


def poll_summary(poll: Poll | PollDraft) -> dict[str, Any]:
    """What the audit log keeps of a poll's set-up: title, method, winners, finalists'
    names in the stage's order, and the settings."""
    return {
        "title": poll.title,
        "method": poll.method.value,
        "winners": poll.winners,
        "finalists": [f.name for f in poll.finalists],
        "eligibility": poll.settings.eligibility.value,
        "max_choices": poll.settings.max_choices,
        "tie_rule": poll.settings.tie_rule.value,
        "expected_voters": poll.settings.expected_voters,
    }


def tie_summary(resolution: TieResolution) -> dict[str, Any]:
    """What the audit log keeps of a tie's resolution (who and when are the entry's own)."""
    return {
        "rule": resolution.rule.value,
        "order": list(resolution.order),
        "seed": resolution.seed,
        "note": resolution.note,
    }


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
