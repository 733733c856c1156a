"""Sessions and credentials: sliding expiry with a cap, a lost session that brings the host
back to the page, credentials that a new password or a revocation cuts off, the API tokens
page and command, the Host names answered, and HSTS with Secure cookies behind https."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from live.config import Settings
from live.server import create_app
from live.store.models import Role
from live.tokens import digest
from live.web import auth, security
from tests.conftest import BASE_URL, api_headers, log_in, make_user, services_of
from tests.support.process import ServerProcess

ORGANISER = "org@example.no"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


@pytest_asyncio.fixture
async def organiser_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    await make_user(app, ORGANISER, Role.ORGANISER)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        assert (await log_in(http, ORGANISER)).status_code == 303
        yield http


def session_digest(http: httpx.AsyncClient) -> str:
    return digest(http.cookies[auth.SESSION_COOKIE])


# --- sliding expiry ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_use_moves_the_end_of_a_session_on(
    app: Starlette, organiser_client: httpx.AsyncClient
) -> None:
    store = services_of(app).store
    key = session_digest(organiser_client)
    # As if the host had been idle for almost the whole 12 hours.
    await store.touch_session(key, time.time() + 60)
    assert (await organiser_client.get("/admin")).status_code == 200
    session = await store.get_session(key)
    assert session is not None
    assert session.expires_at >= time.time() + auth.SESSION_IDLE_SECONDS - 60


@pytest.mark.asyncio
async def test_use_writes_at_most_once_every_few_minutes(
    app: Starlette, organiser_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = services_of(app).store
    touches: list[float] = []
    touch = store.touch_session

    async def counted(token_digest: str, expires_at: float) -> None:
        touches.append(expires_at)
        await touch(token_digest, expires_at)

    monkeypatch.setattr(store, "touch_session", counted)
    for _ in range(20):
        assert (await organiser_client.get("/admin")).status_code == 200
    assert touches == []  # fresh from the login: nothing to move yet
    await touch(session_digest(organiser_client), time.time() + 60)
    for _ in range(20):
        assert (await organiser_client.get("/admin")).status_code == 200
    assert len(touches) == 1


@pytest.mark.asyncio
async def test_no_session_outlives_its_cap(
    app: Starlette, organiser_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = services_of(app).store
    key = session_digest(organiser_client)
    created = (await store.get_session(key)).created_at  # type: ignore[union-attr]
    monkeypatch.setattr(auth, "SESSION_MAX_SECONDS", 3600)
    await store.touch_session(key, time.time() + 60)
    assert (await organiser_client.get("/admin")).status_code == 200
    session = await store.get_session(key)
    assert session is not None and session.expires_at == pytest.approx(created + 3600)


@pytest.mark.asyncio
async def test_the_session_cookie_lasts_as_long_as_a_session_may(
    app: Starlette,
) -> None:
    await make_user(app, ORGANISER, Role.ORGANISER)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        answer = await log_in(http, ORGANISER)
    assert f"max-age={auth.SESSION_MAX_SECONDS}" in answer.headers["set-cookie"].lower()


# --- a lost session brings the host back ---------------------------------------------------


async def _poll_for(http: httpx.AsyncClient) -> str:
    page = await http.get("/admin/polls/new")
    body = {
        "csrf": csrf_of(page.text),
        "title": "Finalen",
        "method": "single",
        "winners": "1",
        "name_1": "Alfa",
        "name_2": "Bravo",
    }
    made = await http.post("/admin/polls/new", data=body)
    assert made.status_code == 303, made.text
    return made.headers["location"]


@pytest.mark.asyncio
@pytest.mark.parametrize("with_referer", [True, False])
async def test_an_expired_session_s_click_comes_back_to_the_console_after_login(
    app: Starlette, organiser_client: httpx.AsyncClient, with_referer: bool
) -> None:
    console = await _poll_for(organiser_client)
    form = await organiser_client.get(console)
    csrf = csrf_of(form.text)
    store = services_of(app).store
    await store.delete_session(session_digest(organiser_client))  # it ended meanwhile

    headers = {"Referer": f"{BASE_URL}{console}?confirm=close"} if with_referer else {}
    click = await organiser_client.post(f"{console}/open", data={"csrf": csrf}, headers=headers)
    assert click.status_code == 303
    back_to = f"{console}?confirm=close" if with_referer else console
    assert httpx.URL(click.headers["location"]).params["next"] == back_to
    login_page = await organiser_client.get(click.headers["location"])
    assert 'id="login-expired"' in login_page.text  # says the click was not carried out
    assert f'name="next" value="{back_to}"' in login_page.text

    again = await log_in(organiser_client, ORGANISER, next=back_to)
    assert again.status_code == 303 and again.headers["location"] == back_to
    landed = await organiser_client.get(again.headers["location"])
    assert landed.status_code == 200  # the console, not a 405
    poll = (await store.list_polls())[0]
    assert poll.status.value == "draft"  # the lost click was not replayed


@pytest.mark.asyncio
async def test_a_next_that_only_takes_forms_lands_on_the_page_above(
    app: Starlette, organiser_client: httpx.AsyncClient
) -> None:
    console = await _poll_for(organiser_client)
    await make_user(app, "host@example.no", Role.HOST)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        answer = await log_in(http, "host@example.no", next=f"{console}/close")
        assert answer.headers["location"] == console
        for target in ("//evil.example/x", "https://evil.example/", "/no/such/page"):
            answer = await log_in(http, "host@example.no", next=target)
            assert answer.headers["location"] == "/admin", target


# --- credentials that can be cut off ---------------------------------------------------------


@pytest.mark.asyncio
async def test_a_new_password_ends_the_old_session_and_the_old_api_token(
    app: Starlette, organiser_client: httpx.AsyncClient, settings: Settings
) -> None:
    from live.cli import _set_password

    headers = await api_headers(app, "script@example.no")
    script_user = await services_of(app).store.get_user("script@example.no")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as api:
        assert (await api.get("/api/polls", headers=headers)).status_code == 200
        assert (await organiser_client.get("/admin")).status_code == 200
        await _set_password(settings, ORGANISER, "a new long password")
        # The CLI wrote to the same file: the organiser is logged out...
        assert (await organiser_client.get("/admin")).status_code == 303
        assert (await api.get("/api/polls", headers=headers)).status_code == 200
        # ...and a new password for the script's account cuts off its token.
        await _set_password(settings, script_user.email, "another long password")
        assert (await api.get("/api/polls", headers=headers)).status_code == 401


@pytest.mark.asyncio
async def test_organisers_make_see_and_revoke_api_tokens_on_their_page(
    app: Starlette, organiser_client: httpx.AsyncClient
) -> None:
    page = await organiser_client.get("/admin/tokens")
    assert page.status_code == 200 and 'href="/admin/tokens"' in page.text
    bad = await organiser_client.post(
        "/admin/tokens", data={"csrf": csrf_of(page.text), "name": "x", "expires_days": "0"}
    )
    assert bad.status_code == 400 and "f-expires_days" in bad.text
    made = await organiser_client.post(
        "/admin/tokens",
        data={"csrf": csrf_of(page.text), "name": "Resultatskript", "expires_days": "30"},
    )
    assert made.status_code == 200
    found = re.search(r'id="new-token" class="copy-field" value="([^"]+)"', made.text)
    assert found and "Resultatskript" in made.text
    token = found.group(1)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as api:
        assert (await api.get("/api/polls", headers=headers)).status_code == 200
        listed = await organiser_client.get("/admin/tokens")
        assert token not in listed.text  # shown once only
        [made_token] = await services_of(app).store.list_api_tokens()
        assert made_token.name == "Resultatskript" and made_token.expires_at is not None
        assert made_token.expires_at == pytest.approx(time.time() + 30 * 24 * 3600, abs=60)
        revoke = await organiser_client.post(
            f"/admin/tokens/{made_token.id}/revoke", data={"csrf": csrf_of(listed.text)}
        )
        assert revoke.status_code == 303
        assert (await organiser_client.get(revoke.headers["location"])).status_code == 200
        assert (await api.get("/api/polls", headers=headers)).status_code == 401
    audit = [(e.actor, e.action) for e in await services_of(app).store.list_audit()]
    assert (ORGANISER, "api_token.create") in audit and (ORGANISER, "api_token.revoke") in audit


@pytest.mark.asyncio
@pytest.mark.parametrize("role", [Role.HOST, Role.JURY, Role.COORDINATOR])
async def test_only_organisers_see_the_tokens_page(app: Starlette, role: Role) -> None:
    await make_user(app, f"{role.value}@example.no", role)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        await log_in(http, f"{role.value}@example.no")
        assert (await http.get("/admin/tokens")).status_code == 403


def test_the_command_names_lists_ends_and_revokes_tokens(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "var")
    server.live("create-user", ORGANISER, LIVE_PASSWORD="a long password")
    server.start()
    try:
        named = server.live("api-token", ORGANISER, "--name", "resultater", "--expires-days", "2")
        plain = server.live("api-token", ORGANISER)
        listing = server.live("api-token", ORGANISER, "--list").splitlines()
        assert len(listing) == 2 and "resultater" in listing[0] and "ends never" in listing[1]
        token_id = listing[0].split("\t")[0]
        for token in (named, plain):
            answer = httpx.get(
                f"{server.url}/api/polls", headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 200
        assert "revoked" in server.live("api-token", ORGANISER, "--revoke", token_id)
        gone = httpx.get(f"{server.url}/api/polls", headers={"Authorization": f"Bearer {named}"})
        assert gone.status_code == 401
        with pytest.raises(subprocess.CalledProcessError) as refused:
            server.live("api-token", ORGANISER, "--expires-days", "-3")
        assert "--expires-days" in refused.value.stderr
        server.live("set-password", ORGANISER, LIVE_PASSWORD="a brand new password")
        cut = httpx.get(f"{server.url}/api/polls", headers={"Authorization": f"Bearer {plain}"})
        assert cut.status_code == 401
        assert server.live("api-token", ORGANISER, "--list") == ""
    finally:
        server.stop()


# --- the Host names answered ---------------------------------------------------------------


@pytest_asyncio.fixture
async def strict_app(make_settings: Callable[..., Settings]) -> AsyncIterator[Starlette]:
    """The production default: no LIVE_PUBLIC_URL, no LIVE_ALLOWED_HOSTS."""
    application = create_app(make_settings(LIVE_ALLOWED_HOSTS=""))
    async with application.router.lifespan_context(application):
        yield application


async def _open_poll_code(app: Starlette) -> str:
    from live.store.models import FinalistDraft, PollDraft
    from live.tally import Method

    store = services_of(app).store
    draft = PollDraft("T", Method.SINGLE, 1, (FinalistDraft("A"), FinalistDraft("B")))
    return (await store.create_poll(draft, actor="test")).code


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/s/{code}", "/s/{code}/qr.svg", "/api/openapi.json", "/"])
async def test_a_foreign_host_header_gets_400_and_no_link_is_built_from_it(
    strict_app: Starlette, path: str
) -> None:
    code = await _open_poll_code(strict_app)
    transport = httpx.ASGITransport(app=strict_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://evil.example") as http:
        answer = await http.get(path.format(code=code), headers={"Accept-Language": "en"})
    assert answer.status_code == 400
    assert "evil.example" not in answer.headers.get("location", "")
    assert "does not answer to the address evil.example" in answer.text
    assert "public" not in answer.headers.get("cache-control", "")


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8000", "localhost", "[::1]:8000", socket.gethostname().lower()]
)
@pytest.mark.asyncio
async def test_this_machine_s_own_names_are_answered_by_default(
    strict_app: Starlette, host: str
) -> None:
    transport = httpx.ASGITransport(app=strict_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        assert (await http.get("/", headers={"Host": host})).status_code == 200


def test_an_address_counts_as_our_own_only_when_this_machine_has_it() -> None:
    assert security._is_own_address("127.0.0.1")
    assert not security._is_own_address("203.0.113.7")  # TEST-NET-3: nobody's
    assert not security._is_own_address("0.0.0.0")
    assert not security._is_own_address("evil.example")


@pytest.mark.asyncio
async def test_with_a_public_url_its_host_and_this_machine_s_are_answered(
    make_settings: Callable[..., Settings],
) -> None:
    application = create_app(
        make_settings(LIVE_ALLOWED_HOSTS="", LIVE_PUBLIC_URL="https://live.example.no")
    )
    async with application.router.lifespan_context(application):
        code = await _open_poll_code(application)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(
            transport=transport, base_url="https://live.example.no"
        ) as http:
            stage = await http.get(f"/s/{code}")
            assert stage.status_code == 200 and f"https://live.example.no/p/{code}" in stage.text
            assert (
                await http.get("/healthz", headers={"Host": "127.0.0.1:8000"})
            ).status_code == 200
            forged = await http.get(f"/s/{code}", headers={"Host": "evil.example"})
            assert forged.status_code == 400


def test_a_websocket_with_a_foreign_host_is_refused(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "var")
    server.start()
    try:
        token = server.organiser_token()
        poll = httpx.post(
            f"{server.url}/api/polls",
            headers={"Authorization": f"Bearer {token}"},
            json={"title": "T", "finalists": [{"name": "A"}, {"name": "B"}]},
        ).json()
        path = f"/p/{poll['code']}/stream"
        assert _websocket_handshake(server.port, path, f"127.0.0.1:{server.port}") == 101
        assert _websocket_handshake(server.port, path, "evil.example") == 400
    finally:
        server.stop()


def _websocket_handshake(port: int, path: str, host: str) -> int:
    """The status line's code of a websocket handshake sent with this Host header."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        status_line = conn.makefile("rb").readline()
    return int(status_line.split()[1])


