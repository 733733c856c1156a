"""Soak: minutes of an evening's mixed load on one `live serve`, its memory watched.

    .venv/bin/python ops/bench.py --soak 30 [--store-url redis://…] [--workers 2]

All on 127.0.0.1, at a steady, bounded rate: voters (new ones, and changes of mind) on
an open poll; stage screens, phones and two consoles that stay 10–60 s and reconnect;
hide/show every few seconds (the API and the console in turn); every two minutes a
poll created, opened, voted on, counted down for 10 s until the server closes it, ties
drawn by lots, revealed 3-2-1 and its result shown; and idea drafts, edits and
submissions through the public form, from many (forwarded) addresses and from one office
address that meets the form's per-address limit and backs off on 429. Every 10 s the
server's RSS and open files (all its processes) and its open streams (/metrics) are
sampled. A row is printed each minute, totals at the end; the exit status is 1 if
anything failed (an error status, an exception, a lost vote, an error in the server's log).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import shutil
import signal
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from websockets.asyncio.client import ClientConnection, connect

from ops.bench import drain, rss_mb, snapshot
from tests.support.contest import idea_form
from tests.support.process import ServerProcess, cookieless_client, vote

HIDE_EVERY = 5.0  # seconds between hide/show
POLL_EVERY = 120.0  # seconds between finale rounds; each takes about 50 s
NEW_VOTER_SHARE = 0.3  # the rest of the votes are changes of mind
NEW_IDEA_SHARE = 0.2  # the rest of the saves edit an idea saved before
COLUMNS = {"min": 4, "RSS MB": 7, "fds": 5, "streams": 9, "votes/s": 7, "ideas": 6, "connects": 8,
           "409": 5, "429": 5, "errors": 6, "p99 ms": 7, "lag ms": 7, "load": 5}  # fmt: skip
ROW = " ".join(f"{{:>{width}}}" for width in COLUMNS.values())


@dataclass
class Minute:
    requests: int = 0
    votes: int = 0
    ideas: int = 0
    connects: int = 0
    conflicts: int = 0  # 409 where it is expected: a vote as its poll closes
    limited: int = 0  # 429 from the public form's per-address limit
    errors: int = 0
    lag_ms: float = 0.0  # how late this load generator's own timers ran (a busy machine)
    latencies: list[float] = field(default_factory=list)


class Stats:
    def __init__(self, seconds: float) -> None:
        self.start = time.monotonic()
        self.end = self.start + seconds
        self.minutes: defaultdict[int, Minute] = defaultdict(Minute)
        self.by_kind: defaultdict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.samples: list[tuple[float, float, int]] = []  # (seconds, RSS MB, fds)
        self.screens_open = 0
        self.streams = "-/-"  # open streams as the server counts them / as the screens do
        self.closed_after: list[float] = []  # seconds from a countdown's end to "closed"

    @property
    def now(self) -> Minute:
        return self.minutes[int((time.monotonic() - self.start) // 60)]

    def error(self, kind: str, what: str) -> None:
        self.now.errors += 1
        self.errors[f"{kind}: {what[:160]}"] += 1

    async def timed(
        self,
        kind: str,
        request: Awaitable[httpx.Response],
        ok: tuple[int, ...] = (200,),
        tolerated: tuple[int, ...] = (),
    ) -> httpx.Response | None:
        """The response, unless it failed: an exception, or a status neither `ok` nor
        `tolerated` (409 for a vote as its poll closes, 429 from a limit: counted apart)."""
        begin = time.perf_counter()
        try:
            response = await request
        except httpx.HTTPError as error:
            self.error(kind, repr(error))
            return None
        took = (time.perf_counter() - begin) * 1000
        minute = self.now
        minute.requests += 1
        minute.latencies.append(took)
        self.by_kind[kind].append(took)
        if response.status_code in ok:
            return response
        if response.status_code not in tolerated:
            self.error(kind, f"{response.status_code} {' '.join(response.text.split())}")
            return None
        if response.status_code == 429:
            minute.limited += 1
        else:
            minute.conflicts += 1
        return response


@dataclass
class Show:
    """What the crowd follows: the main poll all evening, and the round of the moment."""

    main: dict[str, Any]
    round: dict[str, Any] | None = None  # screens follow it until the next one
    voting_on_round: bool = False
    tokens: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    first_votes: Counter[str] = field(default_factory=Counter)  # acknowledged, by poll code


def p99(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.99)] if values else float("nan")


def server_processes(leader: int) -> list[int]:
    """The server and its workers: every process in its session's process group."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) == leader:
                found.append(int(stat.parent.name))
    return found


