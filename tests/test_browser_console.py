"""The host console in real headless Chromium against `live serve`: an organiser's laptop
and a host's phone that follow each other, a double tap that opens voting and does nothing
more, the two-step close with and without JavaScript, a projector logged in as an
organiser that still gets no counts, and a whole show walked through with screenshots.

Run with `-s` to see the figures (how fast one console follows another, how fast the stage
follows a tap). Screenshots land in `test-artifacts/show-NN-<what>.png`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize, expect

from tests.support.browser import PHONE, WAIT_MS, watch_errors
from tests.support.process import ServerProcess, api

pytestmark = pytest.mark.browser

PASSWORD = "a long password"
ORGANISER = "org@example.no"
HOST = "host@example.no"
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
FULL_HD: ViewportSize = {"width": 1920, "height": 1080}
FOLLOW_LIMIT_MS = 3_000  # generous: a console follows another within moments
FINALISTS = [
    {"name": "Digital byggesøknad", "owner": "Stavanger kommune"},
    {"name": "Felles innbyggerdialog", "owner": "Digi Vestland"},
    {"name": "Smart vannmåler", "owner": "Bergen kommune"},
    {"name": "Åpne data for skoleskyss og tilrettelagt transport i distriktene"},
    {"name": "Ærlig budsjett", "owner": "Hamar kommune"},
]
VOTES = [0, 0, 0, 1, 1, 2]  # places 1, 2 and 3 clear: no tie blocks the reveal
SETTLED_JS = "() => document.getAnimations().every(a => a.playState !== 'running')"
DONE = re.compile(r"(^|\s)done(\s|$)")
# An answer the test asks for on purpose (a refused confirm); Chromium logs its status.
REFUSED = "the server responded with a status of 409"

# Date.now() in the page when `selector` first matches (and has `wanted` as a class): the
# moment a screen showed a change, without the poll interval of `expect` in the figure.
MARK_JS = """([name, selector, wanted]) => {
    window.__marks = window.__marks || {};
    const check = () => {
        const found = document.querySelector(selector);
        if (!(name in window.__marks) && found && (!wanted || found.classList.contains(wanted))) {
            window.__marks[name] = Date.now();
        }
    };
    new MutationObserver(check).observe(document, {subtree: true, attributes: true,
                                                    childList: true, characterData: true});
    check();
}"""
CLICK_JS = """() => document.addEventListener("click", () => {
    window.__marks = window.__marks || {};
    window.__marks.clicked = Date.now();
}, true)"""
BOXES_JS = """() => Array.from(document.querySelectorAll("#console button")).map((b, i) => {
    const r = b.getBoundingClientRect();
    return [i, b.dataset.intent, Math.round(r.left + scrollX), Math.round(r.top + scrollY),
            Math.round(r.width), Math.round(r.height)];
})"""
# Every place a count could show on the stage: numbers, units, the bars' lengths.
STAGE_COUNTS_JS = """() => {
    const found = [];
    document.querySelectorAll(".bar-count, .bar-unit, .score").forEach((el) => {
        if (/\\d/.test(el.textContent)) found.push(el.className + ": " + el.textContent);
    });
    document.querySelectorAll(".bar-fill").forEach((el) => {
        if (parseFloat(el.style.width || "0") > 0) found.push("bar-fill " + el.style.width);
    });
    return found;
}"""
CLOSE_NOW_JS = """async () => {
    const form = document.getElementById("close-form");
    const answer = await fetch(form.action, {method: "POST", credentials: "same-origin",
        body: new URLSearchParams(new FormData(form)), headers: {"Accept": "application/json"}});
    return [answer.status, await answer.json()];
}"""


# --- the show's people and polls ------------------------------------------------------------


@dataclass
class Show:
    server: ServerProcess
    token: str
    browser: Browser
    contexts: list[BrowserContext] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)

    def draft(self, **fields: Any) -> dict[str, Any]:
        body = {"title": "Finalen i idékonkurransen 2025", "finalists": FINALISTS, **fields}
        poll: dict[str, Any] = api(self.server, self.token, "POST", "/api/polls", json=body)
        return poll

    def act(self, poll: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
        found: dict[str, Any] = api(
            self.server, self.token, "POST", f"/api/polls/{poll['id']}/{action}", json=body
        )
        return found

    def poll(self, poll: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = api(self.server, self.token, "GET", f"/api/polls/{poll['id']}")
        return found

    def vote(self, poll: dict[str, Any], indexes: list[int]) -> None:
        """One new voter for each index: a fresh cookie jar, the ballot, then the vote."""
        for index in indexes:
            with httpx.Client(base_url=self.server.url, timeout=10) as voter:
                assert voter.get(f"/p/{poll['code']}").status_code == 200
                choice = str(poll["finalists"][index]["id"])
                sent = voter.post(f"/p/{poll['code']}", data={"choice": choice})
                assert sent.status_code == 303, sent.text

    def context(self, who: str | None, kind: str, javascript: bool = True) -> BrowserContext:
        """A laptop, a phone or a projector, logged in through the login form as `who`."""
        phone = kind == "phone"
        viewport = {"phone": PHONE, "laptop": LAPTOP, "projector": FULL_HD}[kind]
        context = self.browser.new_context(
            viewport=viewport,
            is_mobile=phone,
            has_touch=phone,
            locale="nb-NO",
            java_script_enabled=javascript,
        )
        self.contexts.append(context)
        if who:
            page = context.new_page()
            page.goto(f"{self.server.url}/admin/login")
            page.locator("#email").fill(who)
            page.locator("#password").fill(PASSWORD)
            with page.expect_navigation(timeout=WAIT_MS):
                page.locator("main button[type=submit]").click()
            assert "/admin/login" not in page.url, f"{who} could not log in"
            page.close()
        return context

    def page(self, context: BrowserContext, path: str, name: str) -> Page:
        page = context.new_page()
        self.problems[name] = watch_errors(page)
        response = page.goto(self.server.url + path)
        assert response is not None and response.status == 200, f"{path}: {response}"
        return page

    def console(self, context: BrowserContext, poll: dict[str, Any], name: str) -> Page:
        """The console, once its stream has drawn the first snapshot."""
        feed = Feed()
        page = context.new_page()
        self.problems[name] = watch_errors(page)
        page.on("websocket", feed.listen)
        page.goto(f"{self.server.url}/admin/polls/{poll['id']}")
        feed.wait(page, lambda message: True)
        return page

    def check_problems(self) -> None:
        found = {
            name: [p for p in problems if REFUSED not in p]
            for name, problems in self.problems.items()
        }
        assert all(not problems for problems in found.values()), found


class Feed:
    """Every websocket frame a page receives, kept as text."""

    def __init__(self) -> None:
        self.frames: list[str] = []

    def listen(self, socket: Any) -> None:
        socket.on("framereceived", self._keep)

    def _keep(self, payload: str | bytes) -> None:
        self.frames.append(payload if isinstance(payload, str) else payload.decode())

    def snapshots(self) -> list[dict[str, Any]]:
        messages = [json.loads(frame) for frame in self.frames]
        return [message for message in messages if message.get("type") != "clock"]

    def wait(self, page: Page, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_MS / 1000
        while time.monotonic() < deadline:
            for message in reversed(self.snapshots()):
                if wanted(message):
                    return message
            page.wait_for_timeout(20)  # lets Playwright deliver the frames that came
        raise AssertionError(f"no such snapshot among {self.snapshots()}")


@pytest.fixture
def show(server: ServerProcess, browser: Browser) -> Iterator[Show]:
    token = server.organiser_token(ORGANISER)
    server.live("create-user", HOST, "--role", "host", LIVE_PASSWORD=PASSWORD)
    made = Show(server, token, browser)
    yield made
    for context in made.contexts:
        context.close()


# --- small helpers --------------------------------------------------------------------------


def intent(page: Page, name: str, **fields: str) -> Locator:
    """The console's button for an intent, picked by the form's hidden fields."""
    found = page.locator("#console form.intent")
    for key, value in fields.items():
        found = found.filter(has=page.locator(f'input[name="{key}"][value="{value}"]'))
    return found.locator(f'button[data-intent="{name}"]')


def reveal_button(page: Page, place: int) -> Locator:
    return page.locator(f'#console button[data-intent="reveal"][data-key="{place}"]')


def mark_when(page: Page, name: str, selector: str, wanted: str = "") -> None:
    page.evaluate(MARK_JS, [name, selector, wanted])


def marks(page: Page) -> dict[str, int]:
    found: dict[str, int] = page.evaluate("() => window.__marks || {}")
    return found


def follow_ms(actor: Page, follower: Page, name: str) -> int:
    """How long after the click on `actor` the `follower` showed the change `name`."""
    return marks(follower)[name] - marks(actor)["clicked"]


def wait_until(show: Show, poll: dict[str, Any], wanted: Callable[[dict[str, Any]], bool]) -> Any:
    deadline = time.monotonic() + WAIT_MS / 1000
    while not wanted(current := show.poll(poll)):
        assert time.monotonic() < deadline, f"the poll never got there: {current}"
        time.sleep(0.05)
    return current


def double_tap(page: Page, target: Locator, gap_ms: int = 80) -> None:
    """Two taps at the same spot, as a nervous finger makes them."""
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.touchscreen.tap(x, y)
    page.wait_for_timeout(gap_ms)
    page.touchscreen.tap(x, y)


def moved_buttons(page: Page, before: list[list[Any]]) -> list[tuple[Any, Any]]:
    """The console's buttons whose place or size differ from `before` (from BOXES_JS)."""
    after = page.evaluate(BOXES_JS)
    return [(old, new) for old, new in zip(before, after, strict=True) if old != new]


