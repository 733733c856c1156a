"""SQLite plumbing: one writer thread that batches commits, a small pool of readers.

Every write is a job run on the writer thread. The writer takes whatever jobs are
waiting (up to `_MAX_BATCH`), runs each inside its own SAVEPOINT within one
`BEGIN IMMEDIATE` transaction, commits once, and only then settles the callers'
futures: a job's caller hears "done" only when its change is on disk. One failing job
rolls back to its savepoint and fails alone. Reads run on reader threads, each with its
own connection; WAL mode means they never wait for the writer, nor it for them.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from live.errors import N_, Unavailable

T = TypeVar("T")
log = logging.getLogger("live.store.sqlite")

_MAX_BATCH = 512
_READERS = 4


@dataclass
class Tx:
    """What a write job gets: the connection, and a note of which polls it changed."""

    conn: sqlite3.Connection
    changes: list[tuple[int, int, bool]] = field(default_factory=list)

    def changed(self, poll_id: int, version: int, poll_changed: bool = True) -> None:
        self.changes.append((poll_id, version, poll_changed))


@dataclass
class _Job:
    fn: Callable[[Tx], Any]
    future: asyncio.Future[Any]


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA foreign_keys = ON")
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    else:
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a commit is on disk before the writer acknowledges it, power loss included.
        conn.execute("PRAGMA synchronous = FULL")
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the pending migrations in order; safe when several processes start at once."""
    scripts = sorted(
        (item.name, item.read_text(encoding="utf-8"))
        for item in resources.files("live.store").joinpath("migrations").iterdir()
        if item.name.endswith(".sql")
    )
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        for number, (_, script) in enumerate(scripts, start=1):
            if number <= current:
                continue
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number:d}")
            current = number
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return int(current)


def _statements(script: str) -> list[str]:
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in buffer.splitlines()
    ):
        raise ValueError(f"incomplete SQL statement in migration: {buffer[:80]!r}")
    return statements


class SQLiteEngine:
    def __init__(
        self, path: Path, on_changes: Callable[[list[tuple[int, int, bool]]], None]
    ) -> None:
        self.path = path
        self._on_changes = on_changes
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = await asyncio.to_thread(connect, self.path)
        await asyncio.to_thread(migrate, conn)
        self._pool = ThreadPoolExecutor(_READERS, thread_name_prefix="live-sqlite-read")
        self._writer = threading.Thread(
            target=self._run_writer, args=(conn,), name="live-sqlite-writer", daemon=True
        )
        self._writer.start()

    async def stop(self) -> None:
        if self._writer is not None:
            self._jobs.put(None)
            await asyncio.to_thread(self._writer.join)
            self._writer = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()

    async def write(self, fn: Callable[[Tx], T]) -> T:
        """Run `fn` on the writer thread; returns once its transaction is committed."""
        if self._writer is None or self._loop is None:
            raise Unavailable(N_("The service is starting or stopping. Try again in a moment."))
        future: asyncio.Future[T] = self._loop.create_future()
        self._jobs.put(_Job(fn, future))
        return await future

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` with a reader connection on a reader thread."""
        if self._pool is None or self._loop is None:
            raise Unavailable(N_("The service is starting or stopping. Try again in a moment."))
        return await self._loop.run_in_executor(self._pool, self._read, fn)

    def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, readonly=True)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        conn.execute("BEGIN")
        try:
            return fn(conn)
        finally:
            conn.execute("COMMIT")

    def _run_writer(self, conn: sqlite3.Connection) -> None:
        try:
            stopping = False
            while not stopping:
                first = self._jobs.get()
                if first is None:
                    break
                batch = [first]
                while len(batch) < _MAX_BATCH:
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        stopping = True
                        break
                    batch.append(job)
                self._run_batch(conn, batch)
        finally:
            conn.close()

    def _run_batch(self, conn: sqlite3.Connection, batch: list[_Job]) -> None:
        outcomes: list[tuple[_Job, Any, bool]] = []
        tx = Tx(conn)
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in batch:
                mark = len(tx.changes)
                conn.execute("SAVEPOINT job")
                try:
                    value = job.fn(tx)
                except Exception as exc:
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    del tx.changes[mark:]
                    outcomes.append((job, exc, False))
                else:
                    conn.execute("RELEASE job")
                    outcomes.append((job, value, True))
            conn.execute("COMMIT")
        except Exception:
            log.exception("SQLite commit failed; %d writes are refused", len(batch))
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            failure = Unavailable(N_("The vote store could not save. Try again in a moment."))
            outcomes = [(job, failure, False) for job in batch]
            tx.changes.clear()
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._settle, outcomes, tx.changes)

    def _settle(
        self, outcomes: list[tuple[_Job, Any, bool]], changes: list[tuple[int, int, bool]]
    ) -> None:
        for job, value, ok in outcomes:
            if job.future.done():  # the caller went away; the write stands regardless
                continue
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)
        if changes:
            try:
                self._on_changes(changes)
            except Exception:
                log.exception("a change listener failed")
