"""The store contract that every backend keeps (SQLite file, Redis).

Guarantees, checked by `tests/test_store_contract.py` against every real backend:

- **One ballot per token.** A poll holds at most one ballot per voter id. Casting again
  while the poll is open replaces the earlier ballot; it is never counted twice, however
  many submissions with one token arrive at once.
- **Atomicity.** A ballot is recorded only while the poll is open, checked in the same
  atomic step that writes it. Counts are derived from the stored ballots in that same
  step, so they never drift from them. Closing and locking the result is one atomic
  step: a ballot lands either before the lock (and is counted) or is refused.
- **Durability at acknowledgement.** When a write method returns, the change is on
  disk (SQLite: committed with synchronous=FULL; Redis: appended with appendfsync
  always). A process killed after that loses nothing.
- **Ordering of versions.** Every change to a poll raises its `version`; a snapshot's
  counts belong to the version it carries. Listeners hear "(poll id, version)" after a
  change is durable, with a flag saying whether the poll record itself changed (true)
  or only its ballots (false); they may miss or merge notices and must read a snapshot.
- **Locked results never change.** Once closed, a poll's counts are frozen; tie
  resolutions are recorded once per tie and never replaced.

- **Contest records are compare-and-set.** `put_record` writes only if the record is
  still at the version the caller read (0: it must not exist yet), and writes the audit
  entry for the change in the same atomic step, so no change goes unrecorded and no two
  writers overwrite each other unseen. A limit that spans a record (three nominations per
  network) holds under any concurrency when the record is written this way;
  `put_records` does the same for a rule that spans several records.
- **The audit log is complete and atomic.** Every change to a poll takes its `actor` and
  writes its audit entry (subject "poll:ID") in the same atomic step as the change, or
  neither happens. A repeat that changes nothing (`AlreadyDone`, a place shown already,
  `close_if_due` answering False) writes none.

Errors: `NotFound` for an unknown poll or user, `Conflict` for a request that clashes
with the current state, `Unavailable` when the backend cannot be reached (nothing was
written, or the write is not acknowledged).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from live.errors import N_, Conflict
from live.store.models import (
    ApiToken,
    AuditEntry,
    Badge,
    Ballot,
    BallotRecord,
    CastOutcome,
    Exclusion,
    LockedResult,
    Poll,
    PollDraft,
    PollStatus,
    Record,
    RecordWrite,
    Role,
    Session,
    Snapshot,
    TieResolution,
    User,
)
from live.tokens import VoterToken

ChangeListener = Callable[[int, int, bool], None]
"""Called on the event loop with (poll id, version, poll changed) after a change is durable.

