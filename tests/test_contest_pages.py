"""The contest's pages over HTTP: who may see what, CSRF, imports, criteria, invitations
and their mail."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from starlette.applications import Starlette

from live.config import Settings
from live.contest.editions import OSLO
from live.server import create_app
from live.store.models import Role
from tests.conftest import BASE_URL, log_in, make_user, services_of
from tests.support.redis_server import free_port

pytestmark = pytest.mark.asyncio

YEAR = 2032


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


@contextlib.asynccontextmanager
async def login(app: Starlette, role: Role) -> AsyncIterator[httpx.AsyncClient]:
    email = f"{role.value}@ks.no"
    await make_user(app, email, role)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        answer = await log_in(http, email)
        assert answer.status_code == 303
        yield http


@pytest_asyncio.fixture
async def organiser(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with login(app, Role.ORGANISER) as http:
        yield await _with_edition(http)


async def _with_edition(http: httpx.AsyncClient) -> httpx.AsyncClient:
    page = (await http.get("/admin/contest/new")).text
    now = datetime.now(OSLO)
    moments = {
        name: (now + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")
        for name, days in (
            ("submission_deadline", 1),
            ("nomination_deadline", 2),
            ("jury_deadline", 3),
            ("finale_at", 4),
        )
    }
    made = await http.post(
        "/admin/contest/new",
        data={
            "csrf": csrf_of(page),
            "year": str(YEAR),
            "title": "Test",
            "finalists": "5",
            **moments,
        },
    )
    assert made.status_code == 303, made.text
    return http


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        (Role.JURY, f"/admin/contest/{YEAR}/ideas", 403),
        (Role.HOST, f"/admin/contest/{YEAR}/ideas", 403),
        (Role.COORDINATOR, "/admin/people", 403),
        (Role.COORDINATOR, "/admin/audit", 403),
        (Role.COORDINATOR, f"/admin/contest/{YEAR}/export/ideas.csv", 403),
        (Role.COORDINATOR, f"/admin/contest/{YEAR}/ranking", 403),
        (Role.COORDINATOR, f"/admin/contest/{YEAR}/jury", 403),
        (Role.JURY, "/admin/polls/new", 403),
        (Role.JURY, f"/admin/contest/{YEAR}/criteria", 403),
        (Role.JURY, f"/admin/contest/{YEAR}/jury", 200),
        (Role.COORDINATOR, f"/admin/contest/{YEAR}/ideas", 200),
        (Role.JURY, f"/admin/contest/{YEAR}/compare?idea=1&idea=2", 403),
        (Role.HOST, f"/admin/contest/{YEAR}/compare?idea=1&idea=2", 403),
        (Role.COORDINATOR, f"/admin/contest/{YEAR}/ideas?status=withdrawn", 200),
    ],
)
async def test_each_role_sees_only_its_own_pages(
    app: Starlette, organiser: httpx.AsyncClient, role: Role, path: str, status: int
) -> None:
    async with login(app, role) as http:
        answer = await http.get(path)
        assert answer.status_code == status, answer.text
        if status == 403:
            assert "Kontoen din" in answer.text  # a Norwegian page, not a stack trace


async def test_jury_and_coordinators_land_on_the_contest(app: Starlette) -> None:
    async with login(app, Role.JURY) as http:
        answer = await http.get("/admin")
        assert answer.status_code == 303 and answer.headers["location"] == "/admin/contest"


async def test_without_login_the_contest_asks_for_it(client: httpx.AsyncClient) -> None:
    answer = await client.get(f"/admin/contest/{YEAR}/ideas")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/admin/login")


@pytest.mark.parametrize(
    "path",
    [
        f"/admin/contest/{YEAR}/edit",
        "/admin/people",
        f"/admin/contest/{YEAR}/criteria",
        "/admin/organisations",
        f"/admin/contest/{YEAR}/finalists/select",
        f"/admin/contest/{YEAR}/ideas/1/reroute",
        f"/admin/contest/{YEAR}/finalist-page",
    ],
)
async def test_every_contest_form_needs_its_csrf_token(
    organiser: httpx.AsyncClient, path: str
) -> None:
    answer = await organiser.post(path, data={"csrf": "forged", "title": "x"})
    assert answer.status_code == 403


async def test_an_unknown_year_or_idea_is_a_clear_404(organiser: httpx.AsyncClient) -> None:
    assert (await organiser.get("/admin/contest/1999")).status_code == 404
    assert (await organiser.get(f"/admin/contest/{YEAR}/ideas/999")).status_code == 404
    assert (await organiser.get("/ideer/lenke/forged")).status_code == 404
    missing = await organiser.get("/ideer/2040/ny")
    assert missing.status_code == 404 and "2040" in missing.text


async def test_deadlines_out_of_order_are_refused_with_the_field(
    organiser: httpx.AsyncClient,
) -> None:
    page = (await organiser.get(f"/admin/contest/{YEAR}/edit")).text
    answer = await organiser.post(
        f"/admin/contest/{YEAR}/edit",
        data={
            "csrf": csrf_of(page),
            "version": "1",
            "title": "Test",
            "finalists": "5",
            "submission_deadline": "2032-03-26T23:59",
            "nomination_deadline": "2032-03-01T12:00",
            "jury_deadline": "2032-04-10T12:00",
            "finale_at": "2032-04-28T09:00",
        },
    )
    assert answer.status_code == 400
    assert 'href="#f-nomination_deadline"' in answer.text
    good = {
        "csrf": csrf_of(page),
        "version": "1",
        "title": "Test",
        "finalists": "5",
        "submission_deadline": "2032-03-26T23:59",
        "nomination_deadline": "2032-04-01T12:00",
        "jury_deadline": "2032-04-10T12:00",
        "finale_at": "2032-04-28T09:00",
    }
    assert (await organiser.post(f"/admin/contest/{YEAR}/edit", data=good)).status_code == 303
    stale = await organiser.post(f"/admin/contest/{YEAR}/edit", data=good)  # version 1 again
    assert stale.status_code == 409 and 'role="alert"' in stale.text


async def test_organisers_edit_the_criteria_until_the_jury_starts(
    organiser: httpx.AsyncClient,
) -> None:
    path = f"/admin/contest/{YEAR}/criteria"
    page = (await organiser.get(path)).text
    assert page.count('name="id_') >= 7
    bad = await organiser.post(
        path,
        data={
            "csrf": csrf_of(page),
            "version": "1",
            "id_1": "a",
            "text_1": "A",
            "weight_1": "1",
            "scale_min_1": "5",
            "scale_max_1": "1",
        },
    )
    assert bad.status_code == 400 and "Rad 1" in bad.text
    good = await organiser.post(
        path,
        data={
            "csrf": csrf_of(page),
            "version": "1",
            "id_1": "need",
            "text_1": "Behov",
            "weight_1": "2,5",
            "scale_min_1": "0",
            "scale_max_1": "10",
            "id_2": "reuse",
            "text_2": "Gjenbruk",
            "weight_2": "1",
            "scale_min_2": "1",
            "scale_max_2": "5",
        },
    )
    assert good.status_code == 303
    saved = (await organiser.get(path)).text
    assert 'value="2,5"' in saved and 'value="Gjenbruk"' in saved  # a decimal comma
    assert 'name="id_1" value="need"' in saved and 'value="reuse"' in saved
    assert 'type="hidden" name="id_1"' in saved and 'aria-label="Rad 1: id"' not in saved


async def test_a_directory_import_routes_new_ideas_and_bad_lines_are_named(
    app: Starlette, organiser: httpx.AsyncClient
) -> None:
    page = (await organiser.get("/admin/organisations")).text
    assert "356" in page
    bad = "municipality_number,name\n1103,Stavanger\n"
    answer = await organiser.post(
        "/admin/organisations",
        data={"csrf": csrf_of(page)},
        files={"municipalities": ("k.csv", bad, "text/csv")},
    )
    assert answer.status_code == 400 and "county_number" in answer.text
    networks = (
        "network_id,name,kind,county_numbers\n"
        "vest,Digi Vest,regional,11;46\nkollegiet,Kollegiet,college,\n"
    )
    answer = await organiser.post(
        "/admin/organisations",
        data={"csrf": csrf_of(page)},
        files={
            "networks": ("n.csv", networks, "text/csv"),
            "municipalities": (
                "k.csv",
                "municipality_number,name,all_official_names,"
                "county_number,county_name,network_id,sami_administrative_area"
                "\n1103,Stavanger,,11,Rogaland,vest,no\n",
                "text/csv",
            ),
        },
    )
    assert answer.status_code == 200 and "Digi Vest" in answer.text, answer.text
    contest = services_of(app).contest
    directory = await contest.directory()
    assert list(directory.municipalities) == ["1103"]
    assert directory.municipalities["1103"].network_id == "vest"
    audit = await services_of(app).store.list_audit()
    assert [e.action for e in audit].count("directory.import") == 1


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def inbox() -> Any:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


async def test_an_invitation_is_mailed_when_smtp_is_set_and_works_once(
    make_settings: Callable[..., Settings], inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    app = create_app(
        make_settings(LIVE_SMTP_URL=f"smtp://127.0.0.1:{port}", LIVE_MAIL_FROM="ide@ks.no")
    )
    async with app.router.lifespan_context(app):
        async with login(app, Role.ORGANISER) as org:
            page = (await org.get("/admin/people")).text
            answer = await org.post(
                "/admin/people",
                data={"csrf": csrf_of(page), "email": "ny@kommune.no", "role": "jury"},
            )
            assert answer.status_code == 200 and 'id="invitation-link"' in answer.text
            for _ in range(50):
                if handler.messages:
                    break
                await asyncio.sleep(0.02)
            [mail] = handler.messages
            assert mail["To"] == "ny@kommune.no" and mail["From"] == "ide@ks.no"
            body = mail.get_payload(decode=True)
            assert isinstance(body, bytes)
            link = re.search(r"http://testserver(/invitasjon/\S+)", body.decode())
            assert link, body
            again = await org.post(
                "/admin/people",
                data={"csrf": csrf_of(page), "email": "ny@kommune.no", "role": "host"},
            )
            assert again.status_code == 409  # invited already, with another role
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL
        ) as person:
            short = await person.post(
                link.group(1), data={"password": "kort", "password_again": "kort"}
            )
            assert short.status_code == 400
            ok = await person.post(
                link.group(1),
                data={"password": "et langt passord", "password_again": "et langt passord"},
            )
            assert ok.status_code == 303
            assert (await person.get("/admin/contest")).status_code == 200
            assert (await person.get(link.group(1))).status_code == 410


async def test_a_forged_or_expired_invitation_is_refused(app: Starlette) -> None:
    links = services_of(app).contest.links
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        assert (await http.get("/invitasjon/forged")).status_code == 404
        unknown = links.invitation("no-such-invitation")
        assert (await http.get(f"/invitasjon/{unknown}")).status_code == 404


async def test_a_second_invitation_cannot_reset_a_password_once_one_was_used(
    app: Starlette,
) -> None:
    async with login(app, Role.ORGANISER) as org:
        links = []
        for _ in range(2):
            page = (await org.get("/admin/people")).text
            answer = await org.post(
                "/admin/people", data={"csrf": csrf_of(page), "email": "to@ks.no", "role": "jury"}
            )
            found = re.search(
                r'id="invitation-link"[^>]*value="http://testserver([^"]+)"', answer.text
            )
            assert found, answer.text
            links.append(found.group(1))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as person:
        passwords = {"password": "et langt passord", "password_again": "et langt passord"}
        assert (await person.post(links[0], data=passwords)).status_code == 303
        assert (await person.get(links[1])).status_code == 410
        assert (await person.post(links[1], data=passwords)).status_code == 410


@pytest.mark.parametrize(
    ("language", "text"),
    [("nb", "Få barn"), ("nn", "Alvorleg sjukt barn"), ("en", "Starting and running a business")],
)
async def test_the_call_s_options_are_in_the_reader_s_language(
    organiser: httpx.AsyncClient, language: str, text: str
) -> None:
    page = await organiser.get(f"/ideer/{YEAR}/ny?lang={language}")
    assert page.status_code == 200 and text in page.text
