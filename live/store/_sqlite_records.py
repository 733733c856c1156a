"""Contest records, named sequences and the audit log in the SQLite store.

A record write checks the version and appends its audit entry inside one write job, so
both land in the same transaction or neither does (a failing job rolls back alone).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from live.store._sqlite_engine import SQLiteEngine, Tx
from live.store.base import StaleRecord
from live.store.models import AuditEntry, Record
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
        encoded = json.dumps(data, ensure_ascii=False)

        def put(tx: Tx) -> Record:
            row = tx.conn.execute(
                "SELECT version, data FROM records WHERE kind = ? AND key = ?", (kind, key)
            ).fetchone()
            if (0 if row is None else row[0]) != expected_version:
                raise StaleRecord()
            stamp = now_iso()
            version = expected_version + 1
            tx.conn.execute(
                "INSERT INTO records (kind, key, version, data, updated_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (kind, key) DO UPDATE SET version = excluded.version,"
                " data = excluded.data, updated_at = excluded.updated_at",
                (kind, key, version, encoded, stamp),
            )
            before = None if row is None else row[1]
            _insert_audit(tx.conn, stamp, actor, action, f"{kind}:{key}", before, encoded)
            return Record(kind, key, version, json.loads(encoded), stamp)

        return await self._engine.write(put)

    async def append_audit(
        self, actor: str, action: str, subject: str, before: Any = None, after: Any = None
    ) -> AuditEntry:
        """Record a change made elsewhere in the store (a poll opened, a user invited)."""
        encoded_before = None if before is None else json.dumps(before, ensure_ascii=False)
        encoded_after = None if after is None else json.dumps(after, ensure_ascii=False)

        def append(tx: Tx) -> AuditEntry:
            stamp = now_iso()
            entry_id = _insert_audit(
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


_RECORD_COLUMNS = "SELECT kind, key, version, data, updated_at FROM records"


def _record(row: Sequence[Any]) -> Record:
    return Record(str(row[0]), str(row[1]), int(row[2]), json.loads(row[3]), str(row[4]))


def _insert_audit(
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