`poll changed` is false when only ballots changed (the poll record itself did not), so
that caches of the poll need not be dropped on every vote."""


class Store(Protocol):
    async def open(self) -> None:
        """Connect and bring the schema up to date; idempotent across processes."""

    async def close(self) -> None:
        """Flush pending writes and release every connection."""

    def add_listener(self, listener: ChangeListener) -> None:
        """Hear of every change to any poll, from this process and (Redis) all others."""

    # Health ------------------------------------------------------------------
    def is_alive(self) -> bool:
        """Whether this process's own part of the store works, judged without I/O (for
        `/healthz`): SQLite's writer thread takes writes; Redis' change listener runs."""

    async def check_writable(self) -> None:
        """Prove that the store is reachable and takes a durable write now, by a tiny
        write of its own (for `/readyz`); `Unavailable` otherwise."""

    # Polls -------------------------------------------------------------------
    async def create_poll(
        self, draft: PollDraft, *, actor: str, records: Sequence[RecordWrite] = ()
    ) -> Poll:
        """Store a new draft poll with a fresh unique join code (audited: `poll.create`).

        `records` are written (or checked) as `put_records` does, in the same atomic step,
        each with its `poll_field` set to the new poll's id: StaleRecord, and no poll, if
        one of them is no longer at its expected version."""

    async def update_poll(self, poll_id: int, draft: PollDraft, *, actor: str) -> Poll:
        """Replace a draft poll's title, method, winners and finalists; Conflict unless draft."""

    async def get_poll(self, poll_id: int) -> Poll:
        """The poll with this id; NotFound otherwise."""

    async def find_poll(self, code: str) -> Poll:
        """The poll with this join code (exact, upper case); NotFound otherwise."""

    async def list_polls(self) -> list[Poll]:
        """All polls, newest first."""

    async def open_poll(self, poll_id: int, *, actor: str) -> Poll:
        """draft -> open. `AlreadyDone` when open already; Conflict when closed."""

    async def close_poll(self, poll_id: int, *, actor: str) -> Poll:
        """open -> closed, freezing the counts as the locked result in the same step.

        `AlreadyDone` when closed already; Conflict for a draft. A countdown still
        running is dropped: the poll closed now instead."""

    async def set_countdown(self, poll_id: int, seconds: int | None, *, actor: str) -> Poll:
        """Set an open poll's closing time to the store's now + `seconds`, or drop it (None).

        From that moment on, `cast_ballot` refuses every vote (judged by the store's own
        clock in the atomic step that would record it), even before `close_if_due` runs.
        Conflict unless the poll is open and its closing time has not passed."""

    async def close_if_due(self, poll_id: int, closes_at_ms: int, *, actor: str) -> bool:
        """Close the poll as `close_poll` does if it is open, its closing time is still
        `closes_at_ms` (not moved meanwhile) and that time has passed by the store's clock.

        `closed_at` is then the closing time itself. True when this call closed it; False
        (and no change) otherwise, so any number of processes may call it."""

    async def set_hide_counts(self, poll_id: int, hidden: bool, *, actor: str) -> Poll:
        """Hide or show the counts on the public stream (no change if they are so already)."""

    async def reveal_to(self, poll_id: int, revealed: int, limit: int, *, actor: str) -> Poll:
        """Show `revealed` places: raise `revealed` from `revealed - 1` to `revealed`.

        A poll that shows that many places already is left as it is (a repeated intent).
        Conflict unless the poll is closed, `1 <= revealed <= limit`, and the places
        before it are shown."""

    async def set_show_results(self, poll_id: int, shown: bool, *, actor: str) -> Poll:
        """Show or hide the full result on the stage; Conflict unless the poll is closed."""

    async def set_expected_voters(self, poll_id: int, expected: int | None, *, actor: str) -> Poll:
        """Set the number of voters the organiser expects (for the console), in any status."""

    # Ballots -----------------------------------------------------------------
    async def cast_ballot(
        self, token: VoterToken, choices: Sequence[int], sent_at: int | None, receipt: str = ""
    ) -> CastOutcome:
        """Record `token`'s ballot, replacing its earlier one; Conflict unless the poll is
        open and its closing time (if any) has not passed.

        `sent_at` is the voter's own submission clock (milliseconds); a submission whose
        `sent_at` is not newer than the recorded one is stale and changes nothing, so a
        late network retry never undoes a later change of mind. `choices` must already
        be checked against the poll (`tally.check_choices`). `receipt` is kept with the
        first submission and never changes (`live.tokens.receipt_code` of the voter).

        A badge token (`kind` "badge", voter id `badge_voter_id(code)`) is checked in the
        same atomic step: Forbidden unless the badge exists for this poll and is not
        revoked. A ballot that an exclusion decision took out stays out: Forbidden.
        `token.flagged` is kept with the ballot (`BallotRecord.flagged`).
        """

    async def get_ballot(self, poll_id: int, voter_id: str) -> Ballot | None:
        """The ballot recorded for this voter, if any."""

    async def snapshot(self, poll_id: int) -> Snapshot:
        """The poll and its choice counts at one consistent instant."""

    async def get_result(self, poll_id: int) -> LockedResult:
        """The locked result of a closed poll; Conflict while it is not closed."""

    async def resolve_tie(self, poll_id: int, resolution: TieResolution) -> LockedResult:
        """Record how a tie was resolved, audited as `resolution.decided_by`; `AlreadyDone`
        if that tie already has a resolution."""

    async def list_ballots(self, poll_id: int) -> list[BallotRecord]:
        """Every stored ballot of the poll (counted and excluded), ordered by receipt:
        an order unrelated to voting order. Once the poll is closed they never change,
        and the counted ones (`excluded_by` None) are exactly the locked counts."""

    # Badges and exclusions -----------------------------------------------------
    async def add_badges(self, poll_id: int, codes: Sequence[str], *, actor: str) -> None:
        """Keep new badges for a poll that is not closed (audited `poll.badges` with their
        number, not the codes). Conflict when the poll is closed or a code exists already
        (for any poll): then none is added."""

    async def list_badges(self, poll_id: int) -> list[Badge]:
        """The poll's badges in the order they were made, with `used` and `revoked_at`."""

    async def find_badge(self, code: str) -> Badge | None:
        """The badge with this code, for whichever poll; None when there is none."""

    async def revoke_badge(self, poll_id: int, code: str, *, actor: str) -> Badge:
        """Revoke a badge of this poll (audited `poll.badge_revoke`). In the same atomic
        step its ballot, if any, is removed, and so no longer counted. NotFound for a code
        the poll does not have; `AlreadyDone` when revoked already; Conflict once the
        poll is closed (its result is locked)."""

    async def exclude_flagged(self, poll_id: int, note: str, *, actor: str) -> Exclusion:
        """The organisers' recorded decision, while the poll is open, to take every flagged
        ballot that still counts out of the count (audited `poll.exclude`, one atomic step).
        Conflict unless open, or when no flagged ballot counts."""

    async def list_exclusions(self, poll_id: int) -> list[Exclusion]:
        """The poll's exclusion decisions, oldest first."""

    # People ------------------------------------------------------------------
    async def create_user(
        self,
        email: str,
        role: Role,
        password_hash: str | None,
        network_id: str | None = None,
        *,
        actor: str | None = None,
    ) -> User:
        """A new account; Conflict if the e-mail address is taken in any case (compared
        case-folded, so ÆRLIG@… and ærlig@… are one address).

        `password_hash` None makes an account that cannot log in until a password is set
        (an invited person). `network_id` binds a coordinator to a network. The audit
        entry `account.create` (by `actor`, else the account itself) is written in the
        same atomic step."""

    async def list_users(self) -> list[User]:
        """Every account, in the order they were made."""

    async def set_password(
        self, user_id: int, password_hash: str, *, actor: str | None = None
    ) -> None:
        """Replace an account's password hash and, in the same atomic step, end every
        session and revoke every API token of the account (whoever held the old
        credentials is cut off at once, on every worker and host) and audit it as
        `account.password` by `actor` (None: the account itself)."""

    async def get_user(self, email: str) -> User:
        """The account with this e-mail address (any case, case-folded); NotFound otherwise."""

    async def create_session(
        self, user_id: int, token_digest: str, csrf: str, expires_at: float
    ) -> None:
        """Keep a login session under the digest of its cookie value, created now."""

    async def get_session(self, token_digest: str) -> Session | None:
        """The live session with this digest, or None when unknown or expired."""

    async def touch_session(self, token_digest: str, expires_at: float) -> None:
        """Move a live session's end to `expires_at` (epoch seconds). A session that
        has ended (logged out, expired, cut off by `set_password`) stays ended."""

    async def delete_session(self, token_digest: str) -> None:
        """End a session (log out)."""

    async def create_api_token(
        self,
        user_id: int,
        token_digest: str,
        name: str = "",
        expires_at: float | None = None,
        *,
        actor: str | None = None,
    ) -> ApiToken:
        """Keep an API bearer token under its digest, with a name and an optional end
        (epoch seconds), audited as `api_token.create` by `actor` (None: the account
        itself) in the same atomic step. Its id is new and never handed out again."""

    async def get_api_user(self, token_digest: str) -> User | None:
        """The account that owns this API token digest; None when the token is unknown,
        revoked or past its end."""

    async def list_api_tokens(self, user_id: int | None = None) -> list[ApiToken]:
        """The API tokens of one account (None: of every account), oldest first,
        expired ones included until they are revoked."""

    async def revoke_api_token(self, token_id: int, *, actor: str | None = None) -> ApiToken:
        """Revoke a token for good, audited as `api_token.revoke` by `actor` (None: its
        owner) in the same atomic step; it no longer opens the API anywhere. NotFound
        when there is no token with this id (or it was revoked already)."""

    # Abuse limits --------------------------------------------------------------
    async def hit(self, key: str, window_seconds: int, limit: int, cost: int = 1) -> float | None:
        """Count `cost` hits against `key` in a fixed window of `window_seconds` that
        starts with the key's first hit. None while the window holds at most `limit`
        hits (these included); else the seconds until the window ends. `cost` 0 only
        asks. Counting is atomic and shared by every process on the store, so a limit
        holds across workers and hosts."""

    async def clear_hits(self, key: str) -> None:
        """Forget the hits counted against `key` (a login that succeeded)."""

    async def count_hits(self, key: str) -> int:
        """The hits counted against `key` in its current window (0 when it has ended)."""

    # Contest records and the audit log ----------------------------------------
    async def next_id(self, sequence: str) -> int:
        """The next number (1, 2, …) of a named sequence, never handed out twice."""

    async def get_record(self, kind: str, key: str) -> Record | None:
        """The record `kind`/`key`, or None if it was never written."""

    async def list_records(self, kind: str) -> list[Record]:
        """Every record of one kind, in no particular order."""

    async def put_record(
        self,
        kind: str,
        key: str,
        data: dict[str, Any],
        *,
        expected_version: int,
        actor: str,
        action: str,
    ) -> Record:
        """Write `data` if the record is at `expected_version` (0: absent); else StaleRecord.

        In the same atomic step, append an audit entry (`actor`, `action`, subject
        "kind:key", the data before and after). Returns the record as written."""

    async def put_records(self, writes: Sequence[RecordWrite], *, actor: str) -> list[Record]:
        """Write every record of `writes` that has data, if each of `writes` is at its
        expected version; else StaleRecord and nothing is written.

        One audit entry per written record, all in the same atomic step. Returns the
        written records in the order given."""

    async def append_audit(
        self, actor: str, action: str, subject: str, before: Any = None, after: Any = None
    ) -> AuditEntry:
        """Record a change made elsewhere in the store (a poll opened, a user invited)."""

    async def list_audit(self, after_id: int = 0, limit: int = 10_000) -> list[AuditEntry]:
        """Audit entries with id > `after_id`, oldest first, at most `limit`."""

    async def list_audit_before(
        self, before_id: int | None = None, limit: int = 200
    ) -> list[AuditEntry]:
        """Audit entries with id < `before_id` (None: the latest), newest first, at most
        `limit`; only those are read."""