def sample(leader: int) -> tuple[float, int]:
    rss, fds = 0.0, 0
    for pid in server_processes(leader):
        with contextlib.suppress(OSError):
            rss += rss_mb(pid)
            fds += len(os.listdir(f"/proc/{pid}/fd"))
    return rss, fds


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep, unless the soak stops first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), max(0.0, seconds))


async def guarded(kind: str, action: Awaitable[None], stats: Stats) -> None:
    try:
        await action
    except Exception as error:  # counted, and the load goes on
        stats.error(kind, repr(error))


async def paced(
    kind: str,
    rate: float,
    in_flight: int,
    action: Callable[[], Awaitable[None]],
    stats: Stats,
    stop: asyncio.Event,
) -> None:
    """Start `action` `rate` times a second, never more than `in_flight` at once."""
    running: set[asyncio.Task[None]] = set()
    next_at = time.monotonic()
    while not stop.is_set():
        if len(running) < in_flight:
            task = asyncio.create_task(guarded(kind, action(), stats))
            running.add(task)
            task.add_done_callback(running.discard)
        next_at = max(next_at + 1 / rate, time.monotonic() - 1)
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    await asyncio.gather(*running)


async def voter(http: httpx.AsyncClient, show: Show, stats: Stats) -> None:
    poll = show.round if show.voting_on_round and random.random() < 0.3 else show.main
    assert poll is not None
    code, ids = poll["code"], [f["id"] for f in poll["finalists"]]
    # The rounds lean towards the first finalists so that their places are seldom tied.
    choice = random.choices(ids, weights=(40, 25, 15, 12, 8) if poll is show.round else None)[0]
    pool = show.tokens[code]
    if len(pool) < 20 or random.random() < NEW_VOTER_SHARE:
        page = await stats.timed("ballot page", http.get(f"/p/{code}"))
        if page is None:
            return
        token, new = page.cookies["live_voter"], True
    else:
        token, new = random.choice(pool), False
    answer = await stats.timed("vote", vote(http, f"/p/{code}", token, choice), tolerated=(409,))
    if answer is None or answer.status_code != 200:
        return
    stats.now.votes += 1
    if new and not answer.json()["replaced"]:
        show.first_votes[code] += 1
        if len(pool) < 5000:
            pool.append(token)
        else:
            pool[random.randrange(len(pool))] = token


async def stay(socket: ClientConnection, path: str, stats: Stats, stop: asyncio.Event) -> None:
    """One connection of a screen: its snapshot first, then whatever comes, for 10–60 s."""
    stats.now.connects += 1
    stats.screens_open += 1
    try:
        if "status" not in await asyncio.wait_for(snapshot(socket), 10):
            stats.error("screen", f"first message on {path} is not a snapshot")
        reading = asyncio.create_task(drain(socket))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait(
            {reading, stopping}, timeout=random.uniform(10, 60), return_when=asyncio.FIRST_COMPLETED
        )
        if reading.done():
            why = reading.exception() or socket.close_code
            stats.error("screen", f"the server ended {path}: {why!r}")
        reading.cancel()
        stopping.cancel()
    finally:
        stats.screens_open -= 1


