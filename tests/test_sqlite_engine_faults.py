"""The SQLite writer under injected faults: it never dies silently, nor leaves a write
waiting for ever.

Faults are injected into the real engine: a connection class whose ROLLBACK, COMMIT or
connect fails on demand, jobs that raise what a job should never raise, and an event
loop that refuses the hand-back once. Before the writer was made to survive these, each
test waited for ever; the generous `asyncio.timeout`s turn that into a failure.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from live.config import Settings
from live.errors import Unavailable
from live.server import create_app
from live.store.base import StaleRecord
from live.store.sqlite import SQLiteStore

pytestmark = pytest.mark.asyncio

HANG = 30  # seconds: far beyond any honest answer; reaching it means a write hung


class Faults:
    """What the writer's connections should fail at, switched on and off by a test."""

    def __init__(self) -> None:
        self.rollback = 0.0  # probability that a ROLLBACK (TO) raises
        self.commit = 0.0  # probability that a COMMIT raises
        self.connect = False  # opening a new connection raises
        self.injected: dict[str, int] = {"rollback": 0, "commit": 0, "connect": 0}
        self.random = random.Random(9)

    def hit(self, kind: str, probability: float) -> bool:
        if probability and self.random.random() < probability:
            self.injected[kind] += 1
            return True
        return False


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Iterator[Faults]:
    injected = Faults()
    real_connect = sqlite3.connect

    class FaultyConnection(sqlite3.Connection):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
            if sql.startswith("ROLLBACK") and injected.hit("rollback", injected.rollback):
                raise sqlite3.OperationalError("disk I/O error (injected at ROLLBACK)")
            if sql == "COMMIT" and self.in_transaction and injected.hit("commit", injected.commit):
                raise sqlite3.OperationalError("disk I/O error (injected at COMMIT)")
            return super().execute(sql, *args)

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        if injected.connect:
            injected.injected["connect"] += 1
            raise sqlite3.OperationalError("unable to open database file (injected)")
        return real_connect(*args, factory=FaultyConnection, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    yield injected


@pytest_asyncio.fixture
async def store(tmp_path: Path, faults: Faults) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "faults.sqlite3")
    await opened.open()
    try:
        yield opened
    finally:
        faults.rollback = faults.commit = 0.0
        faults.connect = False
        await opened.close()


async def until_writable(store: SQLiteStore) -> None:
    """Wait (boundedly) for the writer to take writes again after a failure."""
    async with asyncio.timeout(HANG):
        while True:
            try:
                await store.next_id("probe")
                return
            except Unavailable:
                await asyncio.sleep(0.05)


async def test_a_failing_rollback_refuses_the_batch_and_the_writer_starts_afresh(
    store: SQLiteStore, faults: Faults
) -> None:
    await store.put_record("kind", "a", {"n": 1}, expected_version=0, actor="t", action="a")
    faults.rollback = 1.0  # the job's ROLLBACK TO fails, and so does the batch's ROLLBACK
    async with asyncio.timeout(HANG):
        with pytest.raises(Unavailable):
            await store.put_record("kind", "a", {"n": 2}, expected_version=0, actor="t",
                                   action="a")  # fmt: skip
    assert faults.injected["rollback"] == 2
    faults.rollback = 0.0
    await until_writable(store)
    assert store._engine.writer_alive()
    record = await store.put_record("kind", "a", {"n": 3}, expected_version=1, actor="t",
                                    action="a")  # fmt: skip
    assert record.version == 2


async def test_an_outcome_that_cannot_be_handed_back_fails_alone(store: SQLiteStore) -> None:
    def stops(_: object) -> None:
        raise StopIteration  # an asyncio future refuses this exception (TypeError)

    async with asyncio.timeout(HANG):
        bad, good = await asyncio.gather(
            store._engine.write(stops), store.next_id("after"), return_exceptions=True
        )
    assert isinstance(bad, RuntimeError) and good == 1
    assert store._engine.writer_alive()


async def test_a_job_raising_system_exit_fails_its_batch_and_the_writer_lives_on(
    store: SQLiteStore,
) -> None:
    def exits(_: object) -> None:
        raise SystemExit(3)  # would end the writer thread without a word

    async with asyncio.timeout(HANG):
        with pytest.raises(Unavailable):
            await store._engine.write(exits)
        assert await store.next_id("after") == 1
    assert store._engine.writer_alive()


