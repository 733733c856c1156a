"""A badge poll walked through as its people meet it, in real headless Chromium against
`live serve`: the organiser prints the badge sheet; voters scan (open the badge's link) or
type their badge on three phones, one badge used on two phones; a phone without a badge
is turned away; the host closes and reveals; the stage shows the bulletin's digest; the
downloaded bulletin passes `live verify` with a voter's receipt, and fails once altered.
Screenshots land in `test-artifacts/walk-*.png`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.support.browser import WAIT_MS, watch_errors
from tests.support.process import ServerProcess, api

pytestmark = pytest.mark.browser

PASSWORD = "a long password"
ORGANISER = "org@example.no"
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 360, "height": 740}
STAGE: ViewportSize = {"width": 1920, "height": 1080}
NAMES = ("Digital byggesøknad", "Smart vannmåler", "Ærlig budsjett")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("walk") / "var")
    process.start()
    yield process
    process.stop()


def phone(browser: Browser) -> BrowserContext:
    return browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)


def vote_for(page: Page, name: str) -> str:
    """Tick `name` on the ballot and vote; the receipt code the confirmation shows."""
    page.locator("label.choice", has_text=name).click()
    page.locator("#ballot button[type=submit]").click()
    code = page.locator("#confirmation .receipt-code")
    expect(code).to_have_text(
        re.compile(r"^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$"), timeout=WAIT_MS
    )
    return code.inner_text()


def run_verify(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "live", "verify", str(path), *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_a_badge_poll_from_the_printed_sheet_to_a_verified_recount(
    server: ServerProcess, browser: Browser, artifacts: Path, tmp_path: Path
) -> None:
    token = server.organiser_token(ORGANISER)
    body = {"title": "Finalen 2026", "eligibility": "badge",
            "finalists": [{"name": n} for n in NAMES]}  # fmt: skip
    poll: dict[str, Any] = api(server, token, "POST", "/api/polls", json=body)
    made = api(server, token, "POST", f"/api/polls/{poll['id']}/badges", json={"count": 4})
    badges = made["badges"]

    # The organiser prints the sheet: every badge with its QR code, code and title.
    admin = browser.new_context(viewport=LAPTOP).new_page()
    admin.goto(f"{server.url}/admin/login")
    admin.locator("#email").fill(ORGANISER)
    admin.locator("#password").fill(PASSWORD)
    with admin.expect_navigation(timeout=WAIT_MS):
        admin.locator("main button[type=submit]").click()
    admin.goto(f"{server.url}/admin/polls/{poll['id']}/badges/print")
    admin.emulate_media(media="print")
    expect(admin.locator(".card")).to_have_count(4)
    assert admin.locator(".card-code").all_inner_texts() == [b["code"] for b in badges]
    expect(admin.locator(".card svg.qr")).to_have_count(4)
    expect(admin.locator(".card").first).to_contain_text("Finalen 2026")
    admin.screenshot(path=str(artifacts / "walk-01-badge-sheet.png"), full_page=True)
    api(server, token, "POST", f"/api/polls/{poll['id']}/open")

    # Phone A scans badge 1 and votes; phone B scans the same badge and changes the vote.
    first, second = phone(browser), phone(browser)
    page_a, page_b = first.new_page(), second.new_page()
    problems = watch_errors(page_a) + watch_errors(page_b)
    page_a.goto(badges[0]["url"])
    receipt = vote_for(page_a, NAMES[0])
    page_a.screenshot(path=str(artifacts / "walk-02-phone-a-voted.png"))
    page_b.goto(badges[0]["url"])
    expect(page_b.locator(".receipt-code").first).to_have_text(receipt)  # the same ballot
    assert vote_for(page_b, NAMES[1]) == receipt  # a change of vote keeps the receipt
    page_b.screenshot(path=str(artifacts / "walk-03-phone-b-same-badge.png"))

    # Phone C types badge 2 in lower case with spaces; phone D uses badge 3.
    third = phone(browser)
    page_c = third.new_page()
    page_c.goto(f"{server.url}/p/{poll['code']}")
    expect(page_c.locator("#badge-form")).to_be_visible()
    page_c.screenshot(path=str(artifacts / "walk-04-phone-c-asked-for-badge.png"))
    page_c.locator("#badge-code").fill(badges[1]["code"].lower().replace("-", " "))
    with page_c.expect_navigation(timeout=WAIT_MS):
        page_c.locator("#badge-form button[type=submit]").click()
    receipt_c = vote_for(page_c, NAMES[2])
    fourth = phone(browser)
    page_d = fourth.new_page()
    page_d.goto(badges[2]["url"])
    receipt_d = vote_for(page_d, NAMES[1])
    assert len({receipt, receipt_c, receipt_d}) == 3

    # A device without a badge is refused, and nothing is counted.
    with httpx.Client(base_url=server.url) as stranger:
        stranger.get(f"/p/{poll['code']}")
        refused = stranger.post(
            f"/p/{poll['code']}", data={"choice": str(poll["finalists"][0]["id"])},
            headers={"Accept": "application/json"},
        )  # fmt: skip
    assert refused.status_code == 403

    # The host closes and reveals; the stage shows the digest after the last place.
    stage = browser.new_context(viewport=STAGE).new_page()
    stage.goto(f"{server.url}/s/{poll['code']}")
    api(server, token, "POST", f"/api/polls/{poll['id']}/close")
    results = api(server, token, "GET", f"/api/polls/{poll['id']}/results")
    assert results["ballots"] == 3
    assert {r["name"]: r["score"] for r in results["tally"]} == {NAMES[0]: 0, NAMES[1]: 2,
                                                                 NAMES[2]: 1}  # fmt: skip
    expect(stage.locator("#stage-digest")).to_be_hidden()
    for place in (3, 2, 1):
        api(server, token, "POST", f"/api/polls/{poll['id']}/reveal", json={"place": place})
    digest = api(server, token, "GET", f"/api/polls/{poll['id']}/results")["digest"]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
    shown = stage.locator("#stage-digest")
    expect(shown).to_be_visible(timeout=WAIT_MS)
    expect(shown).to_contain_text(digest[:15])
    expect(shown).to_contain_text(f"/p/{poll['code']}/bulletin")
    stage.wait_for_timeout(3000)  # the winner's animation settled, for the picture
    stage.screenshot(path=str(artifacts / "walk-05-stage-digest.png"))

    # Anyone downloads the bulletin and recounts it.
    with httpx.Client(base_url=server.url) as anyone:
        bulletin = anyone.get(f"/api/polls/{poll['id']}/bulletin", params={"download": "1"})
    assert bulletin.status_code == 200 and bulletin.json()["digest"] == digest
    saved = tmp_path / "bulletin.json"
    saved.write_bytes(bulletin.content)
    checked = run_verify(saved, "--receipt", receipt)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert NAMES[1] in checked.stdout and receipt in checked.stdout
    (artifacts / "walk-06-verify.txt").write_text(checked.stdout, encoding="utf-8")
    public = browser.new_context(viewport=PHONE).new_page()
    public.goto(f"{server.url}/p/{poll['code']}/bulletin?receipt={receipt_c}")
    expect(public.locator("main")).to_contain_text(digest)
    public.screenshot(path=str(artifacts / "walk-07-public-bulletin.png"), full_page=True)

    # One changed choice, recomputed digest or not, fails the recount.
    altered = json.loads(bulletin.content)
    altered["ballots"][0]["choices"] = [poll["finalists"][0]["id"]]
    saved.write_text(json.dumps(altered), encoding="utf-8")
    refused_check = run_verify(saved)
    assert refused_check.returncode == 1, refused_check.stdout
    assert problems == []
    for context in (first, second, third, fourth, stage.context, admin.context, public.context):
        context.close()