async def screen(server: ServerProcess, show: Show, stats: Stats, stop: asyncio.Event,
                 session_cookie: str | None = None) -> None:  # fmt: skip
    """A stage screen or phone (or a console, with a session) that stays a while and
    reconnects, to the main poll or now and then to the round of the moment."""
    await asyncio.sleep(random.uniform(0, 5))
    while not stop.is_set():
        poll = show.round if show.round and random.random() < 0.2 else show.main
        if session_cookie:
            path, headers = f"/admin/polls/{show.main['id']}/stream", {"Cookie": session_cookie}
        else:
            view = random.choice(("stream", "updates", "updates"))  # a stage, two phones
            path, headers = f"/p/{poll['code']}/{view}", {}
        url = server.ws_url + path
        try:
            async with connect(url, compression=None, open_timeout=10,
                               additional_headers=headers) as socket:  # fmt: skip
                await stay(socket, path, stats, stop)
        except Exception as error:  # counted; the screen reconnects
            stats.error("screen", f"{path.split('/')[-1]}: {error!r}")
        await asyncio.sleep(random.uniform(0.2, 2))


async def finale_round(api: httpx.AsyncClient, show: Show, stats: Stats, number: int) -> None:
    """A poll created, opened, voted on for 30 s, counted down for 10 s until the server
    closes it, ties drawn by lots, revealed 3-2-1, and its full result shown."""
    body = {"title": f"Runde {number}", "winners": 3, "finalists": [{"name": n} for n in "ABCDE"]}
    created = await stats.timed("admin", api.post("/api/polls", json=body), ok=(201,))
    if created is None:
        return
    poll = created.json()
    path = f"/api/polls/{poll['id']}"
    if await stats.timed("admin", api.post(f"{path}/open")) is None:
        return
    show.round, show.voting_on_round = poll, True
    await asyncio.sleep(30)
    counting = await stats.timed("admin", api.post(f"{path}/countdown", json={"seconds": 10}))
    if counting is None:
        return
    due = time.monotonic() + 10
    while True:
        await asyncio.sleep(0.25)
        state = await stats.timed("admin", api.get(path))
        if state is not None and state.json()["status"] == "closed":
            break
        if time.monotonic() > due + 20:
            stats.error("round", f"poll {poll['id']} still open 20 s after its countdown ended")
            return
    stats.closed_after.append(time.monotonic() - due)
    show.voting_on_round = False
    results = await stats.timed("admin", api.get(f"{path}/results"))
    for tie in results.json()["open_ties"] if results else []:
        order = {"rule": "lots", "order": tie["finalist_ids"]}
        await stats.timed("admin", api.post(f"{path}/ties", json=order), ok=(201,))
    for place in (3, 2, 1):
        await asyncio.sleep(2)
        await stats.timed("admin", api.post(f"{path}/reveal", json={"place": place}))
    await stats.timed("admin", api.post(f"{path}/show-results", json={"shown": True}))


async def host(
    api: httpx.AsyncClient,
    console: httpx.AsyncClient,
    csrf: str,
    show: Show,
    stats: Stats,
    stop: asyncio.Event,
) -> None:
    """Hide/show on the main poll every few seconds, through the API and the console in
    turn; a finale round every two minutes while there is time for one."""
    main, hidden, rounds = show.main["id"], False, list[asyncio.Task[None]]()
    next_round = time.monotonic() + 15
    while not stop.is_set():
        await pause(stop, HIDE_EVERY)
        hidden = not hidden
        if hidden:
            sent = api.post(f"/api/polls/{main}/hide-counts", json={"hidden": True})
        else:
            sent = console.post(
                f"/admin/polls/{main}/show",
                data={"csrf": csrf},
                headers={"Accept": "application/json"},
            )
        await stats.timed("admin" if hidden else "console", sent)
        if time.monotonic() >= next_round and stats.end - time.monotonic() > 60:
            round_ = finale_round(api, show, stats, len(rounds) + 1)
            rounds.append(asyncio.create_task(guarded("round", round_, stats)))
            next_round += POLL_EVERY
    await asyncio.gather(*rounds)


