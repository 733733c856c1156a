"""The service as a real process: websockets, restarts and kill -9 (SQLite default)."""

from __future__ import annotations

import asyncio
import json
import time
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

pytestmark = pytest.mark.asyncio


async def cast(http: httpx.AsyncClient, poll: dict[str, Any], choice: int) -> httpx.Response:
    """One new voter: fetch the ballot (token cookie), then vote."""
    path = f"/p/{poll['code']}"
    return await vote(http, path, await new_voter(http, path), choice)


async def next_message(socket: ClientConnection) -> dict[str, Any]:
    """The next snapshot, past the clock message a stream starts with."""
    async with asyncio.timeout(10):
        while True:
            message: dict[str, Any] = json.loads(await socket.recv())
            if message.get("type") != "clock":
                return message


async def wait_for_ballots(socket: ClientConnection, ballots: int) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        message = await next_message(socket)
        if message.get("ballots") == ballots:
            return message
    raise AssertionError(f"the stream never showed {ballots} ballots")


async def test_stream_clients_see_every_change_as_full_snapshots(server: ServerProcess) -> None:
    token = server.organiser_token()
    poll = open_new_poll(server, token)
    ids = [f["id"] for f in poll["finalists"]]
    stream = f"{server.ws_url}/p/{poll['code']}/stream"
    async with connect(stream) as one, connect(stream) as two:
        first = await next_message(one)
        assert first["status"] == "open" and first["ballots"] == 0
        assert {"version", "status", "ballots", "tally"} <= first.keys()
        await next_message(two)
        async with cookieless_client(server.url) as http:
            for choice in [ids[0], ids[0], ids[1]]:
                assert (await cast(http, poll, choice)).status_code == 200
        for socket in (one, two):
            message = await wait_for_ballots(socket, 3)
            scores = {row["finalist_id"]: row["score"] for row in message["tally"]}
            assert scores[ids[0]] == 2 and scores[ids[1]] == 1
            assert message["version"] > first["version"]


async def test_hidden_counts_never_reach_the_public_stream(server: ServerProcess) -> None:
    token = server.organiser_token()
    poll = open_new_poll(server, token)
    api(server, token, "POST", f"/api/polls/{poll['id']}/hide-counts", json={"hidden": True})
    async with connect(f"{server.ws_url}/p/{poll['code']}/stream") as socket:
        assert "tally" not in await next_message(socket)
        async with cookieless_client(server.url) as http:
            await cast(http, poll, poll["finalists"][0]["id"])
        message = await wait_for_ballots(socket, 1)
        assert "tally" not in message and "score" not in json.dumps(message)


async def test_a_foreign_origin_cannot_open_the_stream(server: ServerProcess) -> None:
    token = server.organiser_token()
    poll = open_new_poll(server, token)
    with pytest.raises(Exception, match="403"):
        async with connect(
            f"{server.ws_url}/p/{poll['code']}/stream", origin="https://evil.example"
        ) as socket:
            await next_message(socket)


async def test_screens_resync_and_tokens_survive_a_restart(server: ServerProcess) -> None:
    token = server.organiser_token()
    poll = open_new_poll(server, token)
    ids = [f["id"] for f in poll["finalists"]]
    stream = f"{server.ws_url}/p/{poll['code']}/stream"
    async with cookieless_client(server.url) as http:
        page = await http.get(f"/p/{poll['code']}")
        cookie = {"Cookie": f"live_voter={page.cookies['live_voter']}"}
        headers = {"Accept": "application/json", **cookie}
        first = await http.post(f"/p/{poll['code']}", data={"choice": ids[0]}, headers=headers)
        assert first.status_code == 200
    async with connect(stream) as socket:
        before = await wait_for_ballots(socket, 1)
    server.stop()
    server.start()
    async with cookieless_client(server.url) as http:
        changed = await http.post(f"/p/{poll['code']}", data={"choice": ids[1]}, headers=headers)
        assert changed.status_code == 200 and changed.json()["replaced"] is True
        receipt = await http.get(f"/p/{poll['code']}/kvittering", headers=cookie)
        assert receipt.status_code == 200 and "B" in receipt.text
    async with connect(stream) as socket:
        after = await next_message(socket)
    assert after["ballots"] == 1 and after["version"] > before["version"]
    scores = {row["finalist_id"]: row["score"] for row in after["tally"]}
    assert scores[ids[0]] == 0 and scores[ids[1]] == 1


async def test_kill_9_mid_burst_loses_no_acknowledged_vote(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "var")
    server.start()
    try:
        token = server.organiser_token()
        poll = open_new_poll(server, token)
        ids = [f["id"] for f in poll["finalists"]]
        acknowledged: list[tuple[str, int]] = []
        errors: list[str] = []
        attempts = 0

        async def phone(http: httpx.AsyncClient, lane: int) -> None:
            """Voters one after another; stops at the first failure (the server died)."""
            nonlocal attempts
            url = f"/p/{poll['code']}"
            for n in range(lane, 3000, 32):
                try:
                    cookie = await new_voter(http, url)
                    attempts += 1
                    answer = await vote(http, url, cookie, ids[n % 5])
                except (httpx.HTTPError, KeyError) as error:
                    errors.append(repr(error))
                    return
                if answer.status_code != 200:
                    errors.append(answer.text)
                    return
                acknowledged.append((cookie, ids[n % 5]))

        limits = httpx.Limits(max_connections=32)
        async with cookieless_client(server.url, limits=limits, timeout=5) as http:
            burst = asyncio.gather(*(phone(http, lane) for lane in range(32)))
            deadline = time.monotonic() + 60
            while len(acknowledged) < 300 and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.005)
            server.kill()
            await burst
        assert 300 <= len(acknowledged) < 3000, f"the kill did not land mid-burst: {errors[:3]}"
        server.start()
        results = api(server, token, "GET", f"/api/polls/{poll['id']}/results")
        assert len(acknowledged) <= results["ballots"] <= attempts
        async with cookieless_client(server.url, limits=limits) as http:
            for cookie, _ in acknowledged:
                receipt = await http.get(
                    f"/p/{poll['code']}/kvittering", headers={"Cookie": f"live_voter={cookie}"}
                )
                assert receipt.status_code == 200, "an acknowledged ballot is missing"
        names = {f["id"]: f["name"] for f in poll["finalists"]}
        expected: dict[int, int] = {}
        for _, choice in acknowledged:
            expected[choice] = expected.get(choice, 0) + 1
        scores = {row["finalist_id"]: row["score"] for row in results["tally"]}
        for choice, count in expected.items():
            assert scores[choice] >= count, names[choice]
        print(
            f"kill -9 after {len(acknowledged)} acknowledged of {attempts} sent: "
            f"{results['ballots']} ballots on disk"
        )
    finally:
        server.kill()
