"""The ballot's methods and badges on a phone, in real headless Chromium against `live serve`.

An approval ballot on a 360 px phone takes up to k ticks and refuses the next politely;
a badge poll asks for the badge's code (typed sloppily, or from its QR code) and counts
one ballot per badge on two phones; every vote shows its receipt code. Screenshots land
in `test-artifacts/ballot-<state>.png`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.support.browser import PHONE, watch_errors
from tests.support.process import ServerProcess, api

pytestmark = pytest.mark.browser

WAIT_MS = 10_000
FINALISTS = [
    {"name": "Digital byggesøknad", "owner": "Stavanger kommune"},
    {"name": "Felles innbyggerdialog", "pitch": "Chat og skjema som snakker samme språk."},
    {"name": "Smart vannmåler"},
    {"name": "Åpne data for skoleskyss"},
    {"name": "Ærlig budsjett"},
]
RECEIPT = re.compile(r"^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$")
AXE = Axe()
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
SETTLED_JS = "() => document.getAnimations().every(a => a.playState !== 'running')"


@pytest.fixture
def token(server: ServerProcess) -> str:
    return server.organiser_token()


def new_poll(server: ServerProcess, token: str, **fields: Any) -> dict[str, Any]:
    body = {"title": "Finalen i idékonkurransen", "finalists": FINALISTS, **fields}
    poll: dict[str, Any] = api(server, token, "POST", "/api/polls", json=body)
    return poll


def open_poll(server: ServerProcess, token: str, poll: dict[str, Any]) -> None:
    api(server, token, "POST", f"/api/polls/{poll['id']}/open")


def accessible(page: Page) -> None:
    page.wait_for_function(SETTLED_JS)
    violations = AXE.run(page, options=AXE_OPTIONS).response["violations"]
    assert not violations, [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]


def fits_the_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"horizontal scrolling: scrollWidth={width}"


def shown_receipt(page: Page) -> str:
    code = page.locator("#confirmation .receipt-code")
    expect(code).to_be_visible(timeout=WAIT_MS)
    text = code.inner_text().strip()
    assert RECEIPT.match(text), text
    return text


def test_an_approval_ballot_takes_k_ticks_and_refuses_one_more_politely(
    server: ServerProcess, token: str, phone: BrowserContext, artifacts: Path
) -> None:
    poll = new_poll(server, token, method="approval", max_choices=2)
    open_poll(server, token, poll)
    page = phone.new_page()
    problems = watch_errors(page)
    page.goto(poll["ballot_url"])
    expect(page.locator("#rules")).to_be_visible()
    boxes = page.locator("#choices input[type=checkbox]")
    expect(boxes).to_have_count(len(FINALISTS))
    counter = page.locator("#approval-count")
    labels = page.locator("label.choice")
    labels.nth(0).click()
    labels.nth(3).click()
    expect(counter).to_contain_text("2")
    page.screenshot(path=str(artifacts / "ballot-approval-ticked.png"), full_page=True)

    labels.nth(1).click()  # the (k+1)-th tick is taken back, with a note saying why
    expect(boxes.nth(1)).not_to_be_checked()
    expect(page.locator("#approval-note")).not_to_be_empty()
    assert page.locator("#choices input:checked").count() == 2
    fits_the_phone(page)
    accessible(page)
    page.locator("#approval-note").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "ballot-approval-refused.png"), full_page=True)

    chosen = [labels.nth(i).locator(".name").inner_text() for i in (0, 3)]
    page.locator("#ballot button[type=submit]").click()
    receipt = shown_receipt(page)
    recorded = page.locator("#confirmation-recorded li")
    expect(recorded).to_have_count(2)
    assert sorted(recorded.all_inner_texts()) == sorted(chosen)
    accessible(page)
    page.screenshot(path=str(artifacts / "ballot-approval-receipt.png"), full_page=True)

    page.reload()  # the voter sees the same receipt again on the ballot page
    expect(page.locator("#recorded .receipt-code")).to_have_text(receipt)
    result = api(server, token, "GET", f"/api/polls/{poll['id']}/results")
    assert result["ballots"] == 1
    assert problems == []


def test_a_badge_poll_takes_a_typed_code_and_a_scanned_one_as_one_ballot(
    server: ServerProcess, token: str, browser: Browser, phone: BrowserContext, artifacts: Path
) -> None:
    poll = new_poll(server, token, eligibility="badge")
    badges = api(server, token, "POST", f"/api/polls/{poll['id']}/badges", json={"count": 3})
    badge = badges["badges"][0]
    open_poll(server, token, poll)

    page = phone.new_page()
    problems = watch_errors(page)
    page.goto(poll["ballot_url"])
    expect(page.locator("#badge-form")).to_be_visible()
    expect(page.locator("#ballot")).to_have_count(0)
    fits_the_phone(page)
    accessible(page)
    page.screenshot(path=str(artifacts / "ballot-badge-form.png"), full_page=True)

    page.locator("#badge-code").fill("ZZZZZ ZZZZZ")
    with page.expect_navigation(timeout=WAIT_MS):
        page.locator("#badge-form button[type=submit]").click()
    expect(page.locator("#badge-code")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#form-error")).to_contain_text("ZZZZZ-ZZZZZ")
    accessible(page)
    page.screenshot(path=str(artifacts / "ballot-badge-wrong.png"), full_page=True)

    sloppy = " ".join(badge["code"].replace("-", "").lower()[i : i + 3] for i in range(0, 10, 3))
    page.locator("#badge-code").fill(sloppy)
    with page.expect_navigation(timeout=WAIT_MS):
        page.locator("#badge-form button[type=submit]").click()
    expect(page.locator("#ballot")).to_be_visible()
    page.locator("label.choice", has_text=FINALISTS[0]["name"]).click()
    page.locator("#ballot button[type=submit]").click()
    receipt = shown_receipt(page)
    accessible(page)
    page.screenshot(path=str(artifacts / "ballot-badge-receipt.png"), full_page=True)

    second = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        other = second.new_page()
        other_problems = watch_errors(other)
        other.goto(badge["url"])  # the QR code on the same badge, on another phone
        expect(other.locator("#ballot")).to_be_visible()
        other.locator("label.choice", has_text=FINALISTS[2]["name"]).click()
        other.locator("#ballot button[type=submit]").click()
        assert shown_receipt(other) == receipt  # one badge, one voter, one receipt
        assert other_problems == []
    finally:
        second.close()
    result = api(server, token, "GET", f"/api/polls/{poll['id']}/results")
    assert result["ballots"] == 1
    scores = {row["finalist_id"]: row["score"] for row in result["tally"]}
    ids = [f["id"] for f in poll["finalists"]]
    assert scores[ids[2]] == 1 and scores[ids[0]] == 0  # the last submission counts
    assert [p for p in problems if "status of 403" not in p] == []
