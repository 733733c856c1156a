"""Scale-out on a real redis-server: several app processes share one state."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.support.process import (
    ServerProcess,
    api,
    cookieless_client,
    new_voter,
    open_new_poll,
    vote,
)
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.asyncio

SECRET = "shared secret key for every worker, 32+ characters"


def app_process(tmp_path: Path, name: str, store_url: str, workers: int = 1) -> ServerProcess:
    return ServerProcess(
        tmp_path / name, store_url=store_url, workers=workers, LIVE_SECRET_KEY=SECRET
    )


async def ballots_seen(socket: ClientConnection, seen: list[tuple[float, int]]) -> None:
    async for raw in socket:
        message = json.loads(raw)
        if "ballots" in message:
            seen.append((time.perf_counter(), message["ballots"]))


async def test_two_processes_share_votes_and_streams(tmp_path: Path, redis_url: str) -> None:
    one = app_process(tmp_path, "one", redis_url, workers=2)
    two = app_process(tmp_path, "two", redis_url)
    one.start()
    two.start()
    try:
        token = one.organiser_token()
        poll = open_new_poll(one, token)
        ids = [f["id"] for f in poll["finalists"]]
        path = f"/p/{poll['code']}"
        seen_one: list[tuple[float, int]] = []
        seen_two: list[tuple[float, int]] = []
        acks: list[tuple[float, int, str]] = []
        async with (
            connect(f"{one.ws_url}{path}/stream") as stream_one,
            connect(f"{two.ws_url}{path}/stream") as stream_two,
        ):
            listeners = [
                asyncio.create_task(ballots_seen(stream_one, seen_one)),
                asyncio.create_task(ballots_seen(stream_two, seen_two)),
            ]
            clients = [cookieless_client(one.url), cookieless_client(two.url)]
            expected = dict.fromkeys(ids, 0)
            for n in range(400):
                # The token comes from one process, the vote goes to the other.
                cookie = await new_voter(clients[n % 2], path)
                vote_to = (n + 1) % 2
                choice = ids[n % 5] if n % 3 else ids[0]
                answer = await vote(clients[vote_to], path, cookie, choice)
                assert answer.status_code == 200, answer.text
                expected[choice] += 1
                acks.append((time.perf_counter(), n + 1, "one" if vote_to == 0 else "two"))
                if n % 20 == 0:
                    await asyncio.sleep(0.05)  # let screens catch up: a hall, not a flood
            for client in clients:
                await client.aclose()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not (  # noqa: ASYNC110
                seen_one and seen_two and seen_one[-1][1] == 400 and seen_two[-1][1] == 400
            ):
                await asyncio.sleep(0.05)
            for task in listeners:
                task.cancel()
        assert seen_one[-1][1] == 400 and seen_two[-1][1] == 400
        results = api(two, token, "GET", f"/api/polls/{poll['id']}/results")
        assert results["ballots"] == 400
        assert {row["finalist_id"]: row["score"] for row in results["tally"]} == expected
        # Latency across processes: a vote taken by one process, shown by the other's stream.
        latencies = []
        for acked_at, count, taken_by in acks:
            other = seen_two if taken_by == "one" else seen_one
            shown = next((t for t, b in other if b >= count), None)
            if shown is not None:
                latencies.append(max(0.0, shown - acked_at) * 1000)
        latencies.sort()
        print(
            f"\ncross-process vote->screen over {len(latencies)} votes: "
            f"p50 {statistics.median(latencies):.1f} ms, "
            f"p99 {latencies[int(len(latencies) * 0.99) - 1]:.1f} ms; counts {expected}"
        )
    finally:
        one.stop()
        two.stop()


@dataclass
class Finale:
    """An app process on a Redis of its own, with an organiser and an opened poll."""

    server: ServerProcess
    token: str
    poll: dict[str, Any]

    @property
    def ids(self) -> list[int]:
        return [f["id"] for f in self.poll["finalists"]]

    @property
    def path(self) -> str:
        return f"/p/{self.poll['code']}"


@pytest.fixture
def finale(tmp_path: Path, own_redis: RedisServer) -> Iterator[Finale]:
    server = app_process(tmp_path, "app", own_redis.url)
    server.start()
    try:
        token = server.organiser_token()
        yield Finale(server, token, open_new_poll(server, token))
    finally:
        server.stop()


async def test_a_redis_outage_gives_503_then_recovers_losing_nothing(
    finale: Finale, own_redis: RedisServer
) -> None:
    server, ids, path = finale.server, finale.ids, finale.path
    async with cookieless_client(server.url, timeout=15) as http:

        async def newcomer_votes(choice: int) -> httpx.Response:
            return await vote(http, path, await new_voter(http, path), choice)

        for n in range(50):
            assert (await newcomer_votes(ids[n % 5])).status_code == 200
        async with connect(f"{server.ws_url}{path}/stream") as stream:
            assert json.loads(await stream.recv())["type"] == "clock"
            assert json.loads(await stream.recv())["ballots"] == 50
            cookie = await new_voter(http, path)
            own_redis.kill()
            down = await vote(http, path, cookie, ids[0])
            page = await http.get(path, headers={"Cookie": f"live_voter={cookie}"})
            assert page.status_code in (200, 503)  # a cached poll may still render
            assert down.status_code == 503, down.text
            assert down.json()["error"]["code"] == "unavailable"
            assert down.headers["retry-after"]
            # The stage hears that the store is gone (it shows "reconnecting").
            async with asyncio.timeout(15):
                while not json.loads(await stream.recv()).get("unavailable"):
                    pass
            own_redis.start()
            async with asyncio.timeout(20):
                while True:
                    message = json.loads(await stream.recv())
                    if not message.get("unavailable"):
                        break
            assert message["ballots"] == 50
        deadline = time.monotonic() + 15
        while True:
            answer = await newcomer_votes(ids[1])
            if answer.status_code == 200 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert answer.status_code == 200
    results = api(server, finale.token, "GET", f"/api/polls/{finale.poll['id']}/results")
    assert results["ballots"] == 51


async def test_kill_9_of_redis_loses_no_acknowledged_vote(
    finale: Finale, own_redis: RedisServer
) -> None:
    server, ids, path = finale.server, finale.ids, finale.path
    acknowledged: list[str] = []

    async def phone(http: httpx.AsyncClient, lane: int) -> None:
        for n in range(lane, 4000, 16):
            try:
                cookie = await new_voter(http, path)
                answer = await vote(http, path, cookie, ids[n % 5])
            except (httpx.HTTPError, KeyError):
                return
            if answer.status_code != 200:
                return
            acknowledged.append(cookie)

    async with cookieless_client(server.url, timeout=10) as http:
        burst = asyncio.gather(*(phone(http, lane) for lane in range(16)))
        deadline = time.monotonic() + 60
        while len(acknowledged) < 300 and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        own_redis.kill()
        await burst
    assert 300 <= len(acknowledged) < 4000
    own_redis.start()
    deadline = time.monotonic() + 20
    while True:
        try:
            results = api(server, finale.token, "GET", f"/api/polls/{finale.poll['id']}/results")
            break
        except httpx.HTTPStatusError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
    assert results["ballots"] >= len(acknowledged)
    async with cookieless_client(server.url) as http:
        for cookie in acknowledged:
            receipt = await http.get(
                f"{path}/kvittering", headers={"Cookie": f"live_voter={cookie}"}
            )
            assert receipt.status_code == 200, "an acknowledged ballot is missing"
    print(
        f"\nredis kill -9 after {len(acknowledged)} acknowledged: "
        f"{results['ballots']} ballots after the AOF restart"
    )
