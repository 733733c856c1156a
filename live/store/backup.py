"""`live backup FILE` and `live restore FILE`: the whole store in one file, and back.

**SQLite.** SQLite's online backup API copies the database from a connection of its own,
in one step inside one read transaction: in WAL mode that is one consistent snapshot,
taken while the server goes on writing (it never waits for the copy). The file is a
plain SQLite database (journal mode DELETE, checked with `quick_check`).

**Redis.** One Lua script reads the server's clock and every key under `live:` with its
`DUMP` and `PTTL`, in one atomic step, so the copy is as consistent as the store ever is
(Redis serves nobody else for those few milliseconds per megabyte). The file has one
JSON line of facts, then one JSON line per key (name and dump in base64, and when it
expires, as a time). Restoring needs a Redis of the same or a newer version.

**Restore** writes into an empty store only (no accounts, polls, contest records or audit
entries), unless `force`, which replaces everything the store holds. Stop every app
process first and start them afterwards: they keep caches and stage feeds that would
not hear of the change. (For SQLite the restore goes through the backup API too, so even
a forgotten server cannot tear the file, but it would go on with stale caches.) The
Redis restore is one MULTI/EXEC transaction: all or nothing.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.client import NEVER_DECODE
from redis.exceptions import ResponseError

from live.store import Store
from live.store._redis_common import P, guard
from live.store._sqlite_engine import connect
from live.store.timestamps import now_iso

FORMAT = "live-backup"
VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
# Keys that say nothing about the data: the readiness probe's and the replica fence's.
_NOT_DATA = frozenset({f"{P}{name}".encode() for name in ("health", "fence", "restore-trial")})
# What makes a store "not empty": rows in these tables, or these Redis keys.
_CONTENT_TABLES = ("users", "polls", "records", "audit")
_CONTENT_KEYS = (f"{P}users", f"{P}polls", f"{P}audit")
_RESTORE_CHUNK = 500
_SIDE = ("-wal", "-shm", "-journal")  # SQLite's files beside a database
_TRIAL = f"{P}restore-trial"

_SNAPSHOT = """
local out = redis.call('TIME')
for _, key in ipairs(redis.call('KEYS', ARGV[1])) do
  out[#out + 1] = key
  out[#out + 1] = redis.call('PTTL', key)
  out[#out + 1] = redis.call('DUMP', key)
end
return out
"""


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    backend: str
    counts: dict[str, int]

    def describe(self) -> str:
        names = {"records": "contest records", "audit": "audit entries"}
        return ", ".join(f"{n} {names.get(what, what)}" for what, n in self.counts.items())


async def backup(store: Store, target: Path) -> Summary:
    """Write a consistent copy of the whole store to `target` (replaced atomically)."""
    from live.store.redis import RedisStore
    from live.store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        return await asyncio.to_thread(_sqlite_backup, store.path, target)
    if isinstance(store, RedisStore):
        return await _redis_backup(store, target)
    raise BackupError(f"no backup for the store {type(store).__name__}")


async def restore(store: Store, source: Path, *, force: bool = False) -> Summary:
    """Put the copy in `source` into the store; BackupError unless the store is empty
    or `force` (which replaces everything in it)."""
    from live.store.redis import RedisStore
    from live.store.sqlite import SQLiteStore

    kind = await asyncio.to_thread(_kind_of, source)
    if isinstance(store, SQLiteStore):
        if kind != "sqlite":
            raise BackupError(f"{source} is a {kind} backup, but the store is SQLite")
        return await asyncio.to_thread(_sqlite_restore, source, store.path, force)
    if isinstance(store, RedisStore):
        if kind != "redis":
            raise BackupError(f"{source} is a {kind} backup, but the store is Redis")
        return await _redis_restore(store, source, force)
    raise BackupError(f"no restore for the store {type(store).__name__}")


def _kind_of(source: Path) -> str:
    try:
        with source.open("rb") as handle:
            start = handle.read(4096)
    except OSError as error:
        raise BackupError(f"cannot read {source}: {error.strerror}") from None
    if start.startswith(SQLITE_MAGIC):
        return "sqlite"
    try:
        header = json.loads(start.split(b"\n", 1)[0])
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError(f"{source} is not a backup made by `live backup`")
    if header.get("version") != VERSION:
        raise BackupError(
            f"{source} has backup version {header.get('version')!r}; "
            f"this live reads version {VERSION}"
        )
    return str(header.get("store"))


def _replace(partial: Path, target: Path) -> None:
    """Make `partial` durable and put it in place of `target` in one rename."""
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


# SQLite ------------------------------------------------------------------------
def _table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return {
        name: int(conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0])  # noqa: S608 - names from a fixed list
        for name in (*_CONTENT_TABLES, "ballots")
        if name in tables
    }


def _sqlite_backup(path: Path, target: Path) -> Summary:
    if not path.is_file():
        raise BackupError(f"there is no SQLite store at {path}")
    if target.resolve() in {path.resolve(), *(path.with_name(path.name + s) for s in _SIDE)}:
        raise BackupError(f"{target} is the store itself; write the backup elsewhere")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = connect(path, readonly=True)
    copy = sqlite3.connect(partial, isolation_level=None)
    try:
        source.backup(copy)  # one step: one read transaction, one snapshot
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        if copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError(f"the copy of {path} failed SQLite's quick_check")
        counts = _table_counts(copy)
    finally:
        copy.close()
        source.close()
    _replace(partial, target)
    return Summary("sqlite", counts)


def _sqlite_restore(source: Path, path: Path, force: bool) -> Summary:
    backup_conn = sqlite3.connect(
        f"{source.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
    )
    try:
        if backup_conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError(f"{source} failed SQLite's quick_check")
        counts = _table_counts(backup_conn)
        if "polls" not in counts or "users" not in counts:
            raise BackupError(f"{source} is an SQLite file, but not a live store")
        if path.is_file() and not force:
            current = connect(path, readonly=True)
            try:
                present = {k: n for k, n in _table_counts(current).items() if n}
            finally:
                current.close()
            if any(present.get(name) for name in _CONTENT_TABLES):
                shown = ", ".join(f"{n} {what}" for what, n in present.items())
                raise BackupError(
                    f"the store at {path} is not empty ({shown}); stop the server "
                    "and add --force to replace everything in it"
                )
        path.parent.mkdir(parents=True, exist_ok=True)
        store_conn = connect(path)  # WAL, as the server keeps it
        try:
            backup_conn.backup(store_conn)
            store_conn.execute("PRAGMA journal_mode = WAL")
        finally:
            store_conn.close()
    finally:
        backup_conn.close()
    return Summary("sqlite", counts)


# Redis -------------------------------------------------------------------------
async def _redis_backup(store: Any, target: Path) -> Summary:
    await store.open()
    try:
        async with guard():
            try:
                raw = await store._redis.execute_command(
                    "EVAL_RO", _SNAPSHOT, 0, f"{P}*", **{NEVER_DECODE: []}
                )
            except ResponseError as error:
                if "unknown command" not in str(error).lower():
                    raise
                raw = await store._redis.execute_command(  # Redis before 7.0
                    "EVAL", _SNAPSHOT, 0, f"{P}*", **{NEVER_DECODE: []}
                )
    finally:
        await store.close()
    taken_ms = int(raw[0]) * 1000 + int(raw[1]) // 1000
    entries = [
        (key, int(ttl), dump)
        for key, ttl, dump in zip(raw[2::3], raw[3::3], raw[4::3], strict=True)
        if key not in _NOT_DATA
    ]
    await asyncio.to_thread(_write_redis_backup, target, taken_ms, entries)
    return Summary("redis", {"keys": len(entries)})


def _write_redis_backup(
    target: Path, taken_ms: int, entries: list[tuple[bytes, int, bytes]]
) -> None:
    partial = target.with_name(target.name + ".partial")
    header = {
        "format": FORMAT,
        "version": VERSION,
        "store": "redis",
        "keys": len(entries),
        "taken_at_ms": taken_ms,
        "taken_at": now_iso(),
    }
    with partial.open("w", encoding="ascii") as handle:
        handle.write(json.dumps(header) + "\n")
        for key, ttl, dump in entries:
            expires = taken_ms + ttl if ttl >= 0 else 0
            line = {"k": _b64(key), "expires_at_ms": expires, "v": _b64(dump)}
            handle.write(json.dumps(line) + "\n")
    _replace(partial, target)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _read_redis_backup(source: Path) -> tuple[dict[str, Any], list[tuple[bytes, int, bytes]]]:
    with source.open(encoding="ascii") as handle:
        header = json.loads(handle.readline())
        entries = []
        for number, line in enumerate(handle, start=2):
            try:
                item = json.loads(line)
                entries.append(
                    (
                        base64.b64decode(item["k"]),
                        int(item["expires_at_ms"]),
                        base64.b64decode(item["v"]),
                    )
                )
            except (ValueError, KeyError, TypeError):
                raise BackupError(f"{source}, line {number}: not a key of a backup") from None
    if len(entries) != header.get("keys"):
        raise BackupError(
            f"{source} holds {len(entries)} keys, its header says "
            f"{header.get('keys')}: the file is incomplete"
        )
    return header, entries


async def _redis_restore(store: Any, source: Path, force: bool) -> Summary:
    _, entries = await asyncio.to_thread(_read_redis_backup, source)
    await store.open()
    try:
        client = store._redis
        async with guard():
            existing = [key async for key in client.scan_iter(match=f"{P}*", count=1000)]
            content = sum(
                [
                    await client.exists(*_CONTENT_KEYS),
                    len([k for k in existing if k.startswith(f"{P}rec:")]),
                ]
            )
            if content and not force:
                raise BackupError(
                    f"the Redis store is not empty ({len(existing)} keys under "
                    f"{P}); stop the app processes and add --force to replace "
                    "everything in it"
                )
            seconds, micros = await client.time()
            now_ms = int(seconds) * 1000 + int(micros) // 1000
            if entries:  # a dump this Redis cannot read fails here, before anything is deleted
                await client.execute_command("RESTORE", _TRIAL, 0, entries[0][2], "REPLACE")
                await client.delete(_TRIAL)
            restored = 0
            async with client.pipeline(transaction=True) as tx:
                for start in range(0, len(existing), _RESTORE_CHUNK):
                    tx.delete(*existing[start : start + _RESTORE_CHUNK])
                for key, expires_at_ms, dump in entries:
                    if expires_at_ms and expires_at_ms <= now_ms:
                        continue  # it would have expired by now (an old login session)
                    tx.execute_command("RESTORE", key, expires_at_ms, dump, "ABSTTL")
                    restored += 1
                await tx.execute()
    finally:
        await store.close()
    return Summary("redis", {"keys": restored, "expired and left out": len(entries) - restored})
