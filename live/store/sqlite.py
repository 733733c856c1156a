"""The embedded default store: one SQLite file in WAL mode (see `_sqlite_engine`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from live.errors import N_, Conflict, Forbidden, NotFound
from live.store._sqlite_accounts import SQLiteAccounts
from live.store._sqlite_engine import SQLiteEngine, Tx
from live.store._sqlite_records import SQLiteRecords, insert_audit, put_records_in, to_json
from live.store.base import (
    BADGE_REVOKED,
    BADGE_UNKNOWN,
    EXCLUDED,
    AlreadyDone,
    ChangeListener,
    transition_conflict,
)
from live.store.codes import new_poll_code
from live.store.models import (
    Badge,
    Ballot,
    BallotRecord,
    CastOutcome,
    Eligibility,
    Exclusion,
    Finalist,
    LockedResult,
    Poll,
    PollDraft,
    PollSettings,
    PollStatus,
    RecordWrite,
    Snapshot,
    TieResolution,
    TieRule,
    badge_voter_id,
    poll_summary,
    tie_summary,
)
from live.store.timestamps import iso_from_ms, now_iso, now_ms
from live.tally import Method
from live.tokens import TOKEN_KIND_BADGE, VoterToken


def _encode(choices: Sequence[int]) -> str:
    return ",".join(str(choice) for choice in choices)


def _decode(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",")) if text else ()


class SQLiteStore(SQLiteAccounts, SQLiteRecords):
    def __init__(self, path: Path) -> None:
        self._listeners: list[ChangeListener] = []
        self._engine = SQLiteEngine(path, self._notify)

    def _notify(self, changes: list[tuple[int, int, bool]]) -> None:
        """One notice per poll for a whole batch: its latest version, and whether any
        change in the batch touched the poll record itself."""
        latest: dict[int, tuple[int, bool]] = {}
        for poll_id, version, poll_changed in changes:
            known, touched = latest.get(poll_id, (0, False))
            latest[poll_id] = (max(version, known), touched or poll_changed)
        for listener in self._listeners:
            for poll_id, (version, poll_changed) in latest.items():
                listener(poll_id, version, poll_changed)

    async def open(self) -> None:
        await self._engine.start()

    async def close(self) -> None:
        await self._engine.stop()

    def add_listener(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    @property
    def path(self) -> Path:
        """The database file."""
        return self._engine.path

    def is_alive(self) -> bool:
        return self._engine.writer_alive()

    async def check_writable(self) -> None:
        def probe(tx: Tx) -> None:  # a sequence nobody reads; see live.store.backup
            tx.conn.execute(
                "INSERT INTO sequences (name, value) VALUES ('live:health', 1)"
                " ON CONFLICT (name) DO UPDATE SET value = value + 1"
            )

        await self._engine.write(probe)

    # Polls -------------------------------------------------------------------
    async def create_poll(
        self, draft: PollDraft, *, actor: str, records: Sequence[RecordWrite] = ()
    ) -> Poll:
        def create(tx: Tx) -> int:
            for _ in range(20):
                stamp = now_iso()
                try:
                    cursor = tx.conn.execute(
                        "INSERT INTO polls (code, title, method, winners, created_at, eligibility,"
                        " max_choices, tie_rule, expected_voters)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            new_poll_code(),
                            draft.title,
                            draft.method,
                            draft.winners,
                            stamp,
                            *_settings_row(draft.settings),
                        ),
                    )
                except sqlite3.IntegrityError:
                    continue  # the code was taken; draw another
                poll_id = int(cursor.lastrowid or 0)
                _insert_finalists(tx.conn, poll_id, draft)
                _audit(tx, actor, "poll.create", poll_id, after=poll_summary(draft), at=stamp)
                put_records_in(tx, records, actor, stamp, poll_id)
                tx.changed(poll_id, 1)
                return poll_id
            raise Conflict(N_("Could not find a free poll code. Try again."))

        return await self.get_poll(await self._engine.write(create))

    async def update_poll(self, poll_id: int, draft: PollDraft, *, actor: str) -> Poll:
        def update(tx: Tx) -> None:
            if _status(tx.conn, poll_id) is not PollStatus.DRAFT:
                raise Conflict(N_("Only a draft poll can be edited, before voting opens."))
            before = poll_summary(_load_poll(tx.conn, "id", poll_id))
            _audit(tx, actor, "poll.update", poll_id, before, poll_summary(draft))
            tx.conn.execute(
                "UPDATE polls SET title = ?, method = ?, winners = ?, eligibility = ?,"
                " max_choices = ?, tie_rule = ?, expected_voters = ? WHERE id = ?",
                (draft.title, draft.method, draft.winners, *_settings_row(draft.settings), poll_id),
            )
            tx.conn.execute("DELETE FROM finalists WHERE poll_id = ?", (poll_id,))
            _insert_finalists(tx.conn, poll_id, draft)
            tx.changed(poll_id, _bump(tx.conn, poll_id))

        await self._engine.write(update)
        return await self.get_poll(poll_id)

    async def get_poll(self, poll_id: int) -> Poll:
        return await self._engine.read(lambda conn: _load_poll(conn, "id", poll_id))

    async def find_poll(self, code: str) -> Poll:
        return await self._engine.read(lambda conn: _load_poll(conn, "code", code))

    async def list_polls(self) -> list[Poll]:
        def list_all(conn: sqlite3.Connection) -> list[Poll]:
            ids = [row[0] for row in conn.execute("SELECT id FROM polls ORDER BY id DESC")]
            return [_load_poll(conn, "id", poll_id) for poll_id in ids]

        return await self._engine.read(list_all)

    async def open_poll(self, poll_id: int, *, actor: str) -> Poll:
        def open_it(tx: Tx) -> None:
            status = _status(tx.conn, poll_id)
            if status is not PollStatus.DRAFT:
                raise transition_conflict(status, PollStatus.OPEN)
            _audit(tx, actor, "poll.open", poll_id)
            tx.conn.execute(
                "UPDATE polls SET status = 'open', opened_at = ? WHERE id = ?", (now_iso(), poll_id)
            )
            tx.changed(poll_id, _bump(tx.conn, poll_id))

        await self._engine.write(open_it)
        return await self.get_poll(poll_id)

    async def close_poll(self, poll_id: int, *, actor: str) -> Poll:
        def close(tx: Tx) -> None:
            status = _status(tx.conn, poll_id)
            if status is not PollStatus.OPEN:
                raise transition_conflict(status, PollStatus.CLOSED)
            _audit(tx, actor, "poll.close", poll_id)
            _lock(tx, poll_id, now_iso(), closes_at_ms=None)

        await self._engine.write(close)
        return await self.get_poll(poll_id)

    async def close_if_due(self, poll_id: int, closes_at_ms: int, *, actor: str) -> bool:
        def close(tx: Tx) -> bool:
            row = tx.conn.execute(
                "SELECT status, closes_at_ms FROM polls WHERE id = ?", (poll_id,)
            ).fetchone()
            if row is None or row[0] != "open" or row[1] != closes_at_ms or closes_at_ms > now_ms():
                return False
            _audit(tx, actor, "poll.close", poll_id, after={"closes_at_ms": closes_at_ms})
            _lock(tx, poll_id, iso_from_ms(closes_at_ms), closes_at_ms=closes_at_ms)
            return True

        return await self._engine.write(close)

    async def set_countdown(self, poll_id: int, seconds: int | None, *, actor: str) -> Poll:
        def countdown(tx: Tx) -> None:
            _check_open(tx.conn, poll_id, N_("A countdown can run only while voting is open."))
            _audit(tx, actor, "poll.countdown", poll_id, after={"seconds": seconds})
            closes = None if seconds is None else now_ms() + seconds * 1000
            tx.conn.execute("UPDATE polls SET closes_at_ms = ? WHERE id = ?", (closes, poll_id))
            tx.changed(poll_id, _bump(tx.conn, poll_id))

        await self._engine.write(countdown)
        return await self.get_poll(poll_id)

    async def set_expected_voters(self, poll_id: int, expected: int | None, *, actor: str) -> Poll:
        def expect(tx: Tx) -> None:
            _status(tx.conn, poll_id)
            row = tx.conn.execute("SELECT expected_voters FROM polls WHERE id = ?", (poll_id,))
            before = row.fetchone()[0]
            if before == expected:
                return  # so already: a repeated intent changes nothing
            _audit(
                tx,
                actor,
                "poll.expected_voters",
                poll_id,
                {"expected_voters": before},
                {"expected_voters": expected},
            )
            tx.conn.execute(
                "UPDATE polls SET expected_voters = ? WHERE id = ?", (expected, poll_id)
            )
            tx.changed(poll_id, _bump(tx.conn, poll_id))

        await self._engine.write(expect)
        return await self.get_poll(poll_id)

    async def set_hide_counts(self, poll_id: int, hidden: bool, *, actor: str) -> Poll:
        def hide(tx: Tx) -> None:
            _status(tx.conn, poll_id)
            current = tx.conn.execute("SELECT hide_counts FROM polls WHERE id = ?", (poll_id,))
            if bool(current.fetchone()[0]) == hidden:
                return  # so already: a repeated intent changes nothing
            _audit(tx, actor, "poll.hide" if hidden else "poll.show", poll_id)
            tx.conn.execute("UPDATE polls SET hide_counts = ? WHERE id = ?", (hidden, poll_id))
            tx.changed(poll_id, _bump(tx.conn, poll_id))

        await self._engine.write(hide)
        return await self.get_poll(poll_id)

    async def reveal_to(self, poll_id: int, revealed: int, limit: int, *, actor: str) -> Poll:
        def reveal(tx: Tx) -> None:
            if _status(tx.conn, poll_id) is not PollStatus.CLOSED:
                raise Conflict(N_("Places can be revealed only after the poll is closed."))
            shown = tx.conn.execute("SELECT revealed FROM polls WHERE id = ?", (poll_id,))
            current = int(shown.fetchone()[0])
            if current >= revealed:
                return  # shown already: a repeated intent changes nothing
            if not 1 <= revealed <= limit or current != revealed - 1:
                raise Conflict(N_("There is no further decided place to reveal."))
            _audit(tx, actor, "poll.reveal", poll_id, {"revealed": current}, {"revealed": revealed})
            tx.conn.execute("UPDATE polls SET revealed = ? WHERE id = ?", (revealed, poll_id))
            tx.changed(poll_id, _bump(tx.conn, poll_id))

        await self._engine.write(reveal)
        return await self.get_poll(poll_id)

    async def set_show_results(self, poll_id: int, shown: bool, *, actor: str) -> Poll:
        def show(tx: Tx) -> None:
            if _status(tx.conn, poll_id) is not PollStatus.CLOSED:
                raise Conflict(N_("The full result can be shown only after the poll is closed."))
            current = tx.conn.execute("SELECT show_results FROM polls WHERE id = ?", (poll_id,))
            if bool(current.fetchone()[0]) == shown:
                return  # so already: a repeated intent changes nothing
            _audit(tx, actor, "poll.results", poll_id, after={"shown": shown})
            tx.conn.execute("UPDATE polls SET show_results = ? WHERE id = ?", (shown, poll_id))
            tx.changed(poll_id, _bump(tx.conn, poll_id))

        await self._engine.write(show)
        return await self.get_poll(poll_id)

    # Ballots -----------------------------------------------------------------
    async def cast_ballot(
        self, token: VoterToken, choices: Sequence[int], sent_at: int | None, receipt: str = ""
    ) -> CastOutcome:
        encoded = _encode(choices)

        def cast(tx: Tx) -> CastOutcome:
            poll_id = token.poll_id
            _check_open(tx.conn, poll_id, N_("Voting is not open for this poll."))
            if token.kind == TOKEN_KIND_BADGE:
                _check_badge(tx.conn, poll_id, token.voter_id)
            row = tx.conn.execute(
                "SELECT choices, revision, updated_at, sent_at, receipt, excluded_by FROM ballots"
                " WHERE poll_id = ? AND voter_id = ?",
                (poll_id, token.voter_id),
            ).fetchone()
            if row is not None and row[5] is not None:
                raise Forbidden(EXCLUDED)
            if row is not None and sent_at is not None and row[3] is not None and sent_at <= row[3]:
                return CastOutcome(
                    Ballot(_decode(row[0]), row[1], row[2], row[4] or ""), False, True
                )
            stamp = now_iso()
            if row is None:
                tx.conn.execute(
                    "INSERT INTO ballots (poll_id, voter_id, token_kind, choices, receipt, sent_at,"
                    " cast_at, updated_at, flagged) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        poll_id,
                        token.voter_id,
                        token.kind,
                        encoded,
                        receipt or None,
                        sent_at,
                        stamp,
                        stamp,
                        token.flagged,
                    ),
                )
                revision, kept = 1, receipt
            else:
                revision, kept = row[1] + 1, row[4] or ""
                tx.conn.execute(
                    "UPDATE ballots SET choices = ?, sent_at = ?, revision = ?, updated_at = ?"
                    " WHERE poll_id = ? AND voter_id = ?",
                    (encoded, sent_at, revision, stamp, poll_id, token.voter_id),
                )
            tx.changed(poll_id, _bump(tx.conn, poll_id), poll_changed=False)
            outcome = Ballot(tuple(choices), revision, stamp, kept)
            return CastOutcome(outcome, row is not None, False)

        return await self._engine.write(cast)

    async def get_ballot(self, poll_id: int, voter_id: str) -> Ballot | None:
        def get(conn: sqlite3.Connection) -> Ballot | None:
            row = conn.execute(
                "SELECT choices, revision, updated_at, receipt FROM ballots"
                " WHERE poll_id = ? AND voter_id = ?",
                (poll_id, voter_id),
            ).fetchone()
            return None if row is None else Ballot(_decode(row[0]), row[1], row[2], row[3] or "")

        return await self._engine.read(get)

    async def list_ballots(self, poll_id: int) -> list[BallotRecord]:
        def read(conn: sqlite3.Connection) -> list[BallotRecord]:
            _status(conn, poll_id)
            rows = conn.execute(
                "SELECT receipt, choices, token_kind, flagged, excluded_by, updated_at"
                " FROM ballots WHERE poll_id = ? ORDER BY receipt, choices",
                (poll_id,),
            )
            return [
                BallotRecord(r[0] or "", _decode(r[1]), r[2], bool(r[3]), r[4], r[5]) for r in rows
            ]

        return await self._engine.read(read)

    # Badges and exclusions -----------------------------------------------------
    async def add_badges(self, poll_id: int, codes: Sequence[str], *, actor: str) -> None:
        def add(tx: Tx) -> None:
            if _status(tx.conn, poll_id) is PollStatus.CLOSED:
                raise Conflict(N_("Badges cannot be added once the poll is closed."))
            stamp = now_iso()
            first = tx.conn.execute(
                "SELECT COALESCE(MAX(position), 0) FROM badges WHERE poll_id = ?", (poll_id,)
            ).fetchone()[0]
            try:
                tx.conn.executemany(
                    "INSERT INTO badges (code, poll_id, position, created_at) VALUES (?, ?, ?, ?)",
                    [(code, poll_id, first + n, stamp) for n, code in enumerate(codes, start=1)],
                )
            except sqlite3.IntegrityError:
                raise Conflict(N_("A badge code was taken already. Try again.")) from None
            _audit(tx, actor, "poll.badges", poll_id, after={"count": len(codes)}, at=stamp)

        await self._engine.write(add)

    async def list_badges(self, poll_id: int) -> list[Badge]:
        def read(conn: sqlite3.Connection) -> list[Badge]:
            _status(conn, poll_id)
            return [
                _badge(row)
                for row in conn.execute(
                    f"{_BADGE_COLUMNS} WHERE b.poll_id = ? ORDER BY b.position", (poll_id,)
                )
            ]

        return await self._engine.read(read)

    async def find_badge(self, code: str) -> Badge | None:
        def read(conn: sqlite3.Connection) -> Badge | None:
            row = conn.execute(f"{_BADGE_COLUMNS} WHERE b.code = ?", (code,)).fetchone()
            return None if row is None else _badge(row)

        return await self._engine.read(read)

    async def revoke_badge(self, poll_id: int, code: str, *, actor: str) -> Badge:
        def revoke(tx: Tx) -> None:
            status = _status(tx.conn, poll_id)
            row = tx.conn.execute(
                "SELECT revoked_at FROM badges WHERE code = ? AND poll_id = ?", (code, poll_id)
            ).fetchone()
            if row is None:
                raise NotFound(N_("This poll has no badge with the code %(code)s."), code=code)
            if row[0] is not None:
                raise AlreadyDone(N_("This badge has been revoked already."))
            if status is PollStatus.CLOSED:
                raise Conflict(
                    N_("Badges cannot be revoked once the poll is closed: the result is locked.")
                )
            removed = tx.conn.execute(
                "DELETE FROM ballots WHERE poll_id = ? AND voter_id = ? RETURNING excluded_by",
                (poll_id, badge_voter_id(code)),
            ).fetchall()
            stamp = now_iso()
            _audit(
                tx,
                actor,
                "poll.badge_revoke",
                poll_id,
                after={"code": code, "ballot_removed": bool(removed)},
                at=stamp,
            )
            tx.conn.execute("UPDATE badges SET revoked_at = ? WHERE code = ?", (stamp, code))
            tx.changed(poll_id, _bump(tx.conn, poll_id), poll_changed=False)

        await self._engine.write(revoke)
        badge = await self.find_badge(code)
        assert badge is not None
        return badge

    async def exclude_flagged(self, poll_id: int, note: str, *, actor: str) -> Exclusion:
        def exclude(tx: Tx) -> int:
            _check_open(tx.conn, poll_id, N_("Ballots can be excluded only while voting is open."))
            flagged = tx.conn.execute(
                "SELECT COUNT(*) FROM ballots"
                " WHERE poll_id = ? AND flagged = 1 AND excluded_by IS NULL",
                (poll_id,),
            ).fetchone()[0]
            if not flagged:
                raise Conflict(N_("No flagged ballot counts now: there is nothing to exclude."))
            stamp = now_iso()
            _audit(
                tx,
                actor,
                "poll.exclude",
                poll_id,
                after={"note": note, "ballots": flagged},
                at=stamp,
            )
            cursor = tx.conn.execute(
                "INSERT INTO exclusions (poll_id, note, decided_by, decided_at, ballots)"
                " VALUES (?, ?, ?, ?, ?)",
                (poll_id, note, actor, stamp, flagged),
            )
            exclusion_id = int(cursor.lastrowid or 0)
            tx.conn.execute(
                "UPDATE ballots SET excluded_by = ?"
                " WHERE poll_id = ? AND flagged = 1 AND excluded_by IS NULL",
                (exclusion_id, poll_id),
            )
            tx.changed(poll_id, _bump(tx.conn, poll_id), poll_changed=False)
            return exclusion_id

        exclusion_id = await self._engine.write(exclude)
        found = [e for e in await self.list_exclusions(poll_id) if e.id == exclusion_id]
        return found[0]

    async def list_exclusions(self, poll_id: int) -> list[Exclusion]:
        def read(conn: sqlite3.Connection) -> list[Exclusion]:
            _status(conn, poll_id)
            return [
                Exclusion(*row)
                for row in conn.execute(
                    "SELECT id, poll_id, note, decided_by, decided_at, ballots FROM exclusions"
                    " WHERE poll_id = ? ORDER BY id",
                    (poll_id,),
                )
            ]

        return await self._engine.read(read)

    async def snapshot(self, poll_id: int) -> Snapshot:
        def read(conn: sqlite3.Connection) -> Snapshot:
            poll = _load_poll(conn, "id", poll_id)
            counts = tuple(_counts(conn, poll_id))
            resolutions = _resolutions(conn, poll_id) if poll.status is PollStatus.CLOSED else ()
            return Snapshot(poll, counts, resolutions)

        return await self._engine.read(read)

    async def get_result(self, poll_id: int) -> LockedResult:
        return await self._engine.read(lambda conn: _load_result(conn, poll_id))

    async def resolve_tie(self, poll_id: int, resolution: TieResolution) -> LockedResult:
        def resolve(tx: Tx) -> None:
            _load_result(tx.conn, poll_id)
            _audit(tx, resolution.decided_by, "poll.tie", poll_id, after=tie_summary(resolution))
            try:
                tx.conn.execute(
                    "INSERT INTO tie_resolutions (poll_id, tie_key, finalists, rule, seed, note,"
                    " decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        poll_id,
                        _encode(sorted(resolution.order)),
                        _encode(resolution.order),
                        resolution.rule.value,
                        resolution.seed,
                        resolution.note,
                        resolution.decided_by,
                        resolution.decided_at,
                    ),
                )
            except sqlite3.IntegrityError:
                raise AlreadyDone(N_("This tie has already been resolved.")) from None
            tx.changed(poll_id, _bump(tx.conn, poll_id))

        await self._engine.write(resolve)
        return await self.get_result(poll_id)


def _audit(
    tx: Tx,
    actor: str,
    action: str,
    poll_id: int,
    before: Any = None,
    after: Any = None,
    at: str | None = None,
) -> None:
    """The audit entry for a change to a poll, in the same write job as the change (`at`:
    the step's own time, when other entries of the step carry it too)."""
    insert_audit(
        tx.conn, at or now_iso(), actor, action, f"poll:{poll_id}", to_json(before), to_json(after)
    )


_BADGE_COLUMNS = (
    "SELECT b.code, b.poll_id, b.created_at, b.revoked_at, EXISTS (SELECT 1 FROM ballots v"
    " WHERE v.poll_id = b.poll_id AND v.voter_id = 'badge:' || b.code) FROM badges b"
)


def _badge(row: Sequence[Any]) -> Badge:
    return Badge(row[0], row[1], row[2], row[3], bool(row[4]))


def _check_badge(conn: sqlite3.Connection, poll_id: int, voter_id: str) -> None:
    """Forbidden unless `voter_id` is a badge of this poll that is not revoked."""
    code = voter_id.removeprefix("badge:")
    row = conn.execute("SELECT poll_id, revoked_at FROM badges WHERE code = ?", (code,)).fetchone()
    if row is None or row[0] != poll_id:
        raise Forbidden(BADGE_UNKNOWN)
    if row[1] is not None:
        raise Forbidden(BADGE_REVOKED)


def _settings_row(settings: PollSettings) -> tuple[str, int | None, str, int | None]:
    return (
        settings.eligibility.value,
        settings.max_choices,
        settings.tie_rule.value,
        settings.expected_voters,
    )


def _status(conn: sqlite3.Connection, poll_id: int) -> PollStatus:
    row = conn.execute("SELECT status FROM polls WHERE id = ?", (poll_id,)).fetchone()
    if row is None:
        raise NotFound(N_("There is no poll with id %(poll_id)s."), poll_id=poll_id)
    return PollStatus(row[0])


def _check_open(conn: sqlite3.Connection, poll_id: int, not_open: str) -> None:
    """Conflict(`not_open`) unless the poll is open and its closing time has not passed."""
    row = conn.execute("SELECT status, closes_at_ms FROM polls WHERE id = ?", (poll_id,)).fetchone()
    if row is None:
        raise NotFound(N_("There is no poll with id %(poll_id)s."), poll_id=poll_id)
    if row[0] != PollStatus.OPEN.value:
        raise Conflict(not_open)
    if row[1] is not None and row[1] <= now_ms():
        raise Conflict(N_("Voting has closed. Thank you for taking part!"))


def _lock(tx: Tx, poll_id: int, stamp: str, closes_at_ms: int | None) -> None:
    """open -> closed with the counts frozen as the locked result, in the caller's step."""
    tx.conn.execute(
        "UPDATE polls SET status = 'closed', closed_at = ?, closes_at_ms = ? WHERE id = ?",
        (stamp, closes_at_ms, poll_id),
    )
    counts = _counts(tx.conn, poll_id)
    tx.conn.execute(
        "INSERT INTO results (poll_id, counts, locked_at) VALUES (?, ?, ?)",
        (poll_id, json.dumps([[list(c), n] for c, n in counts]), stamp),
    )
    tx.changed(poll_id, _bump(tx.conn, poll_id))


def _bump(conn: sqlite3.Connection, poll_id: int) -> int:
    row = conn.execute(
        "UPDATE polls SET version = version + 1 WHERE id = ? RETURNING version", (poll_id,)
    ).fetchone()
    return int(row[0])


def _insert_finalists(conn: sqlite3.Connection, poll_id: int, draft: PollDraft) -> None:
    conn.executemany(
        "INSERT INTO finalists (poll_id, position, name, pitch, owner) VALUES (?, ?, ?, ?, ?)",
        [(poll_id, i, f.name, f.pitch, f.owner) for i, f in enumerate(draft.finalists)],
    )


def _counts(conn: sqlite3.Connection, poll_id: int) -> list[tuple[tuple[int, ...], int]]:
    rows = conn.execute(
        "SELECT choices, COUNT(*) FROM ballots WHERE poll_id = ? AND excluded_by IS NULL"
        " GROUP BY choices ORDER BY choices",
        (poll_id,),
    )
    return [(_decode(choices), number) for choices, number in rows]


_POLL_BY = {
    column: "SELECT id, code, title, method, winners, status, hide_counts, revealed, version,"  # noqa: S608 - column names from a fixed list
    " created_at, opened_at, closed_at, closes_at_ms, show_results, eligibility, max_choices,"
    f" tie_rule, expected_voters FROM polls WHERE {column} = ?"
    for column in ("id", "code")
}


def _load_poll(conn: sqlite3.Connection, column: str, value: object) -> Poll:
    row = conn.execute(_POLL_BY[column], (value,)).fetchone()
    if row is None:
        if column == "code":
            raise NotFound(N_("There is no poll with the code %(code)s."), code=value)
        raise NotFound(N_("There is no poll with id %(poll_id)s."), poll_id=value)
    finalists = tuple(
        Finalist(*f)
        for f in conn.execute(
            "SELECT id, name, pitch, owner FROM finalists WHERE poll_id = ? ORDER BY position",
            (row[0],),
        )
    )
    return Poll(
        id=row[0], code=row[1], title=row[2], method=Method(row[3]), winners=row[4],
        status=PollStatus(row[5]), hide_counts=bool(row[6]), revealed=row[7], version=row[8],
        finalists=finalists, created_at=row[9], opened_at=row[10], closed_at=row[11],
        closes_at_ms=row[12], show_results=bool(row[13]),
        settings=PollSettings(Eligibility(row[14]), row[15], TieRule(row[16]), row[17]),
    )  # fmt: skip


def _load_result(conn: sqlite3.Connection, poll_id: int) -> LockedResult:
    poll = _load_poll(conn, "id", poll_id)
    row = conn.execute(
        "SELECT counts, locked_at FROM results WHERE poll_id = ?", (poll_id,)
    ).fetchone()
    if row is None:
        raise Conflict(N_("The result is locked only when the poll closes."))
    resolutions = _resolutions(conn, poll_id)
    counts = tuple((tuple(choices), number) for choices, number in json.loads(row[0]))
    return LockedResult(
        poll_id=poll_id, method=poll.method, finalist_ids=poll.finalist_ids, counts=counts,
        locked_at=row[1], resolutions=resolutions,
    )  # fmt: skip


def _resolutions(conn: sqlite3.Connection, poll_id: int) -> tuple[TieResolution, ...]:
    return tuple(
        TieResolution(_decode(r[0]), TieRule(r[1]), r[2], r[3], r[4], r[5])
        for r in conn.execute(
            "SELECT finalists, rule, seed, note, decided_by, decided_at FROM tie_resolutions"
            " WHERE poll_id = ? ORDER BY decided_at, tie_key",
            (poll_id,),
        )
    )
