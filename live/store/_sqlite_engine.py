"""SQLite plumbing: one writer thread that batches commits, a small pool of readers.

Every write is a job run on the writer thread. The writer takes whatever jobs are
waiting (up to `_MAX_BATCH`), runs each inside its own SAVEPOINT within one
`BEGIN IMMEDIATE` transaction, commits once, and only then settles the callers'
futures: a job's caller hears "done" only when its change is on disk. One failing job
rolls back to its savepoint and fails alone. Reads run on reader threads, each with its
own connection; WAL mode means they never wait for the writer, nor it for them.

The writer never dies silently. A failing job, commit or rollback fails its batch with
`Unavailable`; an outcome that cannot be handed back fails that caller alone. Should
anything escape even so (a rollback that fails leaves the connection in an unknown
state), the writer refuses every pending write with `Unavailable`, drops its connection
and starts afresh with a new one, waiting a little longer after each failure in a row.
While it is down, `write()` fails at once instead of queueing, and `writer_alive()` is
false, which `/healthz` reports as 503.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from live import metrics
from live.errors import N_, Unavailable

T = TypeVar("T")
log = logging.getLogger("live.store.sqlite")

_MAX_BATCH = 512
_READERS = 4
_RESTART_SECONDS = 0.2  # the first wait before a failed writer starts afresh
_MAX_RESTART_SECONDS = 5.0  # doubling up to this while it keeps failing
_NOT_SAVED = N_("The vote store could not save. Try again in a moment.")
_STARTING = N_("The service is starting or stopping. Try again in a moment.")


class _LoopGone(Exception):
    """The event loop that waits for the outcomes is closed: nobody is left to answer."""


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
    # Python's case folding, for keys that must match Redis's (e-mail addresses).
    conn.create_function("casefold", 1, str.casefold, deterministic=True)
    # A migration may rebuild a table that others refer to (SQLite's documented way to
    # change a CHECK): foreign keys are off while it runs and checked before the commit.
    conn.execute("PRAGMA foreign_keys = OFF")
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
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise sqlite3.IntegrityError(f"a migration broke foreign keys: {broken[:5]}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
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
        self._down: str | None = None  # why the writer takes no writes now, None when it does
        self._exited = False  # the writer thread has ended; set under `_gate`
        self._gate = threading.Lock()  # orders a job's queueing against the writer's exit
        self._stop_requested = threading.Event()
        self._in_flight: list[_Job] = []  # the batch the writer runs; its thread only
        self._committed = 0  # batches committed since the writer last started afresh

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = await asyncio.to_thread(connect, self.path)
        await asyncio.to_thread(migrate, conn)
        self._pool = ThreadPoolExecutor(_READERS, thread_name_prefix="live-sqlite-read")
        self._down, self._exited = None, False
        self._stop_requested.clear()
        self._writer = threading.Thread(
            target=self._run_writer, args=(conn,), name="live-sqlite-writer", daemon=True
        )
        self._writer.start()
        metrics.watch_writer(self)

    async def stop(self) -> None:
        metrics.unwatch_writer(self)
        if self._writer is not None:
            self._stop_requested.set()
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

    def writer_alive(self) -> bool:
        """True while the writer thread runs and takes writes (no I/O: for /healthz)."""
        writer = self._writer
        return writer is not None and writer.is_alive() and self._down is None

    def queue_depth(self) -> int:
        """Writes waiting for the writer (approximate, for metrics)."""
        return self._jobs.qsize()

    async def write(self, fn: Callable[[Tx], T]) -> T:
        """Run `fn` on the writer thread; returns once its transaction is committed.

        `Unavailable` at once while the writer is down, and for every write pending when
        it fails: such a write may or may not have been committed."""
        if self._writer is None or self._loop is None:
            raise Unavailable(_STARTING)
        if self._down is not None:
            raise Unavailable(_NOT_SAVED)
        future: asyncio.Future[T] = self._loop.create_future()
        with self._gate:
            if self._exited:
                raise Unavailable(_STARTING)
            self._jobs.put(_Job(fn, future))
        return await future

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` with a reader connection on a reader thread."""
        if self._pool is None or self._loop is None:
            raise Unavailable(_STARTING)
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

    # The writer thread ---------------------------------------------------------
    def _run_writer(self, conn: sqlite3.Connection | None) -> None:
        """Serve batches until stopped; after any failure, refuse what is pending and
        start afresh with a new connection."""
        pause = _RESTART_SECONDS
        try:
            while True:
                try:
                    if conn is None:
                        conn = connect(self.path)
                        log.warning("the SQLite writer starts afresh")
                    self._down = None
                    self._serve(conn)
                    return
                except _LoopGone:
                    log.warning("the SQLite writer stops: its event loop is closed")
                    return
                except BaseException as error:  # the writer must outlive anything
                    self._down = f"{type(error).__name__}: {error}"
                    if self._committed:  # it worked for a while: no reason to wait long
                        pause, self._committed = _RESTART_SECONDS, 0
                    metrics.WRITER_RESTARTS.inc()
                    log.critical(
                        "the SQLite writer failed; pending writes are refused and it "
                        "starts afresh in %.1f s",
                        pause,
                        exc_info=True,
                    )
                    self._refuse_pending()
                    _close_quietly(conn)
                    conn = None
                    if self._stop_requested.wait(pause):
                        return
                    pause = min(pause * 2, _MAX_RESTART_SECONDS)
        finally:
            with self._gate:
                self._exited = True
            _close_quietly(conn)
            self._refuse_pending()

    def _serve(self, conn: sqlite3.Connection) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            batch = [first]
            stopping = False
            while len(batch) < _MAX_BATCH:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                batch.append(job)
            self._in_flight = batch
            self._run_batch(conn, batch)
            self._in_flight = []
            if stopping:
                return

    def _run_batch(self, conn: sqlite3.Connection, batch: list[_Job]) -> None:
        started = time.perf_counter()
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
            self._committed += 1
        except BaseException:  # a job's SystemExit too: the batch fails, the writer lives on
            log.exception("SQLite commit failed; %d writes are refused", len(batch))
            # If this rollback fails too, the connection's state is unknown: the error
            # escapes to `_run_writer`, which refuses the batch and starts afresh.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            failure = Unavailable(_NOT_SAVED)
            outcomes = [(job, failure, False) for job in batch]
            tx.changes.clear()
        metrics.COMMIT_SECONDS.observe(time.perf_counter() - started)
        self._hand_back(self._deliver, outcomes, tx.changes)

    def _hand_back(self, callback: Callable[..., None], *args: Any) -> None:
        """Run `callback(*args)` on the event loop, where the callers wait."""
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:
            if self._loop.is_closed():
                raise _LoopGone() from None
            raise

    def _refuse_pending(self) -> None:
        """Fail the batch in flight and every queued write with `Unavailable`."""
        pending, self._in_flight = self._in_flight, []
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                self._stop_requested.set()
            else:
                pending.append(job)
        if not pending:
            return
        try:
            self._hand_back(self._refuse, pending)
        except Exception:
            log.exception("could not refuse %d pending writes", len(pending))

    # On the event loop ----------------------------------------------------------
    def _deliver(
        self, outcomes: list[tuple[_Job, Any, bool]], changes: list[tuple[int, int, bool]]
    ) -> None:
        """Answer every caller of a batch, each on its own: one that cannot be answered
        with its outcome gets an error instead, and never waits for ever."""
        for job, value, ok in outcomes:
            try:
                self._settle(job, value, ok)
            except Exception:
                log.exception("could not hand back a write's outcome")
                if not job.future.done():
                    failure = RuntimeError("the write's outcome could not be handed back")
                    job.future.set_exception(failure)
        if changes:
            try:
                self._on_changes(changes)
            except Exception:
                log.exception("a change listener failed")

    @staticmethod
    def _settle(job: _Job, value: Any, ok: bool) -> None:
        if job.future.done():  # the caller went away; the write stands regardless
            return
        if ok:
            job.future.set_result(value)
        else:
            job.future.set_exception(value)

    @staticmethod
    def _refuse(jobs: list[_Job]) -> None:
        failure = Unavailable(_NOT_SAVED)
        for job in jobs:
            if not job.future.done():
                job.future.set_exception(failure)


def _close_quietly(conn: sqlite3.Connection | None) -> None:
    """Close a connection whose state may be unknown (an open transaction rolls back)."""
    if conn is not None:
        try:
            conn.close()
        except Exception:
            log.exception("could not close the SQLite writer's connection")
