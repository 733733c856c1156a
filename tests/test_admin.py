"""Organiser and host pages: login, CSRF on every form, running a finale by hand."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from live.store.models import Role
from tests.conftest import BASE_URL, log_in, make_user

pytestmark = pytest.mark.asyncio


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


@contextlib.asynccontextmanager
async def logged_in(
    app: Starlette, role: Role = Role.ORGANISER
) -> AsyncIterator[httpx.AsyncClient]:
    email = f"{role.value}@example.no"
    await make_user(app, email, role)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        answer = await log_in(http, email, next="/admin")
        assert answer.status_code == 303 and answer.headers["location"] == "/admin"
        assert "httponly" in answer.headers["set-cookie"].lower()
        yield http


def poll_form(csrf: str, **extra: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "title": "Finalen 2026",
        "method": "single",
        "winners": "3",
        "name_1": "Alfa",
        "pitch_1": "A pitch",
        "owner_1": "Bergen kommune",
        "name_2": "Bravo",
        "name_3": "Charlie",
        **extra,
    }


async def test_pages_need_a_login(client: httpx.AsyncClient) -> None:
    answer = await client.get("/admin")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/admin/login")
    login = await client.get("/admin/login")
    assert login.status_code == 200 and 'autocomplete="current-password"' in login.text


async def test_a_wrong_password_is_refused_clearly(
    client: httpx.AsyncClient, app: Starlette
) -> None:
    await make_user(app, "org@example.no", Role.ORGANISER)
    for email, password in (("org@example.no", "wrong password"), ("who@example.no", "x")):
        answer = await log_in(client, email, password)
        assert answer.status_code == 401 and 'role="alert"' in answer.text
        assert "live_session" not in answer.headers.get("set-cookie", "")


async def test_an_organiser_runs_a_finale_through_the_pages(app: Starlette) -> None:
    async with logged_in(app) as http:
        form_page = await http.get("/admin/polls/new")
        csrf = csrf_of(form_page.text)
        created = await http.post("/admin/polls/new", data=poll_form(csrf))
        assert created.status_code == 303
        detail_url = created.headers["location"]
        detail = await http.get(detail_url)
        assert "Finalen 2026" in detail.text and "Åpne avstemningen" in detail.text
        for action in ("open", "hide", "show"):
            answer = await http.post(f"{detail_url}/{action}", data={"csrf": csrf})
            assert answer.status_code == 303, (action, answer.text[:500])
        # Closing takes a second step: without it, the answer is the confirmation page.
        asked = await http.post(f"{detail_url}/close", data={"csrf": csrf})
        assert asked.headers["location"].endswith("?confirm=close")
        confirm_page = await http.get(asked.headers["location"])
        assert 'name="asked_at"' in confirm_page.text
        asked_at = int(re.search(r'name="asked_at" value="(\d+)"', confirm_page.text)[1])
        closed_answer = await http.post(
            f"{detail_url}/close",
            data={"csrf": csrf, "confirm": "yes", "asked_at": str(asked_at - 1500)},
        )
        assert closed_answer.status_code == 303
        closed = await http.get(detail_url)
        assert "Låst resultat" in closed.text
        # No ballots: all three tie for first, so the reveal waits for a recorded rule.
        blocked = await http.post(f"{detail_url}/reveal", data={"csrf": csrf, "place": "3"})
        assert blocked.status_code == 409 and 'role="alert"' in blocked.text
        ids = re.findall(r'name="order" value="(\d+)"', closed.text)[:3]
        lots = await http.post(
            f"{detail_url}/tie", data={"csrf": csrf, "rule": "lots", "order": ids}
        )
        assert lots.status_code == 303
        resolved = await http.get(detail_url)
        assert "startverdi" in resolved.text.lower() or "seed" in resolved.text.lower()
        for place in ("3", "2", "1"):
            answer = await http.post(f"{detail_url}/reveal", data={"csrf": csrf, "place": place})
            assert answer.status_code == 303


async def test_every_form_needs_its_csrf_token(app: Starlette) -> None:
    async with logged_in(app) as http:
        csrf = csrf_of((await http.get("/admin/polls/new")).text)
        created = await http.post("/admin/polls/new", data=poll_form(csrf))
        detail_url = created.headers["location"]
        for path, data in (
            ("/admin/polls/new", poll_form("forged")),
            (f"{detail_url}/open", {"csrf": "forged"}),
            (f"{detail_url}/open", {}),
            (f"{detail_url}/edit", poll_form("")),
            ("/admin/logout", {}),
        ):
            answer = await http.post(path, data=data)
            assert answer.status_code == 403, path
        detail = await http.get(detail_url)
        assert "Åpne avstemningen" in detail.text  # still a draft: nothing happened


async def test_a_bad_poll_form_keeps_what_was_typed(app: Starlette) -> None:
    async with logged_in(app) as http:
        csrf = csrf_of((await http.get("/admin/polls/new")).text)
        answer = await http.post(
            "/admin/polls/new", data={"csrf": csrf, "title": "Kept title", "name_1": "Only"}
        )
        assert answer.status_code == 400 and 'role="alert"' in answer.text
        assert 'value="Kept title"' in answer.text and 'value="Only"' in answer.text


async def test_editing_works_only_on_drafts(app: Starlette) -> None:
    async with logged_in(app) as http:
        csrf = csrf_of((await http.get("/admin/polls/new")).text)
        detail_url = (await http.post("/admin/polls/new", data=poll_form(csrf))).headers["location"]
        edited = await http.post(f"{detail_url}/edit", data=poll_form(csrf, title="Renamed"))
        assert edited.status_code == 303 and "Renamed" in (await http.get(detail_url)).text
        await http.post(f"{detail_url}/open", data={"csrf": csrf})
        refused = await http.post(f"{detail_url}/edit", data=poll_form(csrf, title="Again"))
        assert refused.status_code == 409


async def test_a_host_runs_the_show_but_cannot_set_it_up(app: Starlette) -> None:
    async with logged_in(app, Role.ORGANISER) as organiser:
        csrf = csrf_of((await organiser.get("/admin/polls/new")).text)
        detail_url = (await organiser.post("/admin/polls/new", data=poll_form(csrf))).headers[
            "location"
        ]
    async with logged_in(app, Role.HOST) as host:
        assert (await host.get("/admin/polls/new")).status_code == 403
        page = await host.get(detail_url)
        csrf = csrf_of(page.text)
        assert (await host.post(f"{detail_url}/open", data={"csrf": csrf})).status_code == 303
        refused = await host.post("/admin/polls/new", data=poll_form(csrf))
        assert refused.status_code == 403


async def test_logout_ends_the_session(app: Starlette) -> None:
    async with logged_in(app) as http:
        csrf = csrf_of((await http.get("/admin")).text)
        answer = await http.post("/admin/logout", data={"csrf": csrf})
        assert answer.status_code == 303
        assert (await http.get("/admin")).status_code == 303


async def test_finalists_can_come_from_an_uploaded_file(app: Starlette) -> None:
    async with logged_in(app) as http:
        csrf = csrf_of((await http.get("/admin/polls/new")).text)
        form = {"csrf": csrf, "title": "Fra fil", "method": "single", "winners": "3"}
        bad = b"navn;beskrivelse\nAlfa;ok\n;mangler navn\nAlfa;igjen\n"
        refused = await http.post(
            "/admin/polls/new", data=form, files={"finalists_file": ("f.csv", bad, "text/csv")}
        )
        assert refused.status_code == 400
        assert (
            "Rad 2: navnet mangler." in refused.text
            and "Rad 3: Alfa står to ganger." in refused.text
        )
        assert 'value="Fra fil"' in refused.text
        good = b"navn;beskrivelse;ideeier\nAlfa;Rask;Bergen\nBravo;;\nCharlie;;\n"
        created = await http.post(
            "/admin/polls/new", data=form, files={"finalists_file": ("f.csv", good, "text/csv")}
        )
        assert created.status_code == 303
        page = await http.get(created.headers["location"])
        assert all(name in page.text for name in ("Alfa", "Bravo", "Charlie"))


async def test_the_login_form_carries_its_own_csrf_token(app: Starlette) -> None:
    await make_user(app, "org@example.no", Role.ORGANISER)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        blind = await http.post(
            "/admin/login", data={"email": "org@example.no", "password": "a long password"}
        )
        assert blind.status_code == 403 and "live_session" not in blind.headers.get(
            "set-cookie", ""
        )
        page = await http.get("/admin/login")
        cookie = page.headers["set-cookie"].lower()
        assert "samesite=strict" in cookie and "httponly" in cookie
        forged = await http.post(
            "/admin/login",
            data={"email": "org@example.no", "password": "a long password", "csrf": "forged"},
        )
        assert forged.status_code == 403 and 'role="alert"' in forged.text
        assert (await log_in(http, "org@example.no")).status_code == 303
