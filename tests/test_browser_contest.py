"""The public idea form in real headless Chromium against `live serve`, on a phone.

An organiser creates the edition over HTTP (login, CSRF token, the edition form); the
browser then meets the form as the public does: errors first, the owner search box, a
complete submission and the private link. Screenshots land in `test-artifacts/`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import (
    BrowserContext,
    Page,
    expect,
)

from tests.conftest import log_in_sync
from tests.support.browser import PHONE, WAIT_MS, watch_errors
from tests.support.contest import REQUIRED, REQUIRED_CHOICES, REQUIRED_TEXTS, idea_form
from tests.support.process import ServerProcess

pytestmark = pytest.mark.browser

OSLO = ZoneInfo("Europe/Oslo")
ORGANISER = "arrangor@example.no"
PASSWORD = "a long password"

# Every answer a submission needs, and which fields the server names when all are missing.
TEXT_ANSWERS = {name: idea_form()[name] for name in REQUIRED_TEXTS}
RADIO_ANSWERS = {name: idea_form()[name] for name in REQUIRED_CHOICES}
STAVANGER = "m:1103"


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def year(server: ServerProcess) -> int:
    """An edition taking ideas now, created by an organiser through the admin pages."""
    server.live("create-user", ORGANISER, "--role", "organiser", LIVE_PASSWORD=PASSWORD)
    now = datetime.now(OSLO).replace(second=0, microsecond=0)
    edition_year = now.year + 1
    moments = [now + timedelta(days=days) for days in (30, 40, 50, 60)]
    names = ["submission_deadline", "nomination_deadline", "jury_deadline", "finale_at"]
    with httpx.Client(base_url=server.url, timeout=10) as admin:
        login = log_in_sync(admin, ORGANISER, PASSWORD)
        assert login.status_code == 303, login.text
        form = admin.get("/admin/contest/new")
        assert form.status_code == 200, form.text
        found = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert found, "no CSRF token in the edition form"
        body = {
            "csrf": found.group(1),
            "version": "0",
            "year": str(edition_year),
            "title": f"Idékonkurransen {edition_year}",
            "finalists": "5",
            **{
                name: moment.strftime("%Y-%m-%dT%H:%M")
                for name, moment in zip(names, moments, strict=True)
            },
        }
        saved = admin.post("/admin/contest/new", data=body)
        assert saved.status_code == 303, saved.text
        assert saved.headers["location"] == f"/admin/contest/{edition_year}"
    return edition_year


# --- helpers --------------------------------------------------------------------------------


UNLABELLED_JS = """() => Array.from(document.querySelectorAll("input, select, textarea"))
    .filter(el => el.type !== "hidden" && el.getClientRects().length > 0)
    .filter(el => !(el.labels && el.labels.length > 0) && !el.getAttribute("aria-label")
        && !el.getAttribute("aria-labelledby"))
    .map(el => el.outerHTML)"""

OWNER_OPTIONS_JS = """() => Array.from(document.querySelectorAll("#f-owner option"))
    .filter(option => option.value)
    .map(option => [option.value, option.textContent])"""


def check_page_shape(page: Page, where: str) -> None:
    """No sideways scrolling on a phone, one main and one h1, every control labelled."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"], f"{where}: horizontal scrolling ({scroll_width}px)"
    assert page.locator("main").count() == 1, where
    assert page.locator("h1").count() == 1, where
    assert page.evaluate(UNLABELLED_JS) == [], f"{where}: controls without a label"


def owner_options(page: Page) -> dict[str, str]:
    return dict(page.evaluate(OWNER_OPTIONS_JS))


def submit(page: Page) -> None:
    with page.expect_navigation(timeout=WAIT_MS):
        page.locator("button[name=action][value=submit]").click()


# --- tests ----------------------------------------------------------------------------------