def close_through_dialog(page: Page) -> None:
    page.locator('#console button[data-intent="close-step"]').click()
    confirm = page.locator("#close-confirm")
    expect(page.locator("#close-dialog")).to_be_visible()
    expect(confirm).to_be_enabled(timeout=WAIT_MS)
    confirm.click()


# --- the tests ------------------------------------------------------------------------------


def test_two_consoles_follow_each_other_and_reveal_by_place(show: Show) -> None:
    poll = show.draft()
    laptop = show.console(show.context(ORGANISER, "laptop"), poll, "laptop")
    phone = show.console(show.context(HOST, "phone"), poll, "phone")
    for page in (laptop, phone):
        page.evaluate(CLICK_JS)
        mark_when(page, "open", "#console-status", "status-open")

    intent(laptop, "open").click()
    expect(phone.locator("#console-status")).to_have_class("status-open", timeout=WAIT_MS)
    expect(intent(phone, "open")).to_be_disabled()
    expect(intent(phone, "close-step")).to_be_enabled()
    followed, own = follow_ms(laptop, phone, "open"), follow_ms(laptop, laptop, "open")
    print(f"\nopen: the laptop showed it {own} ms after the click, the phone {followed} ms")
    assert followed < FOLLOW_LIMIT_MS

    show.vote(poll, VOTES)
    for page in (laptop, phone):
        expect(page.locator("#console-ballots")).to_have_text(str(len(VOTES)), timeout=WAIT_MS)
        mark_when(page, "third", '#console button[data-key="3"]', "done")
    close_through_dialog(laptop)
    expect(phone.locator("#console-status")).to_have_class("status-closed", timeout=WAIT_MS)
    expect(phone.locator("#close-dialog")).not_to_be_visible()

    reveal_button(laptop, 3).click()
    expect(reveal_button(phone, 3)).to_have_class(DONE, timeout=WAIT_MS)
    expect(reveal_button(phone, 3)).to_be_disabled()
    expect(reveal_button(phone, 2)).to_be_enabled()
    expect(reveal_button(phone, 1)).to_be_disabled()
    print(f"reveal place 3: the phone showed it done {follow_ms(laptop, phone, 'third')} ms after")

    reveal_button(phone, 2).tap()
    expect(reveal_button(laptop, 2)).to_have_class(DONE, timeout=WAIT_MS)
    assert wait_until(show, poll, lambda p: p["revealed"] >= 2)["revealed"] == 2
    phone.wait_for_timeout(1000)  # nothing more arrives: place 2 was asked for, not "next"
    assert show.poll(poll)["revealed"] == 2
    expect(reveal_button(phone, 1)).to_be_enabled()
    expect(phone.locator("#console-error")).to_be_hidden()
    show.check_problems()


