"""The browser harness shared by the browser suites: Debian's Chromium via Playwright,
phone-sized contexts, and a watcher for console errors and CSP violations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)

ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 360, "height": 740}
WAIT_MS = 5_000

CSP_LISTENER_JS = """document.addEventListener("securitypolicyviolation", (event) => {
    console.error("CSP violation: " + event.violatedDirective + " blocked " + event.blockedURI);
});"""

# An HTTP 400 answer to a form's own post is how the server shows the form's problems;
# Chromium logs every 4xx document as "Failed to load resource", which is no fault of the page.
EXPECTED_400 = "the server responded with a status of 400"


def watch_errors(page: Page, form_url: str | None = None) -> list[str]:
    """Console errors (CSP violations land there too) and uncaught page errors.

    With `form_url`, the console line Chromium writes for a 400 answer to that form's
    post is expected and not a problem."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        if form_url and EXPECTED_400 in message.text and message.location["url"] == form_url:
            return
        problems.append(f"console: {message.text} @ {message.location['url']}")

    def on_page_error(error: Error) -> None:
        problems.append(f"pageerror: {error}")

    page.add_init_script(CSP_LISTENER_JS)
    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    return problems


def _norwegian(new_context: Callable[..., BrowserContext]) -> Callable[..., BrowserContext]:
    """Contexts that ask for bokmål, as the audience's phones and the organisers' laptops
    do (Chromium asks for en-US otherwise, and the pages follow Accept-Language); a test
    that wants another language passes `locale`."""

    def make(**options: Any) -> BrowserContext:
        options.setdefault("locale", "nb-NO")
        return new_context(**options)

    return make


@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    launched = playwright_instance.chromium.launch(
        executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
    )
    launched.new_context = _norwegian(launched.new_context)  # type: ignore[method-assign]
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    yield context
    context.close()