BADGE_UNKNOWN = N_(
    "This badge is not valid for this poll. Check the code on your badge, or scan its QR code."
)
BADGE_REVOKED = N_("This badge has been revoked, so it cannot vote. Ask the organisers for help.")
EXCLUDED = N_(
    "Your ballot was taken out of the count by a recorded decision of the organisers,"
    " so it cannot be changed. Ask the organisers if you think this is wrong."
)


class StaleRecord(Conflict):
    """`put_record` found another version than the writer read: someone wrote in between."""

    def __init__(self) -> None:
        super().__init__(
            N_("Someone else changed this at the same moment. Reload the page and try again.")
        )


class AlreadyDone(Conflict):
    """The poll is already where the request would take it. A repeated intent (a second
    tap on "open", a retry of "close") is harmless: callers that act on intents treat
    this as success."""


def transition_conflict(status: PollStatus, target: PollStatus) -> Conflict:
    """The error for a status change that the poll's current status does not allow."""
    if status is target:
        if target is PollStatus.OPEN:
            return AlreadyDone(N_("The poll is open already."))
        return AlreadyDone(N_("The poll is closed already."))
    if target is PollStatus.OPEN:
        return Conflict(N_("A closed poll cannot be opened again; its result is locked."))
    return Conflict(N_("The poll has not been opened yet, so it cannot be closed."))