async def test_a_refused_hand_back_fails_pending_writes_then_the_writer_restarts(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = asyncio.get_running_loop()
    real = loop.call_soon_threadsafe
    refused = 0

    def refuse_once(callback: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        nonlocal refused
        if threading.current_thread().name == "live-sqlite-writer" and not refused:
            refused += 1
            raise RuntimeError("injected: the hand-back failed")
        return real(callback, *args, **kwargs)

    monkeypatch.setattr(loop, "call_soon_threadsafe", refuse_once)
    async with asyncio.timeout(HANG):
        with pytest.raises(Unavailable):
            await store.next_id("lost")
    assert refused == 1
    await until_writable(store)
    # The refused write was committed although its caller heard Unavailable, which the
    # contract allows ("not acknowledged"); it is never counted twice.
    assert await store.next_id("lost") == 2


async def test_while_the_writer_is_down_writes_fail_fast_and_probes_say_503(
    make_settings: Callable[..., Settings], faults: Faults
) -> None:
    app = create_app(make_settings())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/readyz")).status_code == 200
            store = app.state.services.store
            faults.rollback, faults.connect = 1.0, True  # it fails, and cannot start afresh
            async with asyncio.timeout(HANG):
                with pytest.raises(Unavailable):
                    await store.put_record("k", "x", {}, expected_version=5, actor="t",
                                           action="a")  # fmt: skip
                while faults.injected["connect"] == 0:  # noqa: ASYNC110 - bounded above
                    await asyncio.sleep(0.01)
                for _ in range(20):  # refused at once, none queued to wait for ever
                    with pytest.raises(Unavailable):
                        await store.next_id("down")
            health = await http.get("/healthz")
            assert health.status_code == 503, health.text
            assert (await http.get("/readyz")).status_code == 503
            faults.rollback, faults.connect = 0.0, False
            await until_writable(store)
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/readyz")).status_code == 200
            metrics = (await http.get("/metrics")).text
            assert "live_sqlite_writer_restarts_total" in metrics
            assert "live_sqlite_writer_up 1.0" in metrics, metrics


async def test_random_faults_never_lose_an_acknowledged_write_nor_leave_one_waiting(
    tmp_path: Path, faults: Faults
) -> None:
    """300 record writes in bursts of 10, half of them stale on purpose (their savepoint
    rolls back), while about one ROLLBACK in 7 and one COMMIT in 10 fail."""
    path = tmp_path / "random.sqlite3"
    store = SQLiteStore(path)
    await store.open()
    acknowledged: set[str] = set()
    outcomes: dict[str, int] = {"acknowledged": 0, "stale": 0, "unavailable": 0}
    try:
        faults.rollback, faults.commit = 0.15, 0.1

        async def write(n: int) -> None:
            key = f"r{n}"
            try:
                await store.put_record("kind", key, {"n": n}, expected_version=n % 2,
                                       actor="t", action="a")  # fmt: skip
            except StaleRecord:
                outcomes["stale"] += 1
            except Unavailable:
                outcomes["unavailable"] += 1
            else:
                acknowledged.add(key)
                outcomes["acknowledged"] += 1

        async with asyncio.timeout(HANG * 2):
            for burst in range(30):
                await until_writable(store)  # after a failure, once it has started afresh
                await asyncio.gather(*(write(burst * 10 + n) for n in range(10)))
        faults.rollback = faults.commit = 0.0
        await until_writable(store)
    finally:
        await store.close()
    print(f"faults injected: {faults.injected}; outcomes of 300 writes: {outcomes}")
    assert sum(outcomes.values()) == 300
    assert faults.injected["rollback"] > 0 and faults.injected["commit"] > 0
    assert outcomes["acknowledged"] > 0
    reopened = SQLiteStore(path)
    await reopened.open()
    try:
        stored = {record.key for record in await reopened.list_records("kind")}
    finally:
        await reopened.close()
    assert acknowledged <= stored, "an acknowledged write is missing"