def test_a_double_tap_opens_voting_and_nothing_more(show: Show, artifacts: Path) -> None:
    poll = show.draft()
    phone = show.console(show.context(HOST, "phone"), poll, "phone")
    before = phone.evaluate(BOXES_JS)

    double_tap(phone, intent(phone, "open"))
    status = phone.locator("#console-status")
    expect(status).to_have_class("status-open", timeout=WAIT_MS)
    phone.wait_for_timeout(1500)
    assert show.poll(poll)["status"] == "open"
    expect(phone.locator("#close-dialog")).not_to_be_visible()
    expect(phone.locator("#console-error")).to_be_hidden()
    assert not (moved := moved_buttons(phone, before)), f"buttons moved on opening: {moved}"

    # The same on "Close voting…": the dialog opens, its confirm button is not armed yet,
    # and the server too refuses a confirm that comes this soon.
    double_tap(phone, intent(phone, "close-step"))
    dialog, confirm = phone.locator("#close-dialog"), phone.locator("#close-confirm")
    expect(dialog).to_be_visible()
    expect(confirm).to_be_disabled()
    phone.screenshot(path=str(artifacts / "console-close-dialog-phone.png"))
    status_code, answer = phone.evaluate(CLOSE_NOW_JS)
    assert status_code == 409 and answer["error"]["code"] == "confirm", answer
    started = time.monotonic()
    expect(confirm).to_be_enabled(timeout=WAIT_MS)
    print(
        f"\nthe confirm button armed {(time.monotonic() - started) * 1000:.0f} ms after the refusal"
    )
    assert show.poll(poll)["status"] == "open"
    confirm.tap()
    expect(status).to_have_class("status-closed", timeout=WAIT_MS)
    expect(dialog).not_to_be_visible()
    assert show.poll(poll)["status"] == "closed"
    show.check_problems()


