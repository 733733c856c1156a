"""Admin tables in real headless Chromium at 360 px (a phone) and 1366 px (a laptop).

Every table sits in a labelled region (`role="region"`, a name, `tabindex="0"` so a
keyboard can scroll it); a table wider than its region makes the region scroll, never
the page; at 1366 px the contest's tables fit without scrolling; and "Logg ut" stays on
one line. The world is the accessibility suite's (polls, two contests, a scored nominee).
Screenshots of each page land in `test-artifacts/tables-*.png`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize

from tests.support.browser import PHONE
from tests.support.process import ServerProcess
from tests.test_accessibility import World, build_world

pytestmark = pytest.mark.browser

LAPTOP: ViewportSize = {"width": 1366, "height": 768}
VIEWPORTS = {"phone": PHONE, "laptop": LAPTOP}

# Each table: its region, the region's name, whether the region scrolls, the widths.
TABLES_JS = """() => Array.from(document.querySelectorAll("main table")).map(table => {
    const region = table.closest("[role=region]");
    if (!region) return {table: table.outerHTML.slice(0, 80), region: null};
    const labelledBy = (region.getAttribute("aria-labelledby") || "").split(" ")
        .map(id => document.getElementById(id)).filter(Boolean)
        .map(el => el.textContent.trim()).join(" ");
    const style = getComputedStyle(region);
    return {
        table: table.outerHTML.slice(0, 80),
        region: region.className,
        name: (region.getAttribute("aria-label") || labelledBy).trim(),
        tabindex: region.getAttribute("tabindex"),
        overflow: style.overflowX,
        tableWidth: Math.ceil(table.getBoundingClientRect().width),
        regionWidth: region.clientWidth,
        scrollWidth: region.scrollWidth,
    };
})"""

# How many lines the "Log out" button's text takes.
LOGOUT_LINES_JS = """() => {
    const button = document.querySelector(".logout button");
    if (!button) return 0;
    const range = document.createRange();
    range.selectNodeContents(button);
    const tops = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
    return tops.size;
}"""


def year_path(suffix: str, year: str = "jury_year") -> Callable[[World], str]:
    return lambda w: f"/admin/contest/{getattr(w, year)}{suffix}"


PAGES: list[tuple[str, str, Callable[[World], str]]] = [
    ("dashboard", "organiser", lambda w: "/admin"),
    ("contests", "organiser", lambda w: "/admin/contest"),
    ("contest", "organiser", year_path("")),
    ("ideas", "organiser", year_path("/ideas")),
    ("idea", "organiser", lambda w: f"/admin/contest/{w.jury_year}/ideas/{w.idea_id}"),
    ("criteria", "organiser", year_path("/criteria", "open_year")),
    ("ranking", "organiser", year_path("/ranking")),
    ("people", "organiser", lambda w: "/admin/people"),
    ("audit", "organiser", lambda w: "/admin/audit"),
    ("audit-ideas", "organiser", lambda w: "/admin/audit?subject=idea"),
    ("api-tokens", "organiser", lambda w: "/admin/tokens"),
    ("organisations", "organiser", lambda w: "/admin/organisations"),
    ("jury", "jury", year_path("/jury")),
    ("jury-sheet", "jury", lambda w: f"/admin/contest/{w.jury_year}/jury/{w.unscored_id}"),
]
# The contest's tables fit a laptop's screen whole; on a phone they may scroll.
FIT_ON_LAPTOP = {"contests", "contest", "ideas", "criteria", "ranking", "jury"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[World]:
    server = ServerProcess(tmp_path_factory.mktemp("tables") / "var")
    server.start()
    try:
        yield build_world(server, browser)
    finally:
        server.stop()


def open_as(browser: Browser, world: World, who: str, viewport: str) -> Page:
    phone = viewport == "phone"
    context = browser.new_context(
        viewport=VIEWPORTS[viewport], is_mobile=phone, has_touch=phone,
        storage_state=world.states[who],
    )  # fmt: skip
    return context.new_page()


def check_tables(tables: list[dict[str, Any]], where: str, must_fit: bool) -> None:
    for found in tables:
        assert found["region"] is not None, f"{where}: a table outside a region: {found}"
        assert found["name"], f"{where}: a region without a name: {found}"
        assert found["tabindex"] == "0", f"{where}: a region a keyboard cannot reach: {found}"
        if found["tableWidth"] > found["regionWidth"] + 1:  # 1: sub-pixel rounding
            assert found["overflow"] in ("auto", "scroll"), f"{where}: a table is cut: {found}"
            assert found["scrollWidth"] > found["regionWidth"], f"{where}: no scrolling: {found}"
        if must_fit:
            assert found["tableWidth"] <= found["regionWidth"] + 1, f"{where}: too wide: {found}"


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize(("name", "who", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_tables_fit_or_scroll_in_a_labelled_region(
    browser: Browser, world: World, artifacts: Path, viewport: str, name: str, who: str,
    path: Callable[[World], str],
) -> None:  # fmt: skip
    page = open_as(browser, world, who, viewport)
    try:
        response = page.goto(world.url + path(world))
        assert response is not None and response.status == 200, name
        page.screenshot(path=str(artifacts / f"tables-{name}-{viewport}.png"), full_page=True)
        page.screenshot(path=str(artifacts / f"tables-{name}-{viewport}-top.png"))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= VIEWPORTS[viewport]["width"], f"{name}: the page scrolls ({width}px)"
        tables = page.evaluate(TABLES_JS)
        check_tables(
            tables, f"{name} at {viewport}", viewport == "laptop" and name in FIT_ON_LAPTOP
        )
        assert page.evaluate(LOGOUT_LINES_JS) == 1, f"{name}: 'Logg ut' wraps"
    finally:
        page.context.close()


# The longest names the contest meets: a long title and owner, a network's full name.
LONG_NAMES_JS = """() => {
    const row = document.querySelector("main table tbody tr");
    const cells = row.querySelectorAll("td");
    cells[2].innerHTML = "Felles digital innbyggerdialog for helse- og omsorgstjenestene"
        + " i distriktskommunene<br><small>Interkommunalt samarbeid Nordre Follo og"
        + " Vestby kommuner</small>";
    cells[3].textContent = "Digitaliseringsnettverket for Vestfold og Telemark";
    cells[4].textContent = "100,0";
}"""


def test_the_ranking_with_long_names_fits_a_laptop_whole(
    browser: Browser, world: World, artifacts: Path
) -> None:
    page = open_as(browser, world, "organiser", "laptop")
    try:
        page.goto(world.url + year_path("/ranking")(world))
        page.evaluate(LONG_NAMES_JS)
        page.screenshot(path=str(artifacts / "tables-ranking-long-laptop.png"), full_page=True)
        check_tables(page.evaluate(TABLES_JS), "ranking with long names", must_fit=True)
    finally:
        page.context.close()