async def idea_writer(http: httpx.AsyncClient, year: int, rate: float, office: bool,
                      stats: Stats, stop: asyncio.Event) -> None:  # fmt: skip
    """People at the public form one after another: new drafts and submissions, and edits
    through earlier private links. They come from many addresses (forwarded by loopback,
    which the server trusts as its proxy), or all from one `office` address that meets
    the form's per-address limit; a 429 makes the writer wait as long as it is told."""
    links: list[str] = []
    saves = 0
    while not stop.is_set():
        began, saves = time.monotonic(), saves + 1
        address = "203.0.113.7" if office else f"198.51.100.{random.randrange(1, 255)}"
        headers = {"X-Forwarded-For": address}
        form = idea_form(
            title=f"Idé {saves}",
            need=f"Behov, versjon {saves}.",
            action=random.choice(("draft", "draft", "submit")),
        )
        path = random.choice(links) if links else ""
        if len(links) < 5 or random.random() < NEW_IDEA_SHARE:
            path = f"/ideer/{year}/ny"
            await stats.timed("idea form", http.get(path, headers=headers), tolerated=(429,))
        sent = await stats.timed(
            "idea save", http.post(path, data=form, headers=headers), ok=(303,), tolerated=(429,)
        )
        if sent is not None and sent.status_code == 429:
            await pause(stop, float(sent.headers.get("retry-after", "5")))
        elif sent is not None:
            stats.now.ideas += 1
            location = sent.headers["location"]
            if path not in links:
                links = [*links[-49:], location.split("?")[0]]
            await stats.timed("idea page", http.get(location, headers=headers), tolerated=(429,))
        await pause(stop, began + 1 / rate - time.monotonic())


def print_row(stats: Stats, index: int) -> None:
    minute = stats.minutes[index]
    length = min(60.0, stats.samples[-1][0] - 60 * index) if stats.samples else 60.0
    _, rss, fds = stats.samples[-1] if stats.samples else (0, float("nan"), 0)
    votes_per_second = minute.votes / max(length, 1)
    counts = (minute.ideas, minute.connects, minute.conflicts, minute.limited, minute.errors)
    latency, load = f"{p99(minute.latencies):.0f}", f"{os.getloadavg()[0]:.1f}"
    row = (index + 1, f"{rss:.1f}", fds, stats.streams, f"{votes_per_second:.1f}", *counts, latency)
    print(ROW.format(*row, f"{minute.lag_ms:.0f}", load), flush=True)


async def server_streams(http: httpx.AsyncClient | None) -> str:
    """Open streams as the server's /metrics counts them: more than the screens connected
    would mean stream handlers that never ended. "-" without metrics, or with several
    workers (a scrape reaches one of them)."""
    if http is None:
        return "-"
    with contextlib.suppress(httpx.HTTPError):
        page = await http.get("/metrics")
        found = re.findall(r"^live_stream_subscribers\{.*\} ([\d.]+)$", page.text, re.MULTILINE)
        if page.status_code == 200 and found:
            return str(round(sum(float(number) for number in found)))
    return "-"


async def watch(leader: int, http: httpx.AsyncClient | None, stats: Stats,
                stop: asyncio.Event) -> None:  # fmt: skip
    """Every 10 s the server's RSS, open files and streams; each minute's row as it ends."""
    print(ROW.format(*COLUMNS), flush=True)
    tick, rows = stats.start, 0
    while not stop.is_set():
        tick += 10
        await pause(stop, tick - time.monotonic())
        stats.samples.append((time.monotonic() - stats.start, *sample(leader)))
        stats.streams = f"{await server_streams(http)}/{stats.screens_open}"
        if stats.samples[-1][0] >= 60 * (rows + 1) - 1:
            print_row(stats, rows)
            rows += 1
    if stats.samples[-1][0] > 60 * rows + 5:  # a minute cut short
        print_row(stats, rows)


