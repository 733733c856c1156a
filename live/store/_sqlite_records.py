"""Contest records, named sequences and the audit log in the SQLite store.

A record write checks the versions and appends its audit entries inside one write job,
so all land in the same transaction or none does (a failing job rolls back alone).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from live.store._sqlite_engine import SQLiteEngine, Tx
from live.store.base import StaleRecord
from live.store.models import AuditEntry, Record, RecordWrite
from live.store.timestamps import now_iso


class SQLiteRecords:
    """The contest half of `SQLiteStore`; it shares the store's engine."""

    _engine: SQLiteEngine

    async def next_id(self, sequence: str) -> int:
        """The next number (1, 2, …) of a named sequence, never handed out twice."""

        def advance(tx: Tx) -> int:
            row = tx.conn.execute(
                "INSERT INTO sequences (name, value) VALUES (?, 1)"
                " ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
                (sequence,),
            ).fetchone()
            return int(row[0])

        return await self._engine.write(advance)

    async def get_record(self, kind: str, key: str) -> Record | None:
        """The record `kind`/`key`, or None if it was never written."""

        def get(conn: sqlite3.Connection) -> Record | None:
            row = conn.execute(
                f"{_RECORD_COLUMNS} WHERE kind = ? AND key = ?", (kind, key)
            ).fetchone()
            return None if row is None else _record(row)

        return await self._engine.read(get)

    async def list_records(self, kind: str) -> list[Record]:
        """Every record of one kind (here in key order, which the contract does not promise)."""

        def list_all(conn: sqlite3.Connection) -> list[Record]:
            rows = conn.execute(f"{_RECORD_COLUMNS} WHERE kind = ? ORDER BY key", (kind,))
            return [_record(row) for row in rows]

        return await self._engine.read(list_all)

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

        The audit entry for the change is written in the same transaction."""
        write = RecordWrite(kind, key, expected_version, data, action)
        (record,) = await self.put_records([write], actor=actor)
        return record

    async def put_records(self, writes: Sequence[RecordWrite], *, actor: str) -> list[Record]:
        """Write every record with data if each is at its expected version; else StaleRecord.

        The checks, the writes and one audit entry per write are one transaction."""
        return await self._engine.write(lambda tx: put_records_in(tx, writes, actor, now_iso()))

    async def append_audit(
        self, actor: str, action: str, subject: str, before: Any = None, after: Any = None
    ) -> AuditEntry:
        """Record a change made elsewhere in the store (a poll opened, a user invited)."""
        encoded_before, encoded_after = to_json(before), to_json(after)

        def append(tx: Tx) -> AuditEntry:
            stamp = now_iso()
            entry_id = insert_audit(
                tx.conn, stamp, actor, action, subject, encoded_before, encoded_after
            )
            row = (entry_id, stamp, actor, action, subject, encoded_before, encoded_after)
            return _audit_entry(row)

        return await self._engine.write(append)

    async def list_audit(self, after_id: int = 0, limit: int = 10_000) -> list[AuditEntry]:
        """Audit entries with id > `after_id`, oldest first, at most `limit`."""

        def list_some(conn: sqlite3.Connection) -> list[AuditEntry]:
            rows = conn.execute(
                "SELECT id, at, actor, action, subject, before, after FROM audit"
                " WHERE id > ? ORDER BY id LIMIT ?",
                (after_id, limit),
            )
            return [_audit_entry(row) for row in rows]

        return await self._engine.read(list_some)

    async def list_audit_before(
        self, before_id: int | None = None, limit: int = 200
    ) -> list[AuditEntry]:
        """Audit entries with id < `before_id` (None: the latest), newest first, at most
        `limit`; the primary key's index reads only those."""

        def list_some(conn: sqlite3.Connection) -> list[AuditEntry]:
            rows = conn.execute(
                "SELECT id, at, actor, action, subject, before, after FROM audit"
                " WHERE id < ? ORDER BY id DESC LIMIT ?",
                (2**63 - 1 if before_id is None else before_id, limit),
            )
            return [_audit_entry(row) for row in rows]

        return await self._engine.read(list_some)


def put_records_in(
    tx: Tx, writes: Sequence[RecordWrite], actor: str, stamp: str, poll_id: int | None = None
) -> list[Record]:
    """`put_records` inside the caller's write job; `poll_id` fills each `poll_field`."""
    assert len({(w.kind, w.key) for w in writes}) == len(writes), "one write per record"
    found: dict[tuple[str, str], str | None] = {}
    for write in writes:
        row = tx.conn.execute(
            "SELECT version, data FROM records WHERE kind = ? AND key = ?", (write.kind, write.key)
        ).fetchone()
        if (0 if row is None else row[0]) != write.expected_version:
            raise StaleRecord()
        found[(write.kind, write.key)] = None if row is None else str(row[1])
    written = []
    for write in writes:
        if write.data is None:
            continue
        data = write.data
        if write.poll_field is not None:
            assert poll_id is not None, "poll_field is for create_poll"
            data = {**data, write.poll_field: poll_id}
        encoded = json.dumps(data, ensure_ascii=False)
        version = write.expected_version + 1
        tx.conn.execute(
            "INSERT INTO records (kind, key, version, data, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (kind, key) DO UPDATE SET version = excluded.version,"
            " data = excluded.data, updated_at = excluded.updated_at",
            (write.kind, write.key, version, encoded, stamp),
        )
        before: str | None = found[(write.kind, write.key)]
        after: str | None = encoded
        if write.change is not None:
            before, after = (to_json(part) for part in write.change)
        subject = f"{write.kind}:{write.key}"
        insert_audit(tx.conn, stamp, actor, write.action, subject, before, after)
        written.append(Record(write.kind, write.key, version, json.loads(encoded), stamp))
    return written


def to_json(value: Any) -> str | None:
    """An audit entry's `before` or `after` as JSON text; None stays NULL."""
    return None if value is None else json.dumps(value, ensure_ascii=False)


_RECORD_COLUMNS = "SELECT kind, key, version, data, updated_at FROM records"


def _record(row: Sequence[Any]) -> Record:
    return Record(str(row[0]), str(row[1]), int(row[2]), json.loads(row[3]), str(row[4]))


def insert_audit(
    conn: sqlite3.Connection,
    at: str,
    actor: str,
    action: str,
    subject: str,
    before: str | None,
    after: str | None,
) -> int:
    """Append one entry (`before`/`after` already JSON text, or None); its new id."""
    cursor = conn.execute(
        "INSERT INTO audit (at, actor, action, subject, before, after) VALUES (?, ?, ?, ?, ?, ?)",
        (at, actor, action, subject, before, after),
    )
    return int(cursor.lastrowid or 0)


def _audit_entry(row: Sequence[Any]) -> AuditEntry:
    def decode(text: str | None) -> Any:
        return None if text is None else json.loads(text)

    entry_id, at, actor, action, subject, before, after = row
    return AuditEntry(int(entry_id), at, actor, action, subject, decode(before), decode(after))
