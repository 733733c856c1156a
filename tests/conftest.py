"""Shared fixtures: settings on a fresh data dir, an app with its lifespan, HTTP clients."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from live.config import Settings, load_settings
from live.server import create_app
from live.store.models import Role
from live.tokens import digest, new_secret
from live.web.auth import hash_password
from live.web.services import Services

pytest_plugins = [
    "tests.support.redis_server",
    "tests.support.stores",
    "tests.support.process",
    "tests.support.browser",
]

BASE_URL = "http://testserver"


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: str) -> Settings:
        # httpx's ASGI transport and Starlette's test client send `Host: testserver`; the
        # production default answers only this machine's names (LIVE_ALLOWED_HOSTS).
        environ = {
            "LIVE_DATA_DIR": str(tmp_path / "var"),
            "LIVE_ALLOWED_HOSTS": "testserver",
            **overrides,
        }
        return load_settings(environ)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest_asyncio.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


def services_of(app: Starlette) -> Services:
    found: Services = app.state.services
    return found


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


async def make_user(
    app: Starlette, email: str, role: Role, password: str = "a long password"
) -> None:
    store = services_of(app).store
    await store.create_user(email, role, await hash_password(password))


async def api_headers(
    app: Starlette, email: str = "org@example.no", role: Role = Role.ORGANISER
) -> dict[str, str]:
    await make_user(app, email, role)
    store = services_of(app).store
    user = await store.get_user(email)
    token = new_secret()
    await store.create_api_token(user.id, digest(token))
    return {"Authorization": f"Bearer {token}"}


@pytest_asyncio.fixture
async def organiser(app: Starlette) -> dict[str, str]:
    return await api_headers(app)


FINALISTS = [
    {"name": "Alfa"},
    {"name": "Bravo", "pitch": "B"},
    {"name": "Charlie"},
    {"name": "Delta"},
    {"name": "Echo"},
]


async def create_poll(
    client: httpx.AsyncClient, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    body = {"title": "Finalen", "finalists": FINALISTS, **fields}
    response = await client.post("/api/polls", json=body, headers=headers)
    assert response.status_code == 201, response.text
    poll: dict[str, Any] = response.json()
    return poll


async def open_poll(
    client: httpx.AsyncClient, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    poll = await create_poll(client, headers, **fields)
    response = await client.post(f"/api/polls/{poll['id']}/open", headers=headers)
    assert response.status_code == 200, response.text
    opened: dict[str, Any] = response.json()
    return opened


def _login_data(html: str, email: str, password: str, extra: dict[str, str]) -> dict[str, str]:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the login page"
    return {"email": email, "password": password, "csrf": found.group(1), **extra}


async def log_in(
    http: httpx.AsyncClient, email: str, password: str = "a long password", **extra: str
) -> httpx.Response:
    """Log in through the form as a browser does: the page (and its CSRF cookie) first."""
    page = await http.get("/admin/login")
    return await http.post("/admin/login", data=_login_data(page.text, email, password, extra))


def log_in_sync(
    http: httpx.Client, email: str, password: str = "a long password", **extra: str
) -> httpx.Response:
    page = http.get("/admin/login")
    return http.post("/admin/login", data=_login_data(page.text, email, password, extra))


def path_of(url: str) -> str:
    return httpx.URL(url).path