async def lateness(stats: Stats, stop: asyncio.Event) -> None:
    """How late this process's timers fire: when high, latencies include our own delay."""
    while not stop.is_set():
        began = time.monotonic()
        await asyncio.sleep(0.1)
        late = (time.monotonic() - began - 0.1) * 1000
        stats.now.lag_ms = max(stats.now.lag_ms, late)


def form_field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]* value="([^"]*)"', html) or re.search(
        rf'id="{name}-field" value="([^"]*)"', html
    )
    assert found, f"no {name} field on the page"
    return found.group(1)


async def setting_up(
    server: ServerProcess, api: httpx.AsyncClient, organiser: httpx.AsyncClient
) -> tuple[dict[str, Any], int, str]:
    """The main poll (open), the organiser logged in, and an edition taking ideas."""
    body = {"title": "Finalen", "finalists": [{"name": n} for n in "ABCDE"]}
    main = (await api.post("/api/polls", json=body)).raise_for_status().json()
    (await api.post(f"/api/polls/{main['id']}/open")).raise_for_status()
    page = (await organiser.get("/admin/login")).text
    login = {
        "email": "org@example.no",
        "password": "a long password",
        "csrf": form_field(page, "csrf"),
    }
    assert (await organiser.post("/admin/login", data=login)).status_code == 303, "login failed"
    oslo = datetime.now(ZoneInfo("Europe/Oslo"))
    form = (await organiser.get("/admin/contest/new")).text
    deadlines = ("submission_deadline", "nomination_deadline", "jury_deadline", "finale_at")
    edition = {
        "csrf": form_field(form, "csrf"),
        "version": form_field(form, "version"),
        "year": str(oslo.year + 1),
        "title": "Idékonkurransen (soak)",
        "finalists": "5",
        **{
            name: (oslo + timedelta(days=7 * (n + 1))).strftime("%Y-%m-%dT%H:%M")
            for n, name in enumerate(deadlines)
        },
    }
    saved = await organiser.post("/admin/contest/new", data=edition)
    assert saved.status_code == 303, f"edition not saved: {saved.status_code} {saved.text[:500]}"
    console = (await organiser.get(f"/admin/polls/{main['id']}")).raise_for_status()
    return main, oslo.year + 1, form_field(console.text, "csrf")


def report(stats: Stats, show: Show, ballots: int, log_errors: list[str]) -> int:
    minutes = list(stats.minutes.values())
    total = {
        name: sum(getattr(m, name) for m in minutes)
        for name in ("requests", "votes", "ideas", "connects", "conflicts", "limited")
    }
    seconds = stats.samples[-1][0]
    warm = [s for s in stats.samples if s[0] >= 120] or stats.samples
    times, rss = [s[0] for s in warm], [s[1] for s in warm]
    slope = statistics.linear_regression(times, rss).slope * 600 if len(warm) > 1 else 0.0
    first_votes = show.first_votes[show.main["code"]]
    print(f"\ntotals over {seconds / 60:.1f} min:")
    print(
        f"  requests {total['requests']}, votes {total['votes']} "
        f"({total['votes'] / seconds:.1f}/s), expected 409 {total['conflicts']}, "
        f"429 {total['limited']}, idea saves {total['ideas']}, "
        f"screen connections {total['connects']}"
    )
    late = max(stats.closed_after, default=float("nan"))
    print(
        f"  finale rounds closed by the server {len(stats.closed_after)} "
        f"(at most {late:.2f} s after the countdown's end)"
    )
    print(f"  main poll: {ballots} ballots stored, {first_votes} first votes acknowledged")
    for kind, values in sorted(stats.by_kind.items()):
        print(
            f"  {kind:<12} {len(values):>7} requests, p50 {statistics.median(values):7.1f} ms, "
            f"p99 {p99(values):7.1f} ms"
        )
    print(
        f"  RSS {warm[0][1]:.1f} MB at {warm[0][0] / 60:.1f} min -> {rss[-1]:.1f} MB at the end: "
        f"{rss[-1] - warm[0][1]:+.1f} MB; trend {slope:+.2f} MB per 10 min; "
        f"max {max(s[1] for s in stats.samples):.1f} MB"
    )
    fds = [s[2] for s in warm]
    print(
        f"  open files {fds[0]} at {warm[0][0] / 60:.1f} min, at most {max(fds)}, "
        f"{fds[-1]} as the load stopped"
    )
    if ballots < first_votes:
        stats.error("check", f"{first_votes - ballots} acknowledged first votes are missing")
    for line in log_errors:
        stats.error("server log", line)
    errors = sum(stats.errors.values())
    print(f"  errors {errors}")
    for what, count in stats.errors.most_common(15):
        print(f"    {count:>6} x {what}")
    return 1 if errors else 0


