"""What an idea's sender meets: the state box and the copy button on the private page,
withdrawal, and the mails to the contact person (a real SMTP server) in nb, nn and en."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from starlette.applications import Starlette

from live.config import Settings
from live.contest.editions import OSLO, Edition, Stage
from live.contest.ideas import IdeaStatus
from live.contest.jury import default_criteria
from live.contest.notices import IdeaState, Standing, describe, state_of
from live.contest.records import RULES, Idea
from live.server import create_app
from live.store.models import Role
from live.web.auth import hash_password
from tests.conftest import BASE_URL, log_in, services_of
from tests.support.contest import idea_form
from tests.support.redis_server import free_port

YEAR = 2033
NOW = datetime(2033, 3, 1, 12, 0, tzinfo=OSLO)
EDITION = Edition(
    YEAR, "Idékonkurransen 2033", NOW + timedelta(days=1), NOW + timedelta(days=2),
    NOW + timedelta(days=3), NOW + timedelta(days=4), 2, tuple(default_criteria()),
)  # fmt: skip


def an_idea(status: IdeaStatus = IdeaStatus.SUBMITTED, network: str | None = "x") -> Idea:
    return Idea(7, YEAR, status, {"title": "T"}, "", network, "", RULES, "n", "t")


# Where an idea stands: pure ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "stage", "nominated", "finalists", "poll", "state"),
    [
        (IdeaStatus.DRAFT, Stage.SUBMISSION, False, [], None, IdeaState.DRAFT),
        (IdeaStatus.DRAFT, Stage.NOMINATION, False, [], None, IdeaState.NOT_SUBMITTED),
        (IdeaStatus.WITHDRAWN, Stage.SUBMISSION, False, [], None, IdeaState.WITHDRAWN),
        (IdeaStatus.WITHDRAWN, Stage.FINALE, False, [7], 1, IdeaState.WITHDRAWN),
        (IdeaStatus.SUBMITTED, Stage.SUBMISSION, False, [], None, IdeaState.SUBMITTED),
        (IdeaStatus.SUBMITTED, Stage.NOMINATION, False, [], None, IdeaState.ROUTED),
        (IdeaStatus.SUBMITTED, Stage.NOMINATION, True, [], None, IdeaState.NOMINATED),
        (IdeaStatus.SUBMITTED, Stage.JURY, False, [], None, IdeaState.NOT_NOMINATED),
        (IdeaStatus.SUBMITTED, Stage.JURY, True, [7], None, IdeaState.NOMINATED),  # not fixed
        (IdeaStatus.SUBMITTED, Stage.JURY, True, [7], 1, IdeaState.FINALIST),
        (IdeaStatus.SUBMITTED, Stage.FINALE, True, [8], 1, IdeaState.NOT_FINALIST),
        (IdeaStatus.SUBMITTED, Stage.FINALE, False, [8], 1, IdeaState.NOT_NOMINATED),
    ],
)
def test_the_state_follows_the_stage_and_the_records(
    status: IdeaStatus, stage: Stage, nominated: bool, finalists: list[int], poll: int | None,
    state: IdeaState,
) -> None:  # fmt: skip
    edition = EDITION if poll is None else EDITION.with_poll(poll)
    found = state_of(an_idea(status), edition, stage, nominated=nominated, finalists=finalists)
    assert found is state


def test_an_unrouted_idea_waits_for_an_organiser() -> None:
    idea = an_idea(network=None)
    found = state_of(idea, EDITION, Stage.NOMINATION, nominated=False, finalists=[])
    assert found is IdeaState.UNROUTED


def test_each_state_is_described_in_each_language_with_deadlines_in_oslo_time() -> None:
    for state in IdeaState:
        texts = {
            language: describe(Standing(state, "Digi Rogaland", True), EDITION, language)
            for language in ("nb", "nn", "en")
        }
        assert all(heading and body for heading, body in texts.values()), state
        assert len({body for _, body in texts.values()}) == 3, (state, texts)
    _, body = describe(Standing(IdeaState.SUBMITTED, "Digi Rogaland", True), EDITION, "en")
    assert "02.03.2033 12:00 (Norwegian time)" in body and "Digi Rogaland" in body


# Over HTTP, with a real mail server ----------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        found = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(found, EmailMessage)
        self.messages.append(found)
        return "250 OK"

    def take(self) -> list[EmailMessage]:
        taken, self.messages = self.messages, []
        return taken


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest_asyncio.fixture
async def mailing_app(
    make_settings: Callable[..., Settings], inbox: tuple[Inbox, int]
) -> AsyncIterator[Starlette]:
    settings = make_settings(
        LIVE_SMTP_URL=f"smtp://127.0.0.1:{inbox[1]}", LIVE_MAIL_FROM="ide@ks.no"
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        contest = services_of(app).contest
        contest.clock = lambda: NOW
        await contest.save_edition("org@ks.no", EDITION, 0)
        yield app


def body_of(mail: EmailMessage) -> str:
    part = mail.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def private_path(url: str) -> str:
    return url.split("?")[0]


async def send_idea(app: Starlette, language: str, **fields: Any) -> str:
    """Submit the form as the public does, in `language`; the private link's path."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as web:
        answer = await web.post(
            f"/ideer/{YEAR}/ny?lang={language}", data={**idea_form(**fields), "action": "submit"}
        )
        assert answer.status_code == 303, answer.text
        return private_path(answer.headers["location"])