def test_keyboard_opens_and_only_asks_to_close(show: Show) -> None:
    poll = show.draft()
    laptop = show.console(show.context(ORGANISER, "laptop"), poll, "laptop")
    status, dialog = laptop.locator("#console-status"), laptop.locator("#close-dialog")
    laptop.keyboard.press("o")
    expect(status).to_have_class("status-open", timeout=WAIT_MS)
    assert wait_until(show, poll, lambda p: p["status"] != "draft")["status"] == "open"

    laptop.keyboard.press("c")
    expect(dialog).to_be_visible()
    expect(laptop.locator("#close-cancel")).to_be_focused()
    laptop.keyboard.press("Escape")
    expect(dialog).not_to_be_visible()
    laptop.keyboard.press("c")
    expect(dialog).to_be_visible()
    expect(laptop.locator("#close-confirm")).to_be_enabled(timeout=WAIT_MS)
    laptop.locator("#close-cancel").click()
    expect(dialog).not_to_be_visible()
    # Asked again at once: the first dialog's late "close" event must not disarm the second.
    for _ in range(3):
        laptop.keyboard.press("c")
        laptop.keyboard.press("Escape")
    laptop.keyboard.press("c")
    expect(laptop.locator("#close-confirm")).to_be_enabled(timeout=WAIT_MS)
    laptop.keyboard.press("Escape")
    expect(dialog).not_to_be_visible()
    laptop.wait_for_timeout(500)
    assert show.poll(poll)["status"] == "open"
    expect(status).to_have_class("status-open")
    show.check_problems()


