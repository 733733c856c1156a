"""Abuse limits that spare a hall: logins slowed per account (and per address only as a
generous ceiling), the slow password check bounded per process, the public idea form and
invitation links limited per address, votes never limited per address; the login limit
shared by two real processes on one Redis."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from live.config import Settings
from live.contest.editions import OSLO
from live.store.models import Role
from live.web import auth, limits
from live.web.limits import Limit
from tests.conftest import BASE_URL, api_headers, log_in, make_user, open_poll, services_of
from tests.support.contest import idea_form
from tests.support.process import ServerProcess

PASSWORD = "a long password"
ENGLISH = {"Accept-Language": "en"}


def client(app: Starlette, address: str = "10.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=ENGLISH)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def attempt(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    """One login as a script would send it: the login page's CSRF pair, then the form."""
    if "live_login_csrf" not in http.cookies:
        await http.get("/admin/login")
    data = {"email": email, "password": password, "csrf": http.cookies["live_login_csrf"]}
    return await http.post("/admin/login", data=data)


class CountingHasher:
    """Stands in for argon2's hasher: counts checks and how many ran at the same time.
    With `seconds`, a check only sleeps that long and fails (no 64 MiB each)."""

    def __init__(self, real: Any, seconds: float = 0.0) -> None:
        self.real, self.seconds = real, seconds
        self.calls = self.running = self.most = 0
        self.lock = threading.Lock()

    def hash(self, password: str) -> str:
        return str(self.real.hash(password))

    def verify(self, password_hash: str, password: str) -> bool:
        with self.lock:
            self.calls += 1
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            if self.seconds:
                time.sleep(self.seconds)
                return False
            return bool(self.real.verify(password_hash, password))
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher(auth._hasher)
    monkeypatch.setattr(auth, "_hasher", counting)
    return counting


def small(monkeypatch: pytest.MonkeyPatch, name: str, limit: int) -> None:
    current: Limit = getattr(limits, name)
    monkeypatch.setattr(limits, name, Limit(current.name, limit, 900, current.message))


# --- logins ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_an_account_is_slowed_after_repeated_failures_with_a_clear_429(
    app: Starlette, settings: Settings, hasher: CountingHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    small(monkeypatch, "LOGIN_PER_ACCOUNT", 3)
    await make_user(app, "host@example.no", Role.HOST)
    await make_user(app, "org@example.no", Role.ORGANISER)
    async with client(app) as http:
        for _ in range(3):
            assert (await attempt(http, "host@example.no", "wrong password")).status_code == 401
        checks = hasher.calls
        locked = await attempt(http, "HOST@example.no", PASSWORD)  # the right one, any case
        assert locked.status_code == 429
        assert 1 <= int(locked.headers["Retry-After"]) <= 900
        assert "Too many login attempts for this account. Wait 15 min" in locked.text
        assert 'value="HOST@example.no"' in locked.text  # the form keeps what was typed
        assert hasher.calls == checks  # no slow password check while locked
        # Only that account: another one logs in from the same address.
        assert (await attempt(http, "org@example.no", PASSWORD)).status_code == 303
    # A new password from the command line lifts the lock.
    from live.cli import _set_password

    await _set_password(settings, "host@example.no", "a new long password")
    async with client(app) as http:
        assert (await attempt(http, "host@example.no", "a new long password")).status_code == 303