@pytest.mark.browser
def test_idea_form_on_a_phone_shows_errors_then_submits_and_gives_a_private_link(
    server: ServerProcess, year: int, phone: BrowserContext, artifacts: Path
) -> None:
    form_url = f"{server.url}/ideer/{year}/ny"
    page = phone.new_page()
    problems = watch_errors(page, form_url)
    page.goto(form_url)
    expect(page.locator("#f-owner-filter")).to_be_visible()
    check_page_shape(page, "empty form")

    submit(page)
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    for name in REQUIRED:
        expect(summary.locator(f'a[href="#f-{name}"]')).to_have_count(1)
        expect(page.locator(f"#f-{name}")).to_have_attribute("aria-invalid", "true")
        described = page.locator(f"#f-{name}").get_attribute("aria-describedby") or ""
        assert f"f-{name}-error" in described.split(), f"{name}: error not described"
        expect(page.locator(f"#f-{name}-error")).to_be_visible()
    summary.locator('a[href="#f-title"]').click()
    expect(page.locator("#f-title")).to_be_focused()
    check_page_shape(page, "form with errors")
    page.screenshot(path=str(artifacts / "idea-form-errors.png"), full_page=True)

    for name, answer in TEXT_ANSWERS.items():
        page.locator(f"#f-{name}").fill(answer)
    page.locator("#f-owner-filter").fill("1103")
    assert STAVANGER in owner_options(page)
    page.locator("#f-owner").select_option(STAVANGER)
    page.locator("input[name=goals]").first.check()
    for name, value in RADIO_ANSWERS.items():
        page.locator(f"input[name={name}][value={value}]").check()
    submit(page)

    page.wait_for_url("**/ideer/lenke/**", timeout=WAIT_MS)
    expect(page.locator("#error-summary")).to_have_count(0)
    expect(page.locator("[role=status]")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(TEXT_ANSWERS["title"])
    link = page.locator("#private-link").input_value()
    parsed = httpx.URL(link)
    assert parsed.scheme in ("http", "https") and parsed.host, f"not absolute: {link!r}"
    assert link.startswith(f"{server.url}/ideer/lenke/"), link
    check_page_shape(page, "submitted idea")
    page.screenshot(path=str(artifacts / "idea-form-submitted.png"), full_page=True)

    again = phone.new_page()
    problems_again = watch_errors(again)
    again.goto(link)
    expect(again.get_by_role("heading", level=1)).to_have_text(TEXT_ANSWERS["title"])
    expect(again.locator("#f-title")).to_have_value(TEXT_ANSWERS["title"])
    expect(again.locator("#f-owner")).to_have_value(STAVANGER)
    expect(again.locator("#private-link")).to_have_value(link)
    check_page_shape(again, "reopened link")
    assert problems == []
    assert problems_again == []


@pytest.mark.browser
def test_owner_search_box_finds_owners_by_number_and_by_official_name(
    server: ServerProcess, year: int, phone: BrowserContext
) -> None:
    page = phone.new_page()
    problems = watch_errors(page)
    page.goto(f"{server.url}/ideer/{year}/ny")
    search = page.locator("#f-owner-filter")
    expect(search).to_be_visible()
    assert search.get_attribute("aria-controls") == "f-owner"
    assert search.get_attribute("aria-label")
    everything = owner_options(page)
    assert len(everything) > 350

    search.fill("1103")
    assert "Stavanger" in owner_options(page)[STAVANGER]
    page.locator("#f-owner").select_option(STAVANGER)
    expect(page.locator("#f-owner")).to_have_value(STAVANGER)

    search.fill("")
    assert owner_options(page).keys() == everything.keys()

    # Northern Sami and South Sami official names (the 2022 list has none for Tromsø).
    for name, number in (("Guovdageaidnu", "m:5430"), ("Tråante", "m:5001")):
        search.fill(name)
        assert number in owner_options(page), f"{name!r} does not find {number}"
        search.fill("")
    assert problems == []


@pytest.mark.browser
def test_typing_in_the_owner_search_narrows_the_list_and_picks_only_a_match(
    server: ServerProcess, year: int, phone: BrowserContext
) -> None:
    page = phone.new_page()
    page.goto(f"{server.url}/ideer/{year}/ny")
    owner = page.locator("#f-owner")
    expect(owner).to_have_value("")
    page.locator("#f-owner-filter").press_sequentially("1103")
    assert list(owner_options(page)) == [STAVANGER]
    assert owner.input_value() in ("", STAVANGER)
    expect(owner.locator("option").first).to_have_attribute("value", "")


@pytest.mark.browser
def test_the_chosen_owner_survives_another_search(
    server: ServerProcess, year: int, phone: BrowserContext
) -> None:
    page = phone.new_page()
    page.goto(f"{server.url}/ideer/{year}/ny")
    owner = page.locator("#f-owner")
    owner.select_option(STAVANGER)
    search = page.locator("#f-owner-filter")
    search.fill("Tråante")
    search.fill("")
    expect(owner).to_have_value(STAVANGER)


@pytest.mark.browser
def test_a_field_with_a_limit_counts_its_characters_and_never_cuts(
    server: ServerProcess, year: int, phone: BrowserContext
) -> None:
    form_url = f"{server.url}/ideer/{year}/ny?lang=en"
    page = phone.new_page()
    problems = watch_errors(page, form_url)
    page.goto(form_url)
    title, hint = page.locator("#f-title"), page.locator("#f-title-limit")
    expect(hint).to_have_text("At most 120 characters.")
    title.fill("Hei 😀")  # an emoji is one character, as the server counts
    expect(hint).to_have_text("5 of 120 characters.")
    too_long = "T" * 121
    title.fill(too_long)
    expect(title).to_have_value(too_long)  # pasted whole: nothing cuts it
    expect(hint).to_have_text("121 of 120 characters: 1 too many.")
    expect(hint).to_have_class(re.compile(r"\bover\b"))
    page.wait_for_timeout(1200)  # the count is read out once typing pauses
    expect(page.locator("p[aria-live=polite].visually-hidden")).to_have_text(
        "121 of 120 characters: 1 too many."
    )
    with page.expect_navigation(timeout=WAIT_MS):
        page.locator("button[name=action][value=draft]").click()
    expect(page.locator("#f-title-error")).to_have_text("Write at most 120 characters.")
    expect(page.locator("#f-title")).to_have_value(too_long)
    expect(hint).to_have_text("121 of 120 characters: 1 too many.")  # counted on load too
    title.fill("")
    expect(hint).to_have_text("At most 120 characters.")
    assert problems == []