def test_the_projector_logged_in_as_organiser_gets_no_counts_when_hidden(show: Show) -> None:
    poll = show.draft()
    show.act(poll, "open")
    show.vote(poll, VOTES)
    show.act(poll, "hide-counts", hidden=True)
    feed = Feed()
    stage = show.context(ORGANISER, "projector").new_page()
    show.problems["stage"] = watch_errors(stage)
    stage.on("websocket", feed.listen)
    stage.goto(f"{show.server.url}/s/{poll['code']}")

    def no_counts(moment: str) -> None:
        leaks = [frame for frame in feed.frames if "tally" in frame or "score" in frame]
        assert not leaks, f"{moment}: counts reached the stage: {leaks}"
        assert stage.evaluate(STAGE_COUNTS_JS) == [], f"{moment}: counts on the stage"

    feed.wait(stage, lambda m: m["ballots"] == len(VOTES))
    show.vote(poll, [0])
    feed.wait(stage, lambda m: m["ballots"] == len(VOTES) + 1)
    expect(stage.locator("#counter-number")).to_have_text(str(len(VOTES) + 1))
    no_counts("open, counts hidden")
    show.act(poll, "close")
    feed.wait(stage, lambda m: m["status"] == "closed")
    no_counts("closed")
    for place in (3, 2):
        show.act(poll, "reveal", place=place)
        feed.wait(stage, lambda m, n=place: m["revealed"] == 4 - n)
    expect(stage.locator("#podium li")).to_have_count(2, timeout=WAIT_MS)
    no_counts("places 3 and 2 revealed")
    show.act(poll, "reveal", place=1)
    last = feed.wait(stage, lambda m: m["reveal_complete"])
    expect(stage.locator("#podium li")).to_have_count(3, timeout=WAIT_MS)
    assert [entry["place"] for entry in last["podium"]] == [3, 2, 1]
    no_counts("every place revealed, counts hidden")
    print(f"\nthe stage got {len(feed.frames)} frames, none with a count")
    show.check_problems()


def test_without_javascript_closing_takes_a_deliberate_second_step(
    show: Show, artifacts: Path
) -> None:
    poll = show.draft()
    show.act(poll, "open")
    no_script = show.context(HOST, "phone", javascript=False)
    page = show.page(no_script, f"/admin/polls/{poll['id']}", "console")
    console_url = page.url

    # A double tap: the second tap comes as soon as the confirmation step is drawn.
    with page.expect_navigation(timeout=WAIT_MS):
        page.locator('#console button[data-intent="close-step"]').tap()
    assert page.url.endswith("?confirm=close#confirm-close"), page.url
    section = page.locator("#confirm-close")
    expect(section).to_be_visible()
    page.screenshot(path=str(artifacts / "console-confirm-nojs-phone.png"))
    with page.expect_navigation(timeout=WAIT_MS):
        section.locator("button[type=submit]").tap()
    assert "?confirm=close" in page.url, "a hasty confirm must lead back to the step"
    assert show.poll(poll)["status"] == "open"

    # A deliberate one: a moment to read the question, then the confirm.
    page.wait_for_timeout(1200)
    with page.expect_navigation(timeout=WAIT_MS):
        section.locator("button[type=submit]").tap()
    assert page.url == console_url
    assert show.poll(poll)["status"] == "closed"
    expect(page.locator("#console-status")).to_have_class("status-closed")
    expect(page.locator("#confirm-close")).to_have_count(0)
    show.check_problems()


