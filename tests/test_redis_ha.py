"""Redis that restarts or fails over, with real redis-server and Sentinel processes and the
service in its own process: no acknowledged vote is lost, and voting comes back by itself."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from live.store._redis_client import DurableRedis, WaitPolicy
from live.store._redis_common import NotReplicated
from live.store._redis_sentinel import SentinelLink
from tests.support.process import ServerProcess, api, cookieless_client, open_new_poll, vote
from tests.support.redis_server import RedisServer, SentinelSetup

pytestmark = pytest.mark.asyncio

SECRET = "shared secret key for every worker, 32+ characters"
LANES = 16


def app_process(tmp_path: Path, name: str, store_url: str) -> ServerProcess:
    return ServerProcess(tmp_path / name, store_url=store_url, LIVE_SECRET_KEY=SECRET)


@contextlib.contextmanager
def pausing(servers: list[RedisServer]) -> Iterator[None]:
    """SIGSTOP the servers for the block: replicas that stop confirming anything."""
    processes = [server.process for server in servers if server.process is not None]
    for process in processes:
        os.kill(process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for process in processes:
            os.kill(process.pid, signal.SIGCONT)


@pytest.fixture
def app_on_own_redis(tmp_path: Path, own_redis: RedisServer) -> Iterator[ServerProcess]:
    server = app_process(tmp_path, "app", own_redis.url)
    server.start()
    yield server
    server.stop()


async def test_votes_right_after_a_redis_restart_all_succeed(
    app_on_own_redis: ServerProcess, own_redis: RedisServer
) -> None:
    """Idle pooled connections to a restarted Redis are renewed before use, not failed."""
    server = app_on_own_redis
    token = server.organiser_token()
    poll = open_new_poll(server, token)
    ids = [f["id"] for f in poll["finalists"]]
    path = f"/p/{poll['code']}"
    async with cookieless_client(server.url, timeout=15) as http:

        async def newcomer(choice: int) -> tuple[int, int]:
            page = await http.get(path)
            cookie = page.cookies.get("live_voter")
            if page.status_code != 200 or cookie is None:
                return page.status_code, 0
            return page.status_code, (await vote(http, path, cookie, choice)).status_code

        # Sixteen at once, so that the process holds several pooled connections.
        before = await asyncio.gather(*(newcomer(ids[n % 5]) for n in range(LANES)))
        own_redis.kill()
        own_redis.start()
        after = await asyncio.gather(*(newcomer(ids[n % 5]) for n in range(LANES)))
    assert before == [(200, 200)] * LANES
    assert after == [(200, 200)] * LANES, "a stale pooled connection failed a request"
    results = api(server, token, "GET", f"/api/polls/{poll['id']}/results")
    assert results["ballots"] == 2 * LANES


async def test_a_vote_is_acknowledged_only_once_a_replica_has_it(
    tmp_path: Path, redis_sentinel: SentinelSetup
) -> None:
    """Replicas that stop confirming (SIGSTOP) stop acknowledgements; a retry through
    another process, on connections that never wrote the vote, is not acknowledged
    either until a replica has it, and then it counts once."""
    one = app_process(tmp_path, "one", redis_sentinel.url)
    two = app_process(tmp_path, "two", redis_sentinel.url)
    one.start()
    two.start()
    try:
        token = one.organiser_token()
        poll = open_new_poll(one, token)
        ids = [f["id"] for f in poll["finalists"]]
        path = f"/p/{poll['code']}"
        async with (
            cookieless_client(one.url, timeout=15) as http_one,
            cookieless_client(two.url, timeout=15) as http_two,
        ):
            cookie = (await http_one.get(path)).cookies["live_voter"]
            form = {"choice": [str(ids[2])], "sent_at": str(int(time.time() * 1000))}
            headers = {"Accept": "application/json", "Cookie": f"live_voter={cookie}"}
            assert (await vote(http_two, path, (await http_two.get(path)).cookies["live_voter"],
                               ids[0])).status_code == 200  # fmt: skip
            with pausing(redis_sentinel.replicas):
                first = await http_one.post(path, data=form, headers=headers)
                retried = await http_two.post(path, data=form, headers=headers)
            assert first.status_code == 503, first.text
            assert retried.status_code == 503, "acknowledged while only the primary had it"
            assert first.json()["error"]["code"] == "unavailable"
            deadline = time.monotonic() + 15
            while (
                again := await http_two.post(path, data=form, headers=headers)
            ).status_code != 200:
                assert time.monotonic() < deadline, again.text
                await asyncio.sleep(0.2)
            assert again.json()["choices"] == [ids[2]]
        results = api(two, token, "GET", f"/api/polls/{poll['id']}/results")
        assert results["ballots"] == 2
        scores = {row["finalist_id"]: row["score"] for row in results["tally"]}
        assert scores[ids[0]] == 1 and scores[ids[2]] == 1
    finally:
        one.stop()
        two.stop()


async def test_every_kind_of_write_waits_for_a_replica(redis_sentinel: SentinelSetup) -> None:
    """A command, a transaction, and a script that finds its work done (a retried vote,
    which writes nothing: its confirmation must still cover what it found) all fail
    unconfirmed while the replicas stop, and succeed once they are back."""
    link = SentinelLink(redis_sentinel.url)
    reader = DurableRedis.from_pool(link.primary_pool())
    writer = DurableRedis.from_pool(link.primary_pool())
    for client in (reader, writer):
        client.wait_policy = WaitPolicy(replicas=1, timeout_ms=500)
    find = "return redis.call('GET', KEYS[1])"
    try:
        await reader.set("before", "1")  # confirmed: the reader's connection has written
        with pausing(redis_sentinel.replicas):
            with pytest.raises(NotReplicated):
                await writer.set("vote", "1")  # on the primary only
            with pytest.raises(NotReplicated):
                await reader.eval(find, 1, "vote")
            with pytest.raises(NotReplicated):
                async with writer.pipeline(transaction=True) as transaction:
                    transaction.incr("count").incr("count")
                    await transaction.execute()
            assert await reader.get("vote") == "1"  # a read waits for nothing
        assert await reader.eval(find, 1, "vote") == "1"
        async with writer.pipeline(transaction=True) as transaction:
            transaction.incr("count")
            assert await transaction.execute() == [3]
    finally:
        await reader.aclose()
        await writer.aclose()
        await link.aclose()


async def test_kill_9_of_the_primary_mid_burst_loses_no_acknowledged_vote(
    tmp_path: Path, redis_sentinel: SentinelSetup
) -> None:
    server = app_process(tmp_path, "app", redis_sentinel.url)
    server.start()
    try:
        token = server.organiser_token()
        poll = open_new_poll(server, token)
        ids = [f["id"] for f in poll["finalists"]]
        path = f"/p/{poll['code']}"
        acknowledged: dict[str, int] = {}
        refused = 0
        killed_at: float | None = None
        recovered_at: float | None = None
        before_kill = 0
        done = asyncio.Event()
        deadline = time.monotonic() + 45

        async def phone(http: httpx.AsyncClient, lane: int) -> None:
            """Voters one after another; each vote is sent again (same sent_at, as the
            ballot page does) until it is acknowledged."""
            nonlocal refused, recovered_at
            n = lane
            while not done.is_set() and time.monotonic() < deadline:
                choice = ids[n % 5]
                n += LANES
                cookie = None
                while cookie is None and time.monotonic() < deadline:
                    with contextlib.suppress(httpx.HTTPError):
                        cookie = (await http.get(path)).cookies.get("live_voter")
                    if cookie is None:
                        refused += 1
                        await asyncio.sleep(0.1)
                form = {"choice": [str(choice)], "sent_at": str(int(time.time() * 1000))}
                headers = {"Accept": "application/json", "Cookie": f"live_voter={cookie}"}
                while cookie is not None and time.monotonic() < deadline:
                    sent = time.monotonic()
                    try:
                        answer = await http.post(path, data=form, headers=headers)
                        ok = answer.status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    if ok:
                        acknowledged[cookie] = choice
                        if killed_at is not None and sent > killed_at and recovered_at is None:
                            recovered_at = time.monotonic()
                        break
                    refused += 1
                    await asyncio.sleep(0.1)

        async with cookieless_client(server.url, timeout=15) as http:
            burst = asyncio.gather(*(phone(http, lane) for lane in range(LANES)))
            while len(acknowledged) < 300 and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.005)
            before_kill = len(acknowledged)
            old_primary = redis_sentinel.kill_primary()
            killed_at = time.monotonic()
            while (  # noqa: ASYNC110
                recovered_at is None or len(acknowledged) < before_kill + 300
            ) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            done.set()
            await burst
        assert recovered_at is not None, "voting did not come back after the failover"
        recovery = recovered_at - killed_at
        assert redis_sentinel.primary_port() != old_primary.port
        results = api(server, token, "GET", f"/api/polls/{poll['id']}/results")
        assert results["ballots"] == len(acknowledged), "a vote was lost or counted twice"
        expected = dict.fromkeys(ids, 0)
        for choice in acknowledged.values():
            expected[choice] += 1
        assert {row["finalist_id"]: row["score"] for row in results["tally"]} == expected
        async with cookieless_client(server.url) as http:
            for cookie in acknowledged:
                receipt = await http.get(
                    f"{path}/kvittering", headers={"Cookie": f"live_voter={cookie}"}
                )
                assert receipt.status_code == 200, "an acknowledged ballot is missing"
        print(
            f"\nSentinel failover: {before_kill} votes acknowledged before kill -9 of the "
            f"primary, {len(acknowledged) - before_kill} after; voting back {recovery:.1f} s "
            f"after the kill; {refused} attempts refused (503) and sent again; "
            f"{results['ballots']} ballots in the result"
        )
        assert recovery < 10, f"voting came back only {recovery:.1f} s after the kill"
    finally:
        server.stop()