def public(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)


RECEIPTS = {
    "nb": ("Ideen din er sendt inn: Felles chatbot", "Hei Kari Nordmann,", "Sammendrag"),
    "nn": ("Ideen din er send inn: Felles chatbot", "Hei Kari Nordmann,", "Samandrag"),
    "en": ("Your idea is submitted: Felles chatbot", "Hello Kari Nordmann,", "Summary"),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("language", ["nb", "nn", "en"])
async def test_submitting_mails_the_link_and_a_summary_in_the_senders_language(
    mailing_app: Starlette, inbox: tuple[Inbox, int], language: str
) -> None:
    path = await send_idea(mailing_app, language, title="Felles chatbot")
    [mail] = inbox[0].take()  # sent before the answer was complete
    subject, greeting, summary = RECEIPTS[language]
    assert mail["To"] == "kari.nordmann@stavanger.kommune.no" and mail["From"] == "ide@ks.no"
    assert mail["Subject"] == subject
    body = body_of(mail)
    assert greeting in body and summary in body
    assert f"{BASE_URL}{path}\n" in body  # the private link, whole, on a line of its own
    assert "Stavanger kommune" in body and "Digi Rogaland" in body  # owner, network
    assert "02.03.2033 12:00" in body  # the deadline in Norwegian time


@pytest.mark.asyncio
async def test_the_private_page_says_where_the_idea_stands_and_offers_a_copy_button(
    mailing_app: Starlette, inbox: tuple[Inbox, int]
) -> None:
    async with public(mailing_app) as web:
        nobody = await web.post(f"/ideer/{YEAR}/ny?lang=en", data={"title": "Uten adresse"})
        assert nobody.status_code == 303 and inbox[0].take() == []  # no address, no mail
        saved = await web.post(
            f"/ideer/{YEAR}/ny?lang=en",
            data={"title": "Bare en tittel", "contact_email": "kari@kommune.no"},
        )
        assert saved.status_code == 303 and "saved=1" in saved.headers["location"]
        draft = (await web.get(saved.headers["location"] + "&lang=en")).text
        assert re.search(r'role="status"[^>]*>\s*<h2[^>]*>Draft: not submitted yet</h2>', draft)
        assert "A draft needs only a title" in draft  # still true of a draft
        assert "Withdraw the idea" not in draft  # a draft is never sent
        [mail] = inbox[0].take()
        assert mail["Subject"] == "Your draft is saved: Bare en tittel"

        path = private_path(saved.headers["location"])
        done = await web.post(f"{path}?lang=en", data=idea_form("Bare en tittel") | {
            "action": "submit"})  # fmt: skip
        assert "submitted=1" in done.headers["location"]
        page = (await web.get(f"{path}?submitted=1&lang=en")).text
        assert "Submitted: the idea is received" in page
        assert "The idea is submitted. Thank you!" in page
        assert "A draft needs only a title" not in page  # the complaint
        assert "A receipt with the private link is on its way to" in page
        assert re.search(r'<button type="button"[^>]*data-copy="private-link"[^>]*hidden', page)
        assert 'aria-live="polite" data-copy-status="private-link"' in page
        assert "/static/copy.js" in page
        assert f'href="{path}/trekk"' in page

        changed = await web.post(path, data=idea_form("Bare en tittel", need="Ny tekst."))
        assert "changed=1" in changed.headers["location"]
        subjects = [m["Subject"] for m in inbox[0].take()]
        assert subjects == [  # the edit came in bokmål: the sender's language now
            "Your idea is submitted: Bare en tittel",
            "Endringene dine er lagret: Bare en tittel",
        ]


@pytest.mark.asyncio
async def test_a_sender_withdraws_in_two_steps_on_record_and_may_submit_again(
    mailing_app: Starlette, inbox: tuple[Inbox, int]
) -> None:
    path = await send_idea(mailing_app, "nn")
    inbox[0].take()
    async with public(mailing_app) as web:
        confirm = await web.get(f"{path}/trekk?lang=nn")
        assert confirm.status_code == 200
        assert f'<form method="post" action="{path}/trekk"' in confirm.text
        assert f'href="{path}/trekk"' in (await web.get(path)).text  # not withdrawn yet
        done = await web.post(f"{path}/trekk")
        assert done.status_code == 303 and done.headers["location"] == f"{path}?withdrawn=1"
        page = (await web.get(f"{path}?withdrawn=1&lang=en")).text
        assert re.search(r'role="status"[^>]*>\s*<h2[^>]*>Withdrawn</h2>', page)
        assert "Submit the idea again" in page and "Withdraw the idea" not in page
        [mail] = inbox[0].take()
        assert mail["Subject"] == "Ideen din er trekt tilbake: Felles chatbot for byggesak"  # nn
        again = await web.post(f"{path}/trekk")
        assert again.status_code == 409  # withdrawn already

        contest = services_of(mailing_app).contest
        [idea] = await contest.ideas(YEAR)
        assert idea.status is IdeaStatus.WITHDRAWN and idea.withdrawn_at is not None
        assert idea.language == "nn"
        entries = [e for e in await contest.store.list_audit() if e.action == "idea.withdraw"]
        assert len(entries) == 1 and entries[0].subject == f"idea:{idea.id}"
        assert entries[0].after["status"] == "withdrawn"

        resubmitted = await web.post(path, data={**idea_form(), "action": "submit"})
        assert "submitted=1" in resubmitted.headers["location"]
        idea = await contest.idea(idea.id)
        assert idea.status is IdeaStatus.SUBMITTED and idea.withdrawn_at is None


@pytest.mark.asyncio
async def test_withdrawal_is_refused_for_drafts_and_after_the_deadline(
    mailing_app: Starlette, inbox: tuple[Inbox, int]
) -> None:
    async with public(mailing_app) as web:
        saved = await web.post(f"/ideer/{YEAR}/ny", data={"title": "Utkast"})
        draft = private_path(saved.headers["location"])
        assert (await web.get(f"{draft}/trekk")).status_code == 409
        assert (await web.post(f"{draft}/trekk")).status_code == 409
        path = await send_idea(mailing_app, "nb")
        services_of(mailing_app).contest.clock = lambda: NOW + timedelta(days=1, minutes=1)
        late = await web.post(f"{path}/trekk")
        assert late.status_code == 409 and "fristen" in late.text.lower()
        assert (await web.get("/ideer/lenke/forged/trekk")).status_code == 404


@pytest.mark.asyncio
async def test_withdrawn_ideas_stay_out_of_the_coordinators_list(
    mailing_app: Starlette, inbox: tuple[Inbox, int]
) -> None:
    kept = await send_idea(mailing_app, "nb", title="Blir med")
    gone = await send_idea(mailing_app, "nb", title="Ideen som gikk")
    async with public(mailing_app) as web:
        assert (await web.post(f"{gone}/trekk")).status_code == 303
    assert kept
    services_of(mailing_app).contest.clock = lambda: NOW + timedelta(days=1, minutes=1)
    coordinator = await _coordinator(mailing_app)
    listing = (await coordinator.get(f"/admin/contest/{YEAR}/ideas")).text
    assert "Blir med" in listing and "Ideen som gikk" not in listing
    await coordinator.aclose()


async def _coordinator(app: Starlette, email: str = "digi@rogaland.no") -> httpx.AsyncClient:
    store = services_of(app).store
    await store.create_user(
        email, Role.COORDINATOR, await hash_password("a long password"), network_id="digi-rogaland"
    )
    web = public(app)
    assert (await log_in(web, email)).status_code == 303
    return web


async def _organiser(app: Starlette) -> httpx.AsyncClient:
    store = services_of(app).store
    await store.create_user("org@ks.no", Role.ORGANISER, await hash_password("a long password"))
    web = public(app)
    assert (await log_in(web, "org@ks.no")).status_code == 303
    return web


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


async def _act(web: httpx.AsyncClient, idea_id: int, action: str, **data: str) -> int:
    page = f"/admin/contest/{YEAR}/ideas/{idea_id}"
    html = (await web.get(page)).text
    answer = await web.post(f"{page}/{action}", data={"csrf": csrf_of(html), **data})
    return answer.status_code


@pytest.mark.asyncio
async def test_the_sender_hears_of_routing_and_nomination_in_their_own_language(
    mailing_app: Starlette, inbox: tuple[Inbox, int]
) -> None:
    path = await send_idea(mailing_app, "en", owner="m:0301", title="Oslo idea")  # unrouted
    [receipt] = inbox[0].take()
    assert "An organiser will choose which network receives it." in body_of(receipt)
    contest = services_of(mailing_app).contest
    [idea] = await contest.ideas(YEAR)
    organiser = await _organiser(mailing_app)
    moved = await _act(
        organiser, idea.id, "reroute", network_id="digi-rogaland", note="Nær Rogaland"
    )
    assert moved == 303
    [news] = inbox[0].take()  # in English, though the organiser reads bokmål
    assert news["Subject"] == "News about your idea: Oslo idea"
    assert "It goes to Digi Rogaland." in body_of(news) and f"{BASE_URL}{path}" in body_of(news)

    contest.clock = lambda: NOW + timedelta(days=1, minutes=1)  # nominations open
    coordinator = await _coordinator(mailing_app)
    assert await _act(coordinator, idea.id, "nominate", rationale="Stor nytte.") == 303
    [nominated] = inbox[0].take()
    assert "Nominated by Digi Rogaland" in body_of(nominated)
    async with public(mailing_app) as web:
        page = (await web.get(f"{path}?lang=en")).text
        assert re.search(r"<h2[^>]*>Nominated by Digi Rogaland</h2>", page)
    assert await _act(coordinator, idea.id, "nominate", rationale="Igjen.") == 409
    assert inbox[0].take() == []  # a refused action tells nobody anything new
    for web in (organiser, coordinator):
        await web.aclose()


@pytest.mark.asyncio
async def test_a_change_is_mailed_once_and_a_failing_mail_server_fails_nothing(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(LIVE_SMTP_URL=f"smtp://127.0.0.1:{free_port()}")  # nobody there
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        contest = services_of(app).contest
        contest.clock = lambda: NOW
        await contest.save_edition("org@ks.no", EDITION, 0)
        with caplog.at_level(logging.WARNING, logger="live.mail"):
            path = await send_idea(app, "nb")
        assert "failed" in caplog.text
        [idea] = await contest.ideas(YEAR)
        organiser = await _organiser(app)
        assert (
            await _act(organiser, idea.id, "reroute", network_id="kollegiet", note="Flytt") == 303
        )
        async with public(app) as web:
            assert (await web.get(path)).status_code == 200
        await organiser.aclose()
        told = await contest.store.get_record("idea-notice", str(idea.id))
        assert told is not None and told.data["told"] == "routed:kollegiet"  # tried, on record


@pytest.mark.asyncio
async def test_news_is_told_once_however_often_it_is_asked(
    mailing_app: Starlette, inbox: tuple[Inbox, int]
) -> None:
    from live.contest import notices

    await send_idea(mailing_app, "nb")
    inbox[0].take()
    found = services_of(mailing_app)
    [idea] = await found.contest.ideas(YEAR)
    found.contest.clock = lambda: NOW + timedelta(days=2, minutes=1)  # not nominated
    told = await asyncio.gather(*(
        notices.tell(found.settings, found.contest, idea.id, lambda i: "https://x/lenke")
        for _ in range(5)
    ))  # fmt: skip
    assert sorted(told) == [False] * 4 + [True]
    [mail] = inbox[0].take()
    assert "Ikke nominert" in body_of(mail)
    assert await notices.tell_edition(found.settings, found.contest, YEAR, lambda i: "") == 0


# The copy button, in a real browser ------------------------------------------------------


@pytest.mark.browser
def test_the_copy_button_copies_the_link_by_keyboard_and_says_so(server: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    from tests.conftest import log_in_sync

    server.live("create-user", "org@ks.no", "--role", "organiser", LIVE_PASSWORD="a long password")
    now = datetime.now(OSLO).replace(second=0, microsecond=0)
    with httpx.Client(base_url=server.url, timeout=10) as web:
        assert log_in_sync(web, "org@ks.no", "a long password").status_code == 303
        form = web.get("/admin/contest/new").text
        dates = ("submission_deadline", "nomination_deadline", "jury_deadline", "finale_at")
        made = web.post("/admin/contest/new", data={
            "csrf": csrf_of(form), "year": str(now.year + 1), "title": "Idékonkurransen",
            "finalists": "5", **{name: (now + timedelta(days=10 * (i + 1))).strftime(
                "%Y-%m-%dT%H:%M") for i, name in enumerate(dates)},
        })  # fmt: skip
        assert made.status_code == 303, made.text
        sent = web.post(f"/ideer/{now.year + 1}/ny", data={**idea_form(), "action": "submit"})
        assert sent.status_code == 303
    link = sent.headers["location"].split("?")[0]
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        page.goto(f"{server.url}{link}?lang=en")
        button = page.get_by_role("button", name="Copy the link")
        expect(button).to_be_visible()  # shown only when the script runs
        page.locator("#private-link").focus()
        page.keyboard.press("Tab")
        expect(button).to_be_focused()
        page.keyboard.press("Enter")
        status = page.locator("[data-copy-status=private-link]")
        expect(status).to_have_text("Copied")
        assert status.get_attribute("aria-live") == "polite"
        assert page.evaluate("navigator.clipboard.readText()") == f"{server.url}{link}"
        expect(button).to_be_focused()  # the keyboard user stays where they were
    finally:
        context.close()