async def soak(server: ServerProcess, token: str, args: argparse.Namespace) -> int:
    stats, stop = Stats(args.soak * 60), asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    # Idle connections are let go before the server's 5 s keep-alive ends, else a request
    # can meet a connection the server is closing at that moment (a client-side race).
    options: dict[str, Any] = {"base_url": server.url, "timeout": 30,
                               "limits": httpx.Limits(keepalive_expiry=2)}  # fmt: skip
    crowd = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=2)
    async with contextlib.AsyncExitStack() as clients:
        bearer = {"Authorization": f"Bearer {token}"}
        api = await clients.enter_async_context(httpx.AsyncClient(headers=bearer, **options))
        organiser = await clients.enter_async_context(httpx.AsyncClient(**options))
        voters = await clients.enter_async_context(
            cookieless_client(**{**options, "limits": crowd})
        )
        public = await clients.enter_async_context(cookieless_client(**options))
        main, year, csrf = await setting_up(server, api, organiser)
        show = Show(main)
        session = "; ".join(f"{name}={value}" for name, value in organiser.cookies.items())
        writers = max(1, round(args.ideas_per_second))
        assert server.process is not None
        load = [
            paced(
                "voter", args.votes_per_second, 64, lambda: voter(voters, show, stats), stats, stop
            ),
            host(api, organiser, csrf, show, stats, stop),
            *(
                # the second writer, if there is one, is an office behind one address
                idea_writer(public, year, args.ideas_per_second / writers, n == 1, stats, stop)
                for n in range(writers)
            ),
            *(screen(server, show, stats, stop) for _ in range(args.screens - 2)),
            *(screen(server, show, stats, stop, session) for _ in range(2)),
            watch(server.process.pid, api if args.workers == 1 else None, stats, stop),
            lateness(stats, stop),
        ]
        running = asyncio.gather(*load)
        await pause(stop, args.soak * 60)
        stop.set()
        await running
        result = (await api.get(f"/api/polls/{main['id']}/results")).raise_for_status().json()
    log = server.log_path.read_text(errors="replace").splitlines()
    log_errors = [line for line in log if re.search(r"Traceback|\bERROR\b|\"error\"", line)]
    return report(stats, show, result["ballots"], log_errors)


def run_soak(args: argparse.Namespace) -> int:
    """Start a server on loopback, soak it for `args.soak` minutes, print the table and the
    totals; 1 on any error. Uses the bench's options (`--store-url`, `--workers`, rates)."""
    work = Path(tempfile.mkdtemp(prefix="live-soak-"))
    server = ServerProcess(work / "var", store_url=args.store_url, workers=args.workers)
    server.start()
    failed = 1  # until the soak says otherwise
    try:
        print(
            f"live soak: {args.soak:g} min, store={args.store_url or 'sqlite (default)'}, "
            f"{args.workers} worker(s), {args.votes_per_second:g} votes/s, {args.screens} "
            f"screens, {args.ideas_per_second:g} idea saves/s, {os.cpu_count()} cores "
            f"(load average {os.getloadavg()[0]:.1f} at the start)",
            flush=True,
        )
        failed = asyncio.run(soak(server, server.organiser_token(), args))
        return failed
    finally:
        if failed:
            print(
                "\nthe server's log ends:\n" + server.log_path.read_text(errors="replace")[-4000:]
            )
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