def test_a_bad_allowed_hosts_value_stops_start_up_naming_it(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "LIVE_DATA_DIR": str(tmp_path),
        "LIVE_ALLOWED_HOSTS": "https://live.ks.no",
    }
    done = subprocess.run(
        [sys.executable, "-m", "live", "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "LIVE_ALLOWED_HOSTS" in done.stderr and "https://live.ks.no" in done.stderr


# --- behind https -----------------------------------------------------------------------------


async def _cookies_and_headers(
    app: Starlette, base_url: str = BASE_URL
) -> tuple[list[str], dict[str, Any]]:
    await make_user(app, ORGANISER, Role.ORGANISER)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
        home = await http.get("/")
        language = await http.get("/lang", params={"lang": "nn", "next": "/"})
        page = await http.get("/admin/login")
        login = await log_in(http, ORGANISER)
    cookies = [
        value
        for answer in (language, page, login)
        for value in answer.headers.get_list("set-cookie")
    ]
    return cookies, dict(home.headers)


@pytest.mark.asyncio
async def test_behind_https_every_cookie_is_secure_and_hsts_is_sent(
    make_settings: Callable[..., Settings],
) -> None:
    application = create_app(make_settings(LIVE_PUBLIC_URL="https://live.example.no"))
    async with application.router.lifespan_context(application):
        # The proxy in front speaks https; the app may see plain http behind it.
        cookies, headers = await _cookies_and_headers(application, "https://testserver")
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            behind_proxy = await http.get("/lang", params={"lang": "en"})
    assert behind_proxy.headers["strict-transport-security"] == "max-age=31536000"
    assert "; secure" in behind_proxy.headers["set-cookie"].lower()
    names = {cookie.split("=")[0] for cookie in cookies}
    assert {"live_lang", "live_login_csrf", "live_session"} <= names
    for cookie in cookies:
        assert "; secure" in cookie.lower(), cookie
    assert headers["strict-transport-security"] == "max-age=31536000"


@pytest.mark.asyncio
async def test_over_plain_http_there_is_no_hsts_and_cookies_stay_usable(app: Starlette) -> None:
    cookies, headers = await _cookies_and_headers(app)
    assert "strict-transport-security" not in headers
    assert cookies and all("secure" not in cookie.lower() for cookie in cookies)