def test_a_whole_show_walked_through(show: Show, artifacts: Path) -> None:
    """Screenshots of every screen at every moment of a show, for the manual and review."""
    poll = show.draft()
    phone = show.console(show.context(HOST, "phone"), poll, "host phone")
    laptop = show.console(show.context(ORGANISER, "laptop"), poll, "laptop")
    stage = show.page(show.context(ORGANISER, "projector"), f"/s/{poll['code']}", "stage")
    stage_feed = Feed()
    stage.on("websocket", stage_feed.listen)
    stage.reload()
    voter = show.page(show.context(None, "phone"), f"/p/{poll['code']}", "voter")
    shots = iter(range(1, 100))

    def shoot(page: Page, what: str) -> None:
        page.wait_for_function(SETTLED_JS, timeout=WAIT_MS)
        full = page is not stage
        page.screenshot(path=str(artifacts / f"show-{next(shots):02d}-{what}.png"), full_page=full)

    for page in (phone, laptop):
        page.evaluate(CLICK_JS)
    stage.evaluate(CLICK_JS)
    shoot(phone, "draft-host-phone")
    shoot(laptop, "draft-laptop")
    shoot(stage, "draft-stage")
    boxes = {page: page.evaluate(BOXES_JS) for page in (phone, laptop)}

    def nothing_moved(moment: str) -> None:
        for page, before in boxes.items():
            assert not (moved := moved_buttons(page, before)), f"{moment}: buttons moved: {moved}"

    # Open on the host's phone; votes come in; the organiser starts a 60 s countdown.
    mark_when(stage, "open", "#stage[data-status=open]")
    intent(phone, "open").tap()
    expect(stage.locator("#stage")).to_have_attribute("data-status", "open", timeout=WAIT_MS)
    print(f"\nthe stage showed voting open {follow_ms(phone, stage, 'open')} ms after the tap")
    show.vote(poll, VOTES)
    intent(laptop, "countdown", seconds="60").click()
    expect(voter.locator("#state")).to_have_attribute("data-state", "open", timeout=WAIT_MS)
    expect(voter.locator("#countdown")).to_be_visible(timeout=WAIT_MS)
    shoot(voter, "open-voter-ballot")
    # Each voter sees the finalists in an order of their own: pick the leader by name, or
    # a vote for another could tie place 2 and add the tie's buttons to the console.
    voter.locator("label.choice").filter(has_text=FINALISTS[0]["name"]).click()
    voter.locator("#ballot button[type=submit]").click()
    expect(voter.locator("#confirmation")).to_be_visible(timeout=WAIT_MS)
    shoot(voter, "open-voter-voted")
    for page in (phone, laptop):
        expect(page.locator("#console-ballots")).to_have_text(str(len(VOTES) + 1), timeout=WAIT_MS)
        expect(page.locator("#console-countdown")).to_have_text(re.compile(r"^[01]:\d\d$"))
    expect(stage.locator("#countdown")).to_be_visible(timeout=WAIT_MS)
    fits = "() => { const box = document.querySelector('.table-scroll');"
    fits += " return box.scrollWidth <= box.clientWidth; }"
    assert phone.evaluate(fits), "the running count scrolls sideways on the host's phone"
    shoot(phone, "open-host-phone")
    shoot(laptop, "open-laptop")
    shoot(stage, "open-stage")
    nothing_moved("open")

    # Close on the laptop through the dialog.
    intent(laptop, "close-step").click()
    expect(laptop.locator("#close-dialog")).to_be_visible()
    shoot(laptop, "close-dialog-laptop")
    expect(laptop.locator("#close-confirm")).to_be_enabled(timeout=WAIT_MS)
    shoot(laptop, "close-dialog-armed-laptop")
    since_closing = len(stage_feed.frames)
    laptop.locator("#close-confirm").click()
    for page in (phone, laptop):
        expect(page.locator("#console-status")).to_have_class("status-closed", timeout=WAIT_MS)
    expect(stage.locator("#stage")).to_have_attribute("data-status", "closed", timeout=WAIT_MS)
    expect(voter.locator("#state")).to_have_attribute("data-state", "closed", timeout=WAIT_MS)
    assert stage.evaluate(STAGE_COUNTS_JS) == [], "counts on the stage after closing"
    shoot(phone, "closed-host-phone")
    shoot(laptop, "closed-laptop")
    shoot(stage, "closed-stage")
    shoot(voter, "closed-voter")
    nothing_moved("closed")

    # Reveal place 3 on the phone, place 2 on the laptop, place 1 on the phone.
    for place, actor in ((3, phone), (2, laptop), (1, phone)):
        leaks = [f for f in stage_feed.frames[since_closing:] if "tally" in f or "score" in f]
        assert not leaks, f"counts on the stage before place {place} was revealed: {leaks}"
        mark_when(stage, f"place-{place}", f'#podium li[data-place="{place}"]')
        button = reveal_button(actor, place)
        button.tap() if actor is phone else button.click()
        expect(stage.locator(f'#podium li[data-place="{place}"]')).to_be_visible(timeout=WAIT_MS)
        print(
            f"the stage showed place {place} {follow_ms(actor, stage, f'place-{place}')} ms after"
        )
        for page in (phone, laptop):
            expect(reveal_button(page, place)).to_have_class(DONE, timeout=WAIT_MS)
        if place > 1:
            assert stage.evaluate(STAGE_COUNTS_JS) == [], f"counts before the last reveal ({place})"
        shoot(phone, f"place-{place}-host-phone")
        shoot(laptop, f"place-{place}-laptop")
        shoot(stage, f"place-{place}-stage")
        nothing_moved(f"place {place} revealed")
    expect(voter.locator("#thanks")).to_be_visible(timeout=WAIT_MS)
    shoot(voter, "revealed-voter")

    # The organiser puts the full result on the stage.
    intent(laptop, "results", shown="1").click()
    expect(stage.locator("#stage")).to_have_attribute("data-mode", "results", timeout=WAIT_MS)
    expect(intent(laptop, "results", shown="0")).to_be_enabled()
    shoot(laptop, "full-result-laptop")
    shoot(stage, "full-result-stage")
    nothing_moved("full")
    show.check_problems()


