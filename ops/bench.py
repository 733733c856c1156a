"""How fast is live? Figures, and ratios to a bare Starlette baseline measured in this run.

    .venv/bin/python ops/bench.py [--seconds 10] [--connections 64] [--store-url redis://…]
    .venv/bin/python ops/bench.py --soak MINUTES [--store-url redis://…] [--workers N]

Needs `wrk` (Debian package). Everything runs on 127.0.0.1 on this machine: the load
generator shares the CPU with the server, as in the performance budget (ROADMAP.md).
Measures: baseline form POST req/s; durable votes/s and their p99 latency; ballot page
req/s; vote-to-screen latency (vote acknowledged -> websocket snapshot that includes it);
host-to-phones latency (the host sends "open" -> each of `--phones` phones following the
show on their stream hears of it). `--soak MINUTES` runs the mixed load of an evening
instead and watches the server's memory (ops/soak.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.process import ServerProcess, cookieless_client  # noqa: E402
from tests.support.redis_server import free_port  # noqa: E402

VOTE_LUA = """
local tokens = {}
for line in io.lines("%(cookies)s") do tokens[#tokens + 1] = line end
local choices = {%(choices)s}
local n = 0
wrk.method = "POST"
request = function()
  n = n + 1
  local headers = {["Cookie"] = "live_voter=" .. tokens[(n %% #tokens) + 1],
                   ["Content-Type"] = "application/x-www-form-urlencoded",
                   ["Accept"] = "application/json"}
  return wrk.format(nil, nil, headers, "choice=" .. choices[(n %% #choices) + 1])
end
"""

FORM_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "choice=1"
"""


def wrk(url: str, seconds: int, connections: int, script: Path | None = None) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rate": rate,
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"),
        "errors": float(errors.group(1)) if errors else 0.0,
    }


def start_baseline(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "ops.bench_baseline:app", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        cwd=ROOT,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.post(f"http://127.0.0.1:{port}/vote", data={"choice": "1"}, timeout=0.5)
            return process
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("baseline did not start")


async def mint_tokens(server: ServerProcess, code: str, count: int) -> list[str]:
    async with cookieless_client(server.url, limits=httpx.Limits(max_connections=16)) as http:
        semaphore = asyncio.Semaphore(16)

        async def one() -> str:
            async with semaphore:
                return (await http.get(f"/p/{code}")).cookies["live_voter"]

        return list(await asyncio.gather(*(one() for _ in range(count))))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def drain(socket: ClientConnection) -> None:
    async for _ in socket:
        pass


async def snapshot(socket: ClientConnection) -> dict[str, object]:
    """The next snapshot on a stream, past the clock message each stream starts with."""
    while True:
        message: dict[str, object] = json.loads(await socket.recv())
        if message.get("type") != "clock":
            return message


async def host_to_phones(server: ServerProcess, token: str, phones: int) -> list[float]:
    """Milliseconds from the host sending "open" to each phone hearing it (the phones may
    hear before the host's own answer arrives, so the clock starts at the send)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
        poll = (await http.post("/api/polls", json={
            "title": "Phones", "finalists": [{"name": n} for n in "ABCDE"]})).json()  # fmt: skip
        crowd = [
            await connect(f"{server.ws_url}/p/{poll['code']}/updates", compression=None)
            for _ in range(phones)
        ]
        for phone in crowd:
            await snapshot(phone)
        heard: list[float] = []

        async def wait_open(phone: ClientConnection) -> None:
            while (await snapshot(phone))["status"] != "open":
                pass
            heard.append(time.perf_counter())

        waiting = [asyncio.create_task(wait_open(phone)) for phone in crowd]
        await asyncio.sleep(0.5)
        sent = time.perf_counter()
        await http.post(f"/api/polls/{poll['id']}/open")
        await asyncio.wait_for(asyncio.gather(*waiting), 30)
        for phone in crowd:
            await phone.close()
    return sorted((t - sent) * 1000 for t in heard)


async def vote_to_screen(server: ServerProcess, poll: dict[str, object], tokens: list[str],
                         rate: float, seconds: float,
                         subscribers: int) -> tuple[list[float], float]:  # fmt: skip
    """Latency from a vote's acknowledgement to the first snapshot that counts it, seen
    by the last of `subscribers` screens; and the server's memory per extra screen (KB)."""
    code = poll["code"]
    choice = poll["finalists"][0]["id"]  # type: ignore[index]
    seen: list[tuple[float, int]] = []
    latencies: list[float] = []
    assert server.process is not None
    before = rss_mb(server.process.pid)
    crowd: list[ClientConnection] = []
    for _ in range(subscribers):
        crowd.append(await connect(f"{server.ws_url}/p/{code}/stream", compression=None))
    drainers = [asyncio.create_task(drain(s)) for s in crowd]
    await asyncio.sleep(1)
    per_screen_kb = (rss_mb(server.process.pid) - before) * 1024 / max(1, subscribers)
    async with connect(f"{server.ws_url}/p/{code}/stream") as socket:
        first = await snapshot(socket)
        start_ballots = int(str(first["ballots"]))

        async def listen() -> None:
            async for raw in socket:
                message = json.loads(raw)
                if "ballots" in message:
                    seen.append((time.perf_counter(), message["ballots"]))

        listener = asyncio.create_task(listen())
        acks: list[tuple[float, int]] = []
        async with cookieless_client(server.url) as http:
            interval = 1 / rate
            begin = time.perf_counter()
            for n, token in enumerate(tokens[: int(rate * seconds)]):
                await asyncio.sleep(max(0.0, begin + n * interval - time.perf_counter()))
                answer = await http.post(
                    f"/p/{code}", data={"choice": choice},
                    headers={"Accept": "application/json", "Cookie": f"live_voter={token}"},
                )  # fmt: skip
                if answer.status_code == 200 and not answer.json()["replaced"]:
                    acks.append((time.perf_counter(), start_ballots + len(acks) + 1))
        await asyncio.sleep(1.5)
        listener.cancel()
    for task in drainers:
        task.cancel()
    for other in crowd:
        await other.close()
    for acked_at, ballots in acks:
        shown = next((t for t, b in seen if b >= ballots and t >= acked_at - 1), None)
        if shown is not None:
            latencies.append(max(0.0, shown - acked_at) * 1000)
    return latencies, per_screen_kb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--store-url", default=None, help="default: SQLite in a temp dir")
    parser.add_argument(
        "--subscribers",
        type=int,
        default=1000,
        help="stage screens connected during the vote-to-screen run",
    )
    parser.add_argument(
        "--phones",
        type=int,
        default=2000,
        help="phones following the show in the host-to-phones run",
    )
    soak = parser.add_argument_group("soak", "mixed load for MINUTES, memory watched (ops/soak.py)")
    soak.add_argument("--soak", type=float, metavar="MINUTES", default=None)
    soak.add_argument("--workers", type=int, default=1, help="server workers (Redis only)")
    soak.add_argument("--votes-per-second", type=float, default=100)
    soak.add_argument("--screens", type=int, default=200, help="screens and phones reconnecting")
    soak.add_argument("--ideas-per-second", type=float, default=3)
    args = parser.parse_args()
    if args.soak:
        from ops.soak import run_soak

        return run_soak(args)
    if not shutil.which("wrk"):
        print("bench: install wrk first (apt-get install wrk)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="live-bench-"))
    figures: dict[str, float] = {}

    port = free_port()
    baseline = start_baseline(port)
    try:
        form = work / "form.lua"
        form.write_text(FORM_LUA)
        base = wrk(f"http://127.0.0.1:{port}/vote", args.seconds, args.connections, form)
    finally:
        baseline.terminate()
        baseline.wait()

    # All load comes from one address (127.0.0.1), standing for a hall of phones on many;
    # the per-address limits on new voter tokens would otherwise measure the 429 page.
    server = ServerProcess(
        work / "var", store_url=args.store_url,
        LIVE_TOKEN_ALERT_PER_MINUTE=str(10**7), LIVE_TOKEN_CEILING_PER_MINUTE=str(10**7),
    )  # fmt: skip
    server.start()
    try:
        token = server.organiser_token()
        headers = {"Authorization": f"Bearer {token}"}
        poll = httpx.post(f"{server.url}/api/polls", headers=headers, json={
            "title": "Bench", "finalists": [{"name": n} for n in "ABCDE"]}).json()  # fmt: skip
        httpx.post(f"{server.url}/api/polls/{poll['id']}/open", headers=headers)
        tokens = asyncio.run(mint_tokens(server, poll["code"], 5000))
        cookies = work / "cookies.txt"
        cookies.write_text("\n".join(tokens[:4000]) + "\n")
        script = work / "vote.lua"
        ids = ", ".join(f'"{f["id"]}"' for f in poll["finalists"])
        script.write_text(VOTE_LUA % {"cookies": cookies, "choices": ids})
        votes = wrk(f"{server.url}/p/{poll['code']}", args.seconds, args.connections, script)
        page = wrk(f"{server.url}/p/{poll['code']}", args.seconds, args.connections)
        results = httpx.get(f"{server.url}/api/polls/{poll['id']}/results", headers=headers).json()
        latencies, per_screen_kb = asyncio.run(
            vote_to_screen(
                server, poll, tokens[4000:], rate=100, seconds=8, subscribers=args.subscribers
            )
        )
        to_phones = asyncio.run(host_to_phones(server, token, args.phones))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    figures = {
        "baseline form POST req/s": base["rate"],
        "durable votes/s": votes["rate"],
        "votes / baseline": votes["rate"] / base["rate"],
        f"vote p99 ms at {args.connections} connections": votes["p99_ms"],
        "vote errors (non-2xx)": votes["errors"],
        "ballot page req/s": page["rate"],
        "ballot page / baseline": page["rate"] / base["rate"],
        "ballot page errors (non-2xx)": page["errors"],
        "ballots stored (≤ 4000 tokens)": float(results["ballots"]),
    }
    if latencies:
        latencies.sort()
        figures["vote->screen p50 ms"] = statistics.median(latencies)
        figures["vote->screen p99 ms"] = latencies[int(len(latencies) * 0.99) - 1]
        figures["vote->screen samples"] = float(len(latencies))
    figures["screens connected during it"] = float(args.subscribers + 1)
    figures["server memory per screen KB"] = per_screen_kb
    figures[f"host open->{args.phones} phones p50 ms"] = statistics.median(to_phones)
    figures[f"host open->{args.phones} phones max ms"] = to_phones[-1]
    store = args.store_url or "sqlite (default)"
    print(f"live bench: store={store}, {args.seconds}s per run, {os.cpu_count()} cores")
    for name, value in figures.items():
        print(f"  {name:<40} {value:>10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
