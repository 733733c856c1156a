"""The voter's phone follows the show, in real headless Chromium against `live serve`.

The host acts through the API while a 360 px phone keeps the ballot open: the ballot
opens by itself, counts down, locks when voting closes (also for a vote in flight),
shows the places as they are revealed, and confirms a vote on the whole screen.
Screenshots of each state land in `test-artifacts/phone-<state>.png`.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.support.browser import PHONE, watch_errors
from tests.support.process import ServerProcess, api

pytestmark = pytest.mark.browser

WAIT_MS = 10_000
FINALISTS = [
    {"name": "Digital byggesøknad", "owner": "Stavanger kommune"},
    {"name": "Felles innbyggerdialog", "pitch": "Chat og skjema som snakker samme språk."},
    {"name": "Smart vannmåler"},
    {"name": "Åpne data for skoleskyss og tilrettelagt transport i distriktene"},
    {"name": "Ærlig budsjett"},
]
CLOSED_NB = "Avstemningen er stengt"
AXE = Axe()
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
SETTLED_JS = "() => document.getAnimations().every(a => a.playState !== 'running')"
MARK_JS = "() => { window.stillTheSamePage = true; }"
MARKED_JS = "() => window.stillTheSamePage === true"


@pytest.fixture
def token(server: ServerProcess) -> str:
    return server.organiser_token()


def new_poll(server: ServerProcess, token: str, *, open_it: bool, **fields: Any) -> dict[str, Any]:
    body = {"title": "Finalen i idékonkurransen", "finalists": FINALISTS, **fields}
    poll: dict[str, Any] = api(server, token, "POST", "/api/polls", json=body)
    if open_it:
        api(server, token, "POST", f"/api/polls/{poll['id']}/open")
    return poll


def act(server: ServerProcess, token: str, poll: dict[str, Any], action: str, **body: Any) -> Any:
    """What the host does: open, close, countdown, reveal."""
    return api(server, token, "POST", f"/api/polls/{poll['id']}/{action}", json=body or None)


def vote_http(poll: dict[str, Any], *choices: int) -> None:
    """One more voter, with a cookie jar of its own."""
    with httpx.Client(timeout=10) as voter:
        voter.get(poll["ballot_url"]).raise_for_status()
        sent = voter.post(poll["ballot_url"], data={"choice": [str(c) for c in choices]})
        assert sent.status_code == 303, sent.text


def ids(poll: dict[str, Any]) -> list[int]:
    return [finalist["id"] for finalist in poll["finalists"]]


def open_phone(phone: BrowserContext, poll: dict[str, Any]) -> tuple[Page, list[str]]:
    page = phone.new_page()
    problems = watch_errors(page)
    page.goto(poll["ballot_url"])
    page.evaluate(MARK_JS)
    return page, problems


def fits_the_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"horizontal scrolling: scrollWidth={width}"


def accessible(page: Page) -> None:
    """axe-core's WCAG 2.1 A and AA rules on the state the phone shows now."""
    page.wait_for_function(SETTLED_JS)
    violations = AXE.run(page, options=AXE_OPTIONS).response["violations"]
    assert not violations, [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]


def expect_locked(page: Page) -> None:
    expect(page.locator("#choices")).to_have_js_property("disabled", True, timeout=WAIT_MS)
    expect(page.locator("#ballot button[type=submit]")).to_be_disabled(timeout=WAIT_MS)