# --- the hall panel: a stuffer raises the alert, the organiser takes its ballots out --------

ALERT_PER_MINUTE = 5
HONEST, STUFFED = 3, 12  # one address: tokens 6 to 15 come after the alert rate, flagged


@pytest.fixture
def stuffed_show(tmp_path: Path, browser: Browser) -> Iterator[Show]:
    server = ServerProcess(tmp_path / "var", LIVE_TOKEN_ALERT_PER_MINUTE=str(ALERT_PER_MINUTE))
    server.start()
    token = server.organiser_token(ORGANISER)
    server.live("create-user", HOST, "--role", "host", LIVE_PASSWORD=PASSWORD)
    made = Show(server, token, browser)
    yield made
    for context in made.contexts:
        context.close()
    server.stop()


def stuff(server: ServerProcess, poll: dict[str, Any], index: int, number: int) -> None:
    """A cookieless script: each vote with a brand-new voter token, all from one address."""
    path = f"/p/{poll['code']}"
    choice = str(poll["finalists"][index]["id"])
    with httpx.Client(base_url=server.url, timeout=10) as script:
        script.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        for _ in range(number):
            token = script.get(path).cookies["live_voter"]
            sent = script.post(
                path,
                data={"choice": choice},
                headers={"Accept": "application/json", "Cookie": f"live_voter={token}"},
            )
            assert sent.status_code == 200, sent.text