@pytest.mark.asyncio
async def test_a_login_that_succeeds_forgets_the_failures_before_it(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    small(monkeypatch, "LOGIN_PER_ACCOUNT", 3)
    await make_user(app, "host@example.no", Role.HOST)
    async with client(app) as http:
        for _ in range(2):
            assert (await attempt(http, "host@example.no", "typo password")).status_code == 401
        assert (await attempt(http, "host@example.no", PASSWORD)).status_code == 303
        for _ in range(3):
            assert (await attempt(http, "host@example.no", "typo password")).status_code == 401


@pytest.mark.asyncio
async def test_many_attempts_at_once_cannot_pass_the_account_limit(
    app: Starlette, hasher: CountingHasher
) -> None:
    await make_user(app, "host@example.no", Role.HOST)
    async with client(app) as http:
        await http.get("/admin/login")
        answers = await asyncio.gather(
            *(attempt(http, "host@example.no", f"guess {n:04d} long") for n in range(25))
        )
    statuses = sorted(answer.status_code for answer in answers)
    limit = limits.LOGIN_PER_ACCOUNT.limit
    assert statuses == [401] * limit + [429] * (25 - limit)
    assert hasher.calls == limit


@pytest.mark.asyncio
async def test_the_address_ceiling_is_generous_and_per_address(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert limits.LOGIN_PER_ADDRESS.limit >= 10 * limits.LOGIN_PER_ACCOUNT.limit
    small(monkeypatch, "LOGIN_PER_ADDRESS", 5)
    await make_user(app, "org@example.no", Role.ORGANISER)
    async with client(app, "10.1.1.1") as http:
        for n in range(5):
            assert (
                await attempt(http, f"person{n}@example.no", "wrong password")
            ).status_code == 401
        ceiling = await attempt(http, "org@example.no", PASSWORD)
        assert ceiling.status_code == 429 and "from your network" in ceiling.text
    async with client(app, "10.1.1.2") as other:
        assert (await attempt(other, "org@example.no", PASSWORD)).status_code == 303


@pytest.mark.parametrize(
    ("address", "counted_as"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:10.0.0.7", "10.0.0.7"),
        ("10.0.0.7", "10.0.0.7"),
    ],
)
def test_an_ipv6_caller_counts_by_its_64_network(address: str, counted_as: str) -> None:
    from starlette.requests import Request

    request = Request({"type": "http", "client": (address, 1), "headers": []})
    assert limits.address_of(request) == counted_as


@pytest.mark.asyncio
async def test_password_checks_are_bounded_per_process(
    app: Starlette, hasher: CountingHasher
) -> None:
    """Twenty logins at once took twenty threads of 64 MiB each; now two run, a short
    queue waits, and the rest are told at once to try again."""
    hasher.seconds = 0.2
    async with client(app) as http:
        await http.get("/admin/login")
        answers = await asyncio.gather(
            *(attempt(http, f"person{n}@example.no", "wrong password") for n in range(40))
        )
    assert hasher.most <= 2, f"{hasher.most} password checks ran at once"
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {401, 503}
    assert statuses.count(401) >= auth.ARGON2_SLOTS + auth.ARGON2_QUEUE
    busy = [answer for answer in answers if answer.status_code == 503]
    assert busy and all(answer.headers["Retry-After"] == "2" for answer in busy)
    assert all("Many people are logging in" in answer.text for answer in busy)


# --- the public idea form, invitation links, votes ----------------------------------------


@pytest_asyncio.fixture
async def edition(app: Starlette) -> AsyncIterator[int]:
    """An edition taking ideas now; its year."""
    from datetime import datetime, timedelta

    year = 2034
    await make_user(app, "org@example.no", Role.ORGANISER)
    async with client(app, "10.9.9.9") as http:
        await log_in(http, "org@example.no")
        page = (await http.get("/admin/contest/new")).text
        now = datetime.now(OSLO)
        moments = {
            key: (now + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")
            for key, days in (
                ("submission_deadline", 1),
                ("nomination_deadline", 2),
                ("jury_deadline", 3),
                ("finale_at", 4),
            )
        }
        version = re.search(r'id="version-field" value="(\d+)"', page)
        form = {
            "csrf": csrf_of(page),
            "year": str(year),
            "title": "Test",
            "finalists": "5",
            **({"version": version.group(1)} if version else {}),
            **moments,
        }
        made = await http.post("/admin/contest/new", data=form)
        assert made.status_code == 303, made.text
    yield year


@pytest.mark.asyncio
async def test_idea_saves_are_limited_per_address_and_the_text_is_kept(
    app: Starlette, edition: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert limits.IDEA_SAVES_PER_ADDRESS.limit >= 100
    small(monkeypatch, "IDEA_SAVES_PER_ADDRESS", 2)
    async with client(app, "10.2.2.2") as http:
        for n in range(2):
            saved = await http.post(f"/ideer/{edition}/ny", data=idea_form(f"Idé nummer {n}"))
            assert saved.status_code == 303
        refused = await http.post(f"/ideer/{edition}/ny", data=idea_form("Idé som venter"))
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 900
        assert "Too many ideas saved from your network" in refused.text
        assert 'value="Idé som venter"' in refused.text
    async with client(app, "10.2.2.3") as other:
        saved = await other.post(f"/ideer/{edition}/ny", data=idea_form("Fra et annet nett"))
        assert saved.status_code == 303
    titles = {idea.answers["title"] for idea in await services_of(app).contest.ideas(edition)}
    assert "Idé som venter" not in titles and len(titles) == 3


@pytest.mark.asyncio
async def test_invitation_links_are_limited_per_address(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    small(monkeypatch, "INVITATIONS_PER_ADDRESS", 2)
    links = services_of(app).contest.links
    async with client(app, "10.3.3.3") as http:
        for _ in range(2):
            assert (await http.get(f"/invitasjon/{links.invitation('guess')}")).status_code == 404
        refused = await http.get(f"/invitasjon/{links.invitation('guess')}")
        assert refused.status_code == 429 and "Retry-After" in refused.headers
    async with client(app, "10.3.3.4") as other:
        assert (await other.get(f"/invitasjon/{links.invitation('guess')}")).status_code == 404


@pytest.mark.asyncio
async def test_votes_are_never_limited_per_address(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hall behind one NAT address: every limit at its smallest changes nothing."""
    for name in (
        "LOGIN_PER_ACCOUNT",
        "LOGIN_PER_ADDRESS",
        "IDEA_SAVES_PER_ADDRESS",
        "INVITATIONS_PER_ADDRESS",
    ):
        small(monkeypatch, name, 1)
    headers = await api_headers(app)
    async with client(app, "10.4.4.4") as http:
        poll = await open_poll(http, headers)
        path = httpx.URL(poll["ballot_url"]).path
        accepted = 0
        for _ in range(300):
            phone = (await http.get(path)).cookies["live_voter"]
            http.cookies.clear()
            answer = await http.post(
                path,
                data={"choice": str(poll["finalists"][0]["id"])},
                headers={"Accept": "application/json", "Cookie": f"live_voter={phone}"},
            )
            accepted += answer.status_code == 200
    assert accepted == 300
    assert (await services_of(app).store.snapshot(poll["id"])).ballots == 300


# --- two real processes on one Redis --------------------------------------------------------


def test_two_processes_on_redis_share_the_login_limit(tmp_path: Path, redis_url: str) -> None:
    secret = "s" * 40
    servers = [
        ServerProcess(tmp_path / f"var{n}", store_url=redis_url, LIVE_SECRET_KEY=secret)
        for n in (1, 2)
    ]
    servers[0].live("create-user", "host@example.no", "--role", "host", LIVE_PASSWORD=PASSWORD)
    for server in servers:
        server.start()
    try:
        clients = [httpx.Client(base_url=s.url, timeout=10, headers=ENGLISH) for s in servers]
        for http in clients:
            http.get("/admin/login")

        def login(http: httpx.Client, password: str) -> httpx.Response:
            data = {
                "email": "host@example.no",
                "password": password,
                "csrf": http.cookies["live_login_csrf"],
            }
            return http.post("/admin/login", data=data)

        limit = limits.LOGIN_PER_ACCOUNT.limit
        for n in range(limit):  # alternating between the two processes
            assert login(clients[n % 2], "wrong password").status_code == 401
        for http in clients:
            refused = login(http, PASSWORD)
            assert refused.status_code == 429, refused.text
            assert int(refused.headers["Retry-After"]) > 0
        for http in clients:
            http.close()
    finally:
        for server in servers:
            server.stop()