def tall_enough(page: Page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None and box["height"] >= 44, f"{selector}: {box}"


def test_a_draft_ballot_opens_by_itself_when_the_host_opens_voting(
    server: ServerProcess, token: str, phone: BrowserContext, artifacts: Path
) -> None:
    poll = new_poll(server, token, open_it=False)
    page, problems = open_phone(phone, poll)
    expect(page.locator("#state")).to_have_attribute("data-state", "draft")
    expect_locked(page)
    expect(page.locator("#reload")).to_be_hidden(timeout=WAIT_MS)  # the stream is live
    following = page.locator("#phone").get_attribute("data-l-draft")  # no reload needed
    expect(page.locator("#state")).to_have_text(following or "?")
    fits_the_phone(page)
    accessible(page)
    page.screenshot(path=str(artifacts / "phone-draft.png"), full_page=True)

    act(server, token, poll, "open")
    expect(page.locator("#choices")).to_have_js_property("disabled", False, timeout=WAIT_MS)
    expect(page.locator("#ballot button[type=submit]")).to_be_enabled()
    expect(page.locator("#state")).to_have_attribute("data-state", "open")
    expect(page.locator("#announce")).not_to_be_empty()
    assert page.evaluate(MARKED_JS), "the page was reloaded"
    page.locator("label.choice", has_text=FINALISTS[2]["name"]).click()
    expect(page.get_by_role("radio", name=FINALISTS[2]["name"])).to_be_checked()
    page.screenshot(path=str(artifacts / "phone-open.png"), full_page=True)
    assert problems == []


def test_the_countdown_shows_and_the_ballot_locks_when_voting_closes(
    server: ServerProcess, token: str, phone: BrowserContext, artifacts: Path
) -> None:
    poll = new_poll(server, token, open_it=True)
    page, problems = open_phone(phone, poll)
    expect(page.locator("#countdown")).to_be_hidden()

    act(server, token, poll, "countdown", seconds=120)
    expect(page.locator("#countdown")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#time-left")).to_have_text(re.compile(r"^0[12]:\d\d$"))
    expect(page.locator("#announce")).to_contain_text(re.compile(r"0[12]:\d\d"))
    fits_the_phone(page)
    accessible(page)
    page.screenshot(path=str(artifacts / "phone-countdown.png"), full_page=True)

    act(server, token, poll, "countdown", seconds=None)
    expect(page.locator("#countdown")).to_be_hidden(timeout=WAIT_MS)

    act(server, token, poll, "close")
    expect_locked(page)
    expect(page.locator("#state")).to_have_attribute("data-state", "closed")
    expect(page.locator("#state")).to_contain_text(CLOSED_NB)
    expect(page.locator("#countdown")).to_be_hidden()
    assert page.evaluate(MARKED_JS), "the page was reloaded"
    page.screenshot(path=str(artifacts / "phone-closed.png"), full_page=True)
    assert problems == []


def test_a_countdown_that_runs_out_locks_the_ballot(
    server: ServerProcess, token: str, phone: BrowserContext
) -> None:
    poll = new_poll(server, token, open_it=True)
    page, problems = open_phone(phone, poll)
    act(server, token, poll, "countdown", seconds=5)
    expect(page.locator("#time-left")).to_have_text(re.compile(r"^00:0[0-5]$"), timeout=WAIT_MS)
    expect(page.locator("#countdown")).to_have_class(re.compile(r"\bsoon\b"))
    expect_locked(page)  # the server closes the poll itself at the closing time
    expect(page.locator("#state")).to_have_attribute("data-state", "closed", timeout=WAIT_MS)
    assert problems == []


def test_a_vote_in_flight_when_voting_closes_gets_the_clear_answer(
    server: ServerProcess, token: str, phone: BrowserContext, artifacts: Path
) -> None:
    poll = new_poll(server, token, open_it=True)
    page, problems = open_phone(phone, poll)

    def close_first(route: Route) -> None:
        if route.request.method == "POST":
            act(server, token, poll, "close")  # the host closes while the vote travels
        route.continue_()

    page.route(poll["ballot_url"], close_first)
    page.locator("label.choice", has_text=FINALISTS[1]["name"]).click()
    page.locator("#ballot button[type=submit]").click()

    status = page.locator("#status")
    expect(status).to_contain_text(CLOSED_NB, timeout=WAIT_MS)
    expect(status).to_have_class("status error")
    expect_locked(page)
    expect(page.locator("#confirmation")).to_be_hidden()
    expect(page.locator("#state")).to_have_attribute("data-state", "closed", timeout=WAIT_MS)
    accessible(page)
    page.screenshot(path=str(artifacts / "phone-refused.png"), full_page=True)
    assert api(server, token, "GET", f"/api/polls/{poll['id']}/results")["ballots"] == 0
    assert [p for p in problems if "status of 409" not in p] == []


def test_the_phone_shows_the_places_as_they_are_revealed(
    server: ServerProcess, token: str, phone: BrowserContext, artifacts: Path
) -> None:
    poll = new_poll(server, token, open_it=True)
    a, b, c, *_ = ids(poll)
    for choice in (a, a, a, b, b, c):
        vote_http(poll, choice)
    page, problems = open_phone(phone, poll)
    act(server, token, poll, "close")
    expect_locked(page)
    expect(page.locator("#results")).to_be_hidden()

    podium = page.locator("#podium li")
    names = [FINALISTS[2]["name"], FINALISTS[1]["name"], FINALISTS[0]["name"]]
    for count, place in enumerate((3, 2, 1), start=1):
        act(server, token, poll, "reveal", place=place)
        expect(podium).to_have_count(count, timeout=WAIT_MS)
        expect(podium.nth(count - 1)).to_contain_text(f"{place}. plass")
        expect(podium.nth(count - 1)).to_contain_text(names[count - 1])
        expect(page.locator("#announce")).to_contain_text(names[count - 1])
        if place == 3:
            expect(page.locator("#results")).to_be_visible()
            expect(page.locator("#thanks")).to_be_hidden()
            fits_the_phone(page)
            page.wait_for_function(SETTLED_JS)
            page.screenshot(path=str(artifacts / "phone-reveal-3.png"), full_page=True)

    expect(podium).to_have_text([f"{p}. plass {n}" for p, n in zip((3, 2, 1), names, strict=True)])
    expect(podium.nth(2)).to_have_class(re.compile(r"\bwinner\b"))
    expect(page.locator("#thanks")).to_be_visible()
    expect(page.locator(".podium .lots")).to_have_count(0)
    assert page.evaluate(MARKED_JS), "the page was reloaded"
    page.wait_for_function(SETTLED_JS)
    fits_the_phone(page)
    page.screenshot(path=str(artifacts / "phone-podium.png"), full_page=True)

    fresh = phone.new_page()  # a phone that arrives late gets every place from the snapshot
    fresh.goto(poll["ballot_url"])
    expect(fresh.locator("#podium li")).to_have_count(3, timeout=WAIT_MS)
    expect(fresh.locator("#thanks")).to_be_visible()
    assert problems == []


def test_a_place_decided_by_lots_says_so(
    server: ServerProcess, token: str, phone: BrowserContext, artifacts: Path
) -> None:
    poll = new_poll(server, token, open_it=True)
    a, b, c, *_ = ids(poll)
    for choice in (a, a, b, c):
        vote_http(poll, choice)
    page, problems = open_phone(phone, poll)
    act(server, token, poll, "close")
    tied = api(
        server,
        token,
        "POST",
        f"/api/polls/{poll['id']}/ties",
        json={"rule": "lots", "order": [b, c]},
    )
    assert tied
    for place in (3, 2, 1):
        act(server, token, poll, "reveal", place=place)
    podium = page.locator("#podium li")
    expect(podium).to_have_count(3, timeout=WAIT_MS)
    expect(podium.nth(0).locator(".lots")).to_be_visible()
    expect(podium.nth(1).locator(".lots")).to_be_visible()
    expect(podium.nth(2).locator(".lots")).to_have_count(0)
    expect(podium.nth(2)).to_contain_text(FINALISTS[0]["name"])
    page.wait_for_function(SETTLED_JS)
    fits_the_phone(page)
    accessible(page)
    page.screenshot(path=str(artifacts / "phone-podium-lots.png"), full_page=True)
    assert problems == []


def test_the_confirmation_takes_the_screen_and_gives_the_ballot_back(
    server: ServerProcess, token: str, phone: BrowserContext, artifacts: Path
) -> None:
    poll = new_poll(server, token, open_it=True)
    page, problems = open_phone(phone, poll)
    chosen = FINALISTS[3]["name"]
    page.locator("label.choice", has_text=chosen).click()
    tall_enough(page, "#ballot button[type=submit]")
    page.locator("#ballot button[type=submit]").click()

    confirmation = page.locator("#confirmation")
    expect(confirmation).to_be_visible(timeout=WAIT_MS)
    heading = page.get_by_role("heading", name="Takk for at du stemte")
    expect(heading).to_be_focused()
    expect(confirmation.locator(".recorded")).to_have_text(chosen)
    expect(page.locator("#ballot-view")).to_be_hidden()
    expect(page.locator("header.top")).to_be_hidden()
    box = confirmation.bounding_box()
    assert box is not None
    assert (box["x"], box["y"], box["width"]) == (0, 0, PHONE["width"])
    assert box["height"] >= PHONE["height"]
    fits_the_phone(page)
    tall_enough(page, "#change-vote")
    page.wait_for_function(SETTLED_JS)
    accessible(page)
    page.screenshot(path=str(artifacts / "phone-confirmation.png"))

    page.get_by_role("button", name="Endre stemmen min").click()
    expect(confirmation).to_be_hidden()
    expect(page.locator("#ballot-view")).to_be_visible()
    radio = page.get_by_role("radio", name=chosen)
    expect(radio).to_be_checked()
    expect(radio).to_be_focused()
    expect(page.locator("#ballot button[type=submit]")).to_have_text("Endre stemmen min")
    page.screenshot(path=str(artifacts / "phone-change.png"), full_page=True)
    assert problems == []


def test_a_ranked_confirmation_lists_the_order_and_closing_shows_the_closed_ballot(
    server: ServerProcess, token: str, phone: BrowserContext, artifacts: Path
) -> None:
    poll = new_poll(server, token, open_it=True, method="ranked")
    page, problems = open_phone(phone, poll)
    order = [4, 0, 2]
    for rank, index in enumerate(order, start=1):
        page.locator(f"#rank-{rank}").select_option(str(ids(poll)[index]))
    page.locator("#ballot button[type=submit]").click()
    recorded = page.locator("#confirmation ol.recorded li")
    expect(recorded).to_have_text([FINALISTS[i]["name"] for i in order], timeout=WAIT_MS)
    page.wait_for_function(SETTLED_JS)
    page.screenshot(path=str(artifacts / "phone-confirmation-ranked.png"))

    act(server, token, poll, "close")  # the show moves on: the phone follows
    expect(page.locator("#confirmation")).to_be_hidden(timeout=WAIT_MS)
    expect(page.locator("#state")).to_be_focused()
    expect(page.locator("#state")).to_contain_text(CLOSED_NB)
    expect_locked(page)
    expect(page.locator("#rank-1")).to_have_value(str(ids(poll)[order[0]]))
    assert problems == []


def test_the_phone_comes_back_after_a_server_restart(
    server: ServerProcess, token: str, phone: BrowserContext
) -> None:
    poll = new_poll(server, token, open_it=False)
    page, _ = open_phone(phone, poll)
    expect(page.locator("#reload")).to_be_hidden(timeout=WAIT_MS)
    expect(page.locator("#connection")).to_be_hidden()

    server.stop()
    expect(page.locator("#connection")).to_be_visible(timeout=WAIT_MS)
    server.start()
    back = time.monotonic()
    act(server, token, poll, "open")
    expect(page.locator("#choices")).to_have_js_property("disabled", False, timeout=WAIT_MS)
    print(f"\nphone followed the show again {time.monotonic() - back:.2f} s after the restart")
    expect(page.locator("#connection")).to_be_hidden()
    assert page.evaluate(MARKED_JS), "the page was reloaded"


def test_without_websocket_the_reload_link_still_opens_the_ballot(
    server: ServerProcess, token: str, phone: BrowserContext
) -> None:
    poll = new_poll(server, token, open_it=False)
    page = phone.new_page()
    problems = watch_errors(page)
    page.add_init_script("delete window.WebSocket")
    page.goto(poll["ballot_url"])
    expect_locked(page)
    act(server, token, poll, "open")
    reload = page.locator("#reload a")
    expect(reload).to_be_visible()
    tall_enough(page, "#reload a")
    reload.click()
    expect(page.locator("#choices")).to_have_js_property("disabled", False, timeout=WAIT_MS)
    page.locator("label.choice", has_text=FINALISTS[0]["name"]).click()
    page.locator("#ballot button[type=submit]").click()
    expect(page.locator("#confirmation .recorded")).to_have_text(FINALISTS[0]["name"])
    assert problems == []


def test_without_javascript_a_reload_opens_the_ballot_and_the_receipt_confirms(
    server: ServerProcess, token: str, browser: Browser, artifacts: Path
) -> None:
    poll = new_poll(server, token, open_it=False, method="ranked")
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, java_script_enabled=False, locale="nb-NO"
    )
    try:
        page = context.new_page()
        page.goto(poll["ballot_url"])
        expect(page.locator("#rank-1")).to_be_disabled()
        expect(page.locator("#ballot button[type=submit]")).to_be_disabled()
        act(server, token, poll, "open")
        page.locator("#reload a").click()
        expect(page.locator("#rank-1")).to_be_enabled()
        for rank, index in enumerate((1, 3), start=1):
            page.locator(f"#rank-{rank}").select_option(str(ids(poll)[index]))
        with page.expect_navigation():
            page.locator("#ballot button[type=submit]").click()
        assert page.url.endswith("/kvittering")
        heading = page.get_by_role("heading", level=1)
        expect(heading).to_have_text("Takk for at du stemte")
        expect(page.locator(".recorded li")).to_have_text(
            [FINALISTS[1]["name"], FINALISTS[3]["name"]]
        )
        expect(page.get_by_role("link", name="Endre stemmen min")).to_be_visible()
        fits_the_phone(page)
        page.screenshot(path=str(artifacts / "phone-receipt-nojs.png"), full_page=True)

        act(server, token, poll, "close")
        page.reload()
        expect(page.get_by_role("link", name="Endre stemmen min")).to_be_hidden()
        expect(page.locator("#confirmation-closed")).to_contain_text(CLOSED_NB)
    finally:
        context.close()
