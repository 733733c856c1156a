"""The badge sheets in real headless Chromium against `live serve`: printed (print media
and a PDF), 24 badges fill an A4 page and the 25th starts the next; every card holds its
QR code, the typed code and the title without cutting any of them; nothing of the page
around the sheets is printed. Screenshots land in `test-artifacts/badges-*.png`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.support.browser import WAIT_MS, watch_errors
from tests.support.process import ServerProcess, api

pytestmark = pytest.mark.browser

PASSWORD = "a long password"
ORGANISER = "org@example.no"
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
TITLE = "Finalen i idékonkurransen 2026: kommunenes beste digitaliseringsidé"
FINALISTS = [
    {"name": name} for name in ("Digital byggesøknad", "Smart vannmåler", "Ærlig budsjett")
]
MM = 96 / 25.4  # CSS pixels in a millimetre
# Page objects in a PDF from Chromium (`/Type /Pages` is the tree that holds them).
PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")

# Each card's size, and whether any of its parts is cut: text wider or taller than its
# box, or a part outside the card.
CARDS_JS = """() => [...document.querySelectorAll('.card')].map(card => {
    const box = card.getBoundingClientRect();
    const inside = [...card.children].every(part => {
        const r = part.getBoundingClientRect();
        return r.left >= box.left - 0.5 && r.right <= box.right + 0.5
            && r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5;
    });
    const code = card.querySelector('.card-code');
    const how = card.querySelector('.card-how');
    return {width: box.width, height: box.height, inside,
            codeFits: code.scrollWidth <= code.clientWidth,
            howFits: how.scrollHeight <= how.clientHeight + 1,
            sheet: [...document.querySelectorAll('.sheet')].indexOf(card.closest('.sheet')),
            font: getComputedStyle(code).fontFamily,
            size: parseFloat(getComputedStyle(code).fontSize)};
})"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("badges") / "var")
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def poll(server: ServerProcess) -> dict[str, Any]:
    """A badge poll with 30 badges: a full sheet and six on the next."""
    token = server.organiser_token(ORGANISER)
    body = {"title": TITLE, "finalists": FINALISTS, "eligibility": "badge"}
    made: dict[str, Any] = api(server, token, "POST", "/api/polls", json=body)
    badges = api(server, token, "POST", f"/api/polls/{made['id']}/badges", json={"count": 30})
    made["badges"] = badges["badges"]
    return made


def logged_in_page(browser: Browser, server: ServerProcess) -> Page:
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.goto(f"{server.url}/admin/login")
    page.locator("#email").fill(ORGANISER)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation(timeout=WAIT_MS):
        page.locator("main button[type=submit]").click()
    assert "/admin/login" not in page.url
    return page


def test_printed_sheets_hold_24_badges_an_a4_page(
    server: ServerProcess, poll: dict[str, Any], browser: Browser, artifacts: Path
) -> None:
    page = logged_in_page(browser, server)
    problems = watch_errors(page)
    page.goto(f"{server.url}/admin/polls/{poll['id']}/badges/print")
    page.emulate_media(media="print")
    expect(page.locator(".card")).to_have_count(30)
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator(".admin-nav")).to_be_hidden()
    expect(page.locator(".screen-only")).to_be_hidden()
    codes = page.locator(".card-code").all_inner_texts()
    assert codes == [badge["code"] for badge in poll["badges"]]
    cards = page.evaluate(CARDS_JS)
    assert [card["sheet"] for card in cards] == [0] * 24 + [1] * 6
    for card in cards:
        assert card["inside"] and card["codeFits"] and card["howFits"], card
        # 3 x 8 on the printable 198 x 284 mm: 66 x 35.5 mm each
        assert abs(card["width"] - 66 * MM) < 1 and abs(card["height"] - 35.5 * MM) < 1, card
        assert "mono" in card["font"].lower() and card["size"] >= 20  # 17 pt: large
    page.wait_for_timeout(100)  # fonts settled for the picture
    page.screenshot(path=str(artifacts / "badges-print.png"), full_page=True)
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert len(PDF_PAGE.findall(pdf)) == 2, "24 badges on the first A4 page, 6 on the second"
    (artifacts / "badges-print.pdf").write_bytes(pdf)
    assert problems == []
    page.context.close()


def test_the_badge_page_revokes_in_two_steps_without_script(
    server: ServerProcess, poll: dict[str, Any], browser: Browser, artifacts: Path
) -> None:
    context = browser.new_context(viewport=LAPTOP, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server.url}/admin/login")
    page.locator("#email").fill(ORGANISER)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation(timeout=WAIT_MS):
        page.locator("main button[type=submit]").click()
    page.goto(f"{server.url}/admin/polls/{poll['id']}/badges")
    code = poll["badges"][-1]["code"]
    page.get_by_role("link", name=re.compile(code)).click()
    confirm = page.locator("#revoke-confirm")
    expect(confirm).to_be_visible()
    page.screenshot(path=str(artifacts / "badges-revoke-confirm.png"))
    with page.expect_navigation(timeout=WAIT_MS):
        confirm.locator("button[type=submit]").click()
    expect(page.locator("p.notice[role=status]")).to_contain_text(code)
    expect(page.locator("#revoke-confirm")).to_have_count(0)
    context.close()
