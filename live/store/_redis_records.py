"""Contest records, named sequences and the audit log in the Redis store.

A record write is one Lua script (`PUT_RECORD`): the version check, the write and the
audit entry happen in one atomic step. Keys are described in `_redis_scripts`.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from live.store import _redis_scripts as lua
from live.store._redis_common import P, guard
from live.store.base import StaleRecord
from live.store.models import AuditEntry, Record
from live.store.timestamps import now_iso

_AUDIT = f"{P}audit"
_AUDIT_SEQUENCE = f"{P}seq:audit"


def _record_keys(kind: str) -> list[str]:
    return [f"{P}rec:{kind}", f"{P}recv:{kind}", f"{P}recu:{kind}"]


def _audit_entry(raw: Any) -> AuditEntry:
    entry = json.loads(raw)
    return AuditEntry(int(entry["id"]), entry["at"], entry["actor"], entry["action"],
                      entry["subject"], entry["before"], entry["after"])  # fmt: skip


class RedisRecords:
    """The contest half of `RedisStore`; it shares the store's client."""

    _redis: aioredis.Redis

    @functools.cached_property
    def _put_record_script(self) -> AsyncScript:
        return self._redis.register_script(lua.PUT_RECORD)

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
        encoded = json.dumps(data, ensure_ascii=False)
        stamp = now_iso()
        async with guard():
            answer = await self._put_record_script(
                keys=[*_record_keys(kind), _AUDIT, _AUDIT_SEQUENCE],
                args=[key, expected_version, encoded, stamp, actor, action, f"{kind}:{key}"],
            )
        if answer[0] == "stale":
            raise StaleRecord()
        return Record(kind, key, int(answer[1]), json.loads(encoded), stamp)

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