def test_the_hall_panel_shows_a_stuffer_and_the_organiser_takes_its_ballots_out(
    stuffed_show: Show, artifacts: Path
) -> None:
    show = stuffed_show
    poll = show.draft()
    laptop = show.console(show.context(ORGANISER, "laptop"), poll, "laptop")
    phone = show.console(show.context(HOST, "phone"), poll, "host phone")
    expect(phone.locator("#expected-form")).to_have_count(0)
    expect(phone.locator('[data-hall="exclude-step"]')).to_have_count(0)

    laptop.locator("#expected-voters").fill("40")
    laptop.locator('#expected-form button[type="submit"]').click()
    turnout = laptop.locator("#hall-turnout")
    expect(turnout).to_contain_text("40", timeout=WAIT_MS)
    show.act(poll, "open")
    show.vote(poll, [0] * HONEST)
    expect(laptop.locator("#console-ballots")).to_have_text(str(HONEST), timeout=WAIT_MS)
    expect(laptop.locator("#hall-alert")).to_be_hidden()
    exclude_step = laptop.locator('[data-hall="exclude-step"]')
    expect(exclude_step).to_be_disabled()

    started = time.monotonic()
    stuff(show.server, poll, 1, STUFFED)
    stuffed_at = time.monotonic()
    alert = laptop.locator("#hall-alert")
    expect(alert).to_be_visible(timeout=6_500)
    expect(phone.locator("#hall-alert")).to_be_visible(timeout=6_500)
    shown_after = time.monotonic() - stuffed_at
    print(f"\n{STUFFED} stuffed votes took {(stuffed_at - started) * 1000:.0f} ms; the alert"
          f" showed {shown_after * 1000:.0f} ms after the last")  # fmt: skip
    expect(alert).to_contain_text(str(ALERT_PER_MINUTE + 1))  # the rate when it was raised
    expect(laptop.locator("#hall-alerts li")).to_contain_text("127.0.0.1")
    flagged = HONEST + STUFFED - ALERT_PER_MINUTE
    expect(laptop.locator("#hall-flagged")).to_contain_text(str(flagged), timeout=WAIT_MS)
    expect(turnout).to_contain_text(f"{HONEST + STUFFED} ")
    expect(laptop.locator("#hall-tokens")).to_contain_text(str(HONEST + STUFFED))
    expect(laptop.locator("#console-ballots")).to_have_text(str(HONEST + STUFFED))
    expect(exclude_step).to_be_enabled()
    laptop.locator("#hall").scroll_into_view_if_needed()
    laptop.screenshot(path=str(artifacts / "console-hall-alert-laptop.png"), full_page=True)
    phone.locator("#hall").scroll_into_view_if_needed()
    phone.screenshot(path=str(artifacts / "console-hall-alert-phone.png"), full_page=True)

    no_script = show.context(ORGANISER, "phone", javascript=False)
    step = show.page(no_script, f"/admin/polls/{poll['id']}?confirm=exclude", "no script")
    expect(step.locator("#confirm-exclude tbody tr")).to_have_count(flagged)
    step.locator("#confirm-exclude").screenshot(path=str(artifacts / "console-exclude-nojs.png"))

    exclude_step.click()
    dialog, confirm = laptop.locator("#exclude-dialog"), laptop.locator("#exclude-confirm")
    expect(dialog).to_be_visible()
    expect(confirm).to_be_disabled()
    expect(dialog.locator(".flagged-table tbody tr")).to_have_count(flagged)
    note = "Kari Nordmann (juryleder) og arrangøren: én adresse tok 15 nøkler på ett minutt"
    dialog.locator("textarea").fill(note)
    expect(confirm).to_be_enabled(timeout=WAIT_MS)
    laptop.screenshot(path=str(artifacts / "console-exclude-dialog-laptop.png"))
    confirm.click()
    expect(dialog).not_to_be_visible(timeout=WAIT_MS)
    counted = HONEST + STUFFED - flagged
    for page in (laptop, phone):
        expect(page.locator("#console-ballots")).to_have_text(str(counted), timeout=WAIT_MS)
        expect(page.locator("#hall-exclusions")).to_contain_text(note, timeout=6_500)
    expect(laptop.locator("#hall-flagged")).to_contain_text("0")
    expect(exclude_step).to_be_disabled()
    rows = laptop.locator("#console-tally tbody tr")
    expect(rows.filter(has_text=FINALISTS[1]["name"])).to_contain_text(
        str(ALERT_PER_MINUTE - HONEST)
    )
    assert show.poll(poll)["status"] == "open"
    laptop.locator("#hall").scroll_into_view_if_needed()
    laptop.screenshot(path=str(artifacts / "console-hall-excluded-laptop.png"), full_page=True)
    show.check_problems()
