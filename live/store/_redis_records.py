"""Contest records, named sequences and the audit log in the Redis store.

A record write is one Lua script (`PUT_RECORDS`): the version checks, the writes and
their audit entries happen in one atomic step. Keys are described in `_redis_scripts`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from live.store import _redis_scripts as lua
from live.store._redis_common import P, guard
from live.store.base import StaleRecord
from live.store.models import AuditEntry, Record, RecordWrite
from live.store.timestamps import now_iso

_AUDIT = f"{P}audit"
_AUDIT_SEQUENCE = f"{P}seq:audit"
AUDIT_KEYS = [_AUDIT, _AUDIT_SEQUENCE]


def _record_keys(kind: str) -> list[str]:
    return [f"{P}rec:{kind}", f"{P}recv:{kind}", f"{P}recu:{kind}"]


def records_arguments(
    writes: Sequence[RecordWrite], poll_id: int | None = None
) -> tuple[list[str], list[str | int], list[str | None]]:
    """The keys and arguments that `_RECORDS` in a script reads for `writes`, and the JSON
    each write stores (`poll_id` filling each `poll_field`; None: only checked)."""
    assert len({(w.kind, w.key) for w in writes}) == len(writes), "one write per record"
    keys: list[str] = []
    args: list[str | int] = []
    stored: list[str | None] = []
    for write in writes:
        data = write.data
        if data is not None and write.poll_field is not None:
            assert poll_id is not None, "poll_field is for create_poll"
            data = {**data, write.poll_field: poll_id}
        before, after = (
            ("", "")
            if write.change is None
            else (json.dumps(part, ensure_ascii=False) for part in write.change)
        )
        encoded = None if data is None else json.dumps(data, ensure_ascii=False)
        keys.extend(_record_keys(write.kind))
        args.extend(
            [
                write.key,
                write.expected_version,
                encoded or "",
                write.action,
                f"{write.kind}:{write.key}",
                before,
                after,
            ]
        )
        stored.append(encoded)
    return keys, args, stored


def _audit_entry(raw: Any) -> AuditEntry:
    entry = json.loads(raw)
    return AuditEntry(int(entry["id"]), entry["at"], entry["actor"], entry["action"],
                      entry["subject"], entry["before"], entry["after"])  # fmt: skip


class RedisRecords:
    """The contest half of `RedisStore`; it shares the store's client."""

    _redis: aioredis.Redis

    @functools.cached_property
    def _put_records_script(self) -> AsyncScript:
        return self._redis.register_script(lua.PUT_RECORDS)

    @functools.cached_property
    def _append_audit_script(self) -> AsyncScript:
        return self._redis.register_script(lua.APPEND_AUDIT)

    async def next_id(self, sequence: str) -> int:
        """The next number (1, 2, …) of a named sequence, never handed out twice."""
        async with guard():
            return int(await self._redis.incr(f"{P}seq:contest:{sequence}"))

    async def get_record(self, kind: str, key: str) -> Record | None:
        """The record `kind`/`key`, or None if it was never written."""
        async with guard(), self._redis.pipeline(transaction=True) as pipe:
            for hash_key in _record_keys(kind):
                pipe.hget(hash_key, key)
            data, version, updated_at = await pipe.execute()
        if data is None:
            return None
        return Record(kind, key, int(version), json.loads(data), str(updated_at))

    async def list_records(self, kind: str) -> list[Record]:
        """Every record of one kind; data and versions read in one transaction."""
        async with guard(), self._redis.pipeline(transaction=True) as pipe:
            for hash_key in _record_keys(kind):
                pipe.hgetall(hash_key)
            data, versions, stamps = await pipe.execute()
        return [
            Record(kind, key, int(versions[key]), json.loads(raw), stamps[key])
            for key, raw in sorted(data.items())
        ]

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

        The version check, the write and the audit entry are one Lua script."""
        write = RecordWrite(kind, key, expected_version, data, action)
        (record,) = await self.put_records([write], actor=actor)
        return record

    async def put_records(self, writes: Sequence[RecordWrite], *, actor: str) -> list[Record]:
        """Write every record with data if each is at its expected version; else StaleRecord.

        The checks, the writes and one audit entry per write are one Lua script."""
        keys, args, stored = records_arguments(writes)
        stamp = now_iso()
        async with guard():
            answer = await self._put_records_script(
                keys=[*AUDIT_KEYS, *keys], args=[stamp, actor, *args]
            )
        if answer[0] == "stale":
            raise StaleRecord()
        written = [(w, data) for w, data in zip(writes, stored, strict=True) if data is not None]
        return [
            Record(w.kind, w.key, int(version), json.loads(data), stamp)
            for (w, data), version in zip(written, answer[1], strict=True)
        ]

    async def append_audit(
        self, actor: str, action: str, subject: str, before: Any = None, after: Any = None
    ) -> AuditEntry:
        """Record a change made elsewhere in the store (a poll opened, a user invited)."""
        encoded_before = json.dumps(before, ensure_ascii=False)
        encoded_after = json.dumps(after, ensure_ascii=False)
        stamp = now_iso()
        async with guard():
            entry_id = await self._append_audit_script(
                keys=[_AUDIT, _AUDIT_SEQUENCE],
                args=[stamp, actor, action, subject, encoded_before, encoded_after],
            )
        return AuditEntry(
            int(entry_id), stamp, actor, action, subject,
            json.loads(encoded_before), json.loads(encoded_after),
        )  # fmt: skip

    async def list_audit(self, after_id: int = 0, limit: int = 10_000) -> list[AuditEntry]:
        """Audit entries with id > `after_id`, oldest first, at most `limit`."""
        async with guard():
            raw = await self._redis.zrangebyscore(
                _AUDIT, f"({after_id}", "+inf", start=0, num=limit
            )
        return [_audit_entry(entry) for entry in raw]

    async def list_audit_before(
        self, before_id: int | None = None, limit: int = 200
    ) -> list[AuditEntry]:
        """Audit entries with id < `before_id` (None: the latest), newest first, at most
        `limit`; the sorted set hands over only those."""
        upper = "+inf" if before_id is None else f"({before_id}"
        async with guard():
            raw = await self._redis.zrevrangebyscore(_AUDIT, upper, "-inf", start=0, num=limit)
        return [_audit_entry(entry) for entry in raw]
