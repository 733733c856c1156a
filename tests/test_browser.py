"""The voter's phone and the stage screen in real headless Chromium against `live serve`.

Run with `-s` to see the page-weight figure. Screenshots land in `test-artifacts/`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Response,
    WebSocket,
    expect,
)

from tests.support.browser import PHONE, WAIT_MS, watch_errors
from tests.support.process import ServerProcess, api

pytestmark = pytest.mark.browser

FULL_HD = {"width": 1920, "height": 1080}
RECORDED_NB = "Stemmen din er registrert"
PAGE_WEIGHT_LIMIT = 30 * 1024

FINALISTS = [
    {"name": "Digital byggesøknad", "pitch": "Én søknad for alle kommuner, med svar på dager."},
    {"name": "Felles innbyggerdialog", "pitch": "Chat og skjema som snakker samme språk."},
    {"name": "Smart vannmåler", "pitch": "Lekkasjer oppdages før de blir dyre."},
    {
        "name": "Åpne data for skoleskyss og tilrettelagt transport i distriktene",
        "pitch": "Ruter, påmelding og varsler til foreldre samlet på ett sted, i alle "
        "fylker, slik at elevene kommer trygt fram – også når været slår om.",
    },
    {"name": "Ærlig budsjett"},
]


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def phone_nojs(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, java_script_enabled=False
    )
    yield context
    context.close()


@pytest.fixture
def projector(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=FULL_HD)
    yield context
    context.close()


@pytest.fixture
def token(server: ServerProcess) -> str:
    return server.organiser_token()


# --- helpers --------------------------------------------------------------------------------


def make_poll(
    server: ServerProcess, token: str, *, open_it: bool = True, **fields: Any
) -> dict[str, Any]:
    body = {"title": "Finalen i idékonkurransen 2025", "finalists": FINALISTS, **fields}
    response = httpx.post(
        f"{server.url}/api/polls",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    poll: dict[str, Any] = response.json()
    if open_it:
        api(server, token, "POST", f"/api/polls/{poll['id']}/open")
    return poll


def results(server: ServerProcess, token: str, poll: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = api(server, token, "GET", f"/api/polls/{poll['id']}/results")
    return found


def scores(server: ServerProcess, token: str, poll: dict[str, Any]) -> dict[int, int]:
    return {row["finalist_id"]: row["score"] for row in results(server, token, poll)["tally"]}


def finalist_id(poll: dict[str, Any], index: int) -> int:
    found: int = poll["finalists"][index]["id"]
    return found


def vote_http(poll: dict[str, Any], *choices: int) -> None:
    """One new voter: a fresh cookie jar, the ballot page for the cookie, then the vote."""
    with httpx.Client(timeout=10) as voter:
        page = voter.get(poll["ballot_url"])
        assert page.status_code == 200, page.text
        sent = voter.post(poll["ballot_url"], data={"choice": [str(c) for c in choices]})
        assert sent.status_code == 303, sent.text
        assert sent.headers["location"].endswith("/kvittering")


def bar_count(page: Page, poll: dict[str, Any], index: int) -> Any:
    return page.locator(f'.bar[data-finalist="{finalist_id(poll, index)}"] .bar-count')


def open_ballot_and_stage(
    poll: dict[str, Any], phone: BrowserContext, projector: BrowserContext
) -> tuple[list[str], list[str]]:
    """Vote on the phone, watch it land on the stage; the problems each page reported."""
    ballot = phone.new_page()
    ballot_problems = watch_errors(ballot)
    ballot.goto(poll["ballot_url"])
    ballot.wait_for_load_state("networkidle")
    first = poll["finalists"][0]["name"]  # each voter sees an order of their own
    ballot.locator("label.choice", has_text=first).click()
    ballot.locator("#ballot button[type=submit]").click()
    expect(ballot.locator("#status")).to_contain_text(RECORDED_NB, timeout=WAIT_MS)

    stage = projector.new_page()
    stage_problems = watch_errors(stage)
    stage.goto(poll["stage_url"])
    expect(stage.locator("#ballot-count")).to_have_text("1", timeout=WAIT_MS)
    expect(bar_count(stage, poll, 0)).to_have_text("1", timeout=WAIT_MS)
    stage.wait_for_load_state("networkidle")
    return ballot_problems, stage_problems


QR_LOADED_JS = """() => {
    const image = document.querySelector("img.qr");
    return image.complete && image.naturalWidth > 0;
}"""


# --- tests ----------------------------------------------------------------------------------


@pytest.mark.browser
def test_ballot_on_a_phone_votes_without_reload_and_changes_the_vote(
    server: ServerProcess, token: str, phone: BrowserContext, artifacts: Path
) -> None:
    poll = make_poll(server, token)
    page = phone.new_page()
    page.goto(poll["ballot_url"])

    expect(page.get_by_role("heading", level=1)).to_have_text(poll["title"])
    for finalist in FINALISTS:
        expect(page.locator("label.choice .name", has_text=finalist["name"])).to_be_visible()

    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"], f"horizontal scrolling: scrollWidth={scroll_width}"

    labels = page.locator("label.choice")
    assert labels.count() == len(FINALISTS)
    for index in range(labels.count()):
        box = labels.nth(index).bounding_box()
        assert box is not None
        assert box["height"] >= 44, f"choice {index} is {box['height']}px tall"
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]

    url_before = page.url
    first = FINALISTS[1]["name"]
    page.locator("label.choice", has_text=first).click()
    expect(page.get_by_role("radio", name=first)).to_be_checked()
    page.locator("#ballot button[type=submit]").click()
    status = page.locator("#status")
    expect(status).to_contain_text(RECORDED_NB, timeout=WAIT_MS)
    expect(status).to_contain_text(first)
    expect(status).not_to_have_class("status error")
    assert page.url == url_before
    page.screenshot(path=str(artifacts / "ballot-360.png"), full_page=True)

    found = results(server, token, poll)
    assert found["ballots"] == 1
    assert scores(server, token, poll)[finalist_id(poll, 1)] == 1

    expect(page.get_by_role("heading", name="Takk for at du stemte")).to_be_focused()
    page.get_by_role("button", name="Endre stemmen min").click()
    second = FINALISTS[3]["name"]
    page.locator("label.choice", has_text=second).click()
    expect(page.get_by_role("radio", name=second)).to_be_checked()
    page.locator("#ballot button[type=submit]").click()
    expect(status).to_contain_text(second, timeout=WAIT_MS)
    expect(status).to_contain_text(RECORDED_NB)
    assert page.url == url_before

    found = results(server, token, poll)
    assert found["ballots"] == 1
    now = scores(server, token, poll)
    assert now[finalist_id(poll, 3)] == 1
    assert now[finalist_id(poll, 1)] == 0
    assert sum(now.values()) == 1


@pytest.mark.browser
def test_ballot_without_javascript_goes_to_the_receipt(
    server: ServerProcess, token: str, phone_nojs: BrowserContext, artifacts: Path
) -> None:
    poll = make_poll(server, token)
    page = phone_nojs.new_page()
    page.goto(poll["ballot_url"])
    chosen = FINALISTS[2]["name"]
    page.locator("label.choice", has_text=chosen).click()
    with page.expect_navigation(timeout=WAIT_MS):
        page.locator("#ballot button[type=submit]").click()
    page.wait_for_url("**/kvittering", timeout=WAIT_MS)
    assert page.url.endswith("/kvittering")
    expect(page.locator(".recorded")).to_have_text(chosen)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"]
    page.screenshot(path=str(artifacts / "receipt-nojs.png"), full_page=True)

    found = results(server, token, poll)
    assert found["ballots"] == 1
    now = scores(server, token, poll)
    assert now[finalist_id(poll, 2)] == 1
    assert sum(now.values()) == 1


@pytest.mark.browser
def test_ranked_ballot_gives_three_two_one_points(
    server: ServerProcess, token: str, phone: BrowserContext
) -> None:
    poll = make_poll(server, token, method="ranked")
    page = phone.new_page()
    page.goto(poll["ballot_url"])
    url_before = page.url
    order = [4, 0, 2]
    for rank, index in enumerate(order, start=1):
        select = page.locator(f"#rank-{rank}")
        expect(select).to_be_visible()
        select.select_option(str(finalist_id(poll, index)))
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"]
    page.locator("#ballot button[type=submit]").click()
    status = page.locator("#status")
    expect(status).to_contain_text(RECORDED_NB, timeout=WAIT_MS)
    for index in order:
        expect(status).to_contain_text(FINALISTS[index]["name"])
    assert page.url == url_before

    found = results(server, token, poll)
    assert found["ballots"] == 1
    now = scores(server, token, poll)
    assert [now[finalist_id(poll, i)] for i in order] == [3, 2, 1]
    assert now[finalist_id(poll, 1)] == 0
    assert now[finalist_id(poll, 3)] == 0


LABEL_PROBLEMS_JS = """() => Array.from(document.querySelectorAll("input, select, textarea"))
    .filter(el => el.type !== "hidden" && (!el.labels || el.labels.length === 0))
    .map(el => el.outerHTML)"""


@pytest.mark.browser
def test_ballot_page_weight_and_structure(
    server: ServerProcess, token: str, browser: Browser
) -> None:
    poll = make_poll(server, token)
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    try:
        page = context.new_page()
        responses: list[Response] = []
        page.on("response", lambda response: responses.append(response))
        page.goto(poll["ballot_url"], wait_until="load")
        page.wait_for_load_state("networkidle")
        sizes = {}
        for response in responses:
            if 300 <= response.status < 400:
                continue
            assert response.ok, f"{response.status} for {response.url}"
            sizes[response.url] = len(response.body())
        total = sum(sizes.values())
        print(f"\nballot page weight: {total} bytes uncompressed ({total / 1024:.1f} KiB)")
        for url, size in sizes.items():
            print(f"  {size:>7}  {url}")
        kinds = {r.request.resource_type for r in responses}
        assert {"document", "stylesheet", "script"} <= kinds
        assert total <= PAGE_WEIGHT_LIMIT, f"ballot page weighs {total} bytes"

        assert page.locator("main").count() == 1
        assert page.locator("h1").count() == 1
        assert page.evaluate("document.documentElement.lang") == "nb"
        assert page.evaluate(LABEL_PROBLEMS_JS) == []

        ranked = make_poll(server, token, method="ranked")
        page.goto(ranked["ballot_url"])
        assert page.locator("main").count() == 1
        assert page.locator("h1").count() == 1
        assert page.evaluate("document.documentElement.lang") == "nb"
        assert page.locator("select").count() == 3
        assert page.evaluate(LABEL_PROBLEMS_JS) == []
    finally:
        context.close()


@pytest.mark.browser
def test_no_csp_violations_or_console_errors(
    server: ServerProcess, token: str, phone: BrowserContext, projector: BrowserContext
) -> None:
    poll = make_poll(server, token)
    ballot_problems, stage_problems = open_ballot_and_stage(poll, phone, projector)
    assert ballot_problems == []
    assert stage_problems == []


@pytest.mark.browser
def test_stage_shows_live_counts_hides_them_and_reveals_the_podium(
    server: ServerProcess, token: str, projector: BrowserContext, artifacts: Path
) -> None:
    poll = make_poll(server, token, open_it=False)
    page = projector.new_page()
    frames: list[dict[str, Any]] = []

    def on_socket(socket: WebSocket) -> None:
        socket.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", on_socket)
    problems = watch_errors(page)
    page.goto(poll["stage_url"])

    expect(page.locator("#stage-title")).to_have_text(poll["title"])
    expect(page.locator(".join-code strong")).to_have_text(poll["code"])
    expect(page.locator(".join-code strong")).to_be_visible()
    qr = page.locator("img.qr")
    expect(qr).to_be_visible()
    page.wait_for_function(QR_LOADED_JS, timeout=WAIT_MS)
    assert qr.evaluate("img => img.naturalWidth") > 0
    expect(page.locator("#poll-status")).to_have_text("Avstemningen åpner snart", timeout=WAIT_MS)

    api(server, token, "POST", f"/api/polls/{poll['id']}/open")
    expect(page.locator("#poll-status")).to_have_text("Avstemningen er åpen", timeout=WAIT_MS)
    for _ in range(3):
        vote_http(poll, finalist_id(poll, 0))
    for _ in range(2):
        vote_http(poll, finalist_id(poll, 1))
    vote_http(poll, finalist_id(poll, 2))

    expect(bar_count(page, poll, 0)).to_have_text("3", timeout=WAIT_MS)
    expect(bar_count(page, poll, 1)).to_have_text("2", timeout=WAIT_MS)
    expect(bar_count(page, poll, 2)).to_have_text("1", timeout=WAIT_MS)
    expect(bar_count(page, poll, 3)).to_have_text("0", timeout=WAIT_MS)
    expect(page.locator("#ballot-count")).to_have_text("6", timeout=WAIT_MS)
    expect(page.locator(f'.bar[data-finalist="{finalist_id(poll, 0)}"]')).to_have_class(
        "bar leader"
    )
    expect(page.locator("#hidden-note")).to_be_hidden()
    page.wait_for_timeout(600)  # let the bar transition settle for a useful screenshot
    page.screenshot(path=str(artifacts / "stage-1080p.png"))

    api(server, token, "POST", f"/api/polls/{poll['id']}/hide-counts", json={"hidden": True})
    expect(page.locator("#hidden-note")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#bars")).to_be_hidden()
    expect(bar_count(page, poll, 0)).to_be_hidden()
    vote_http(poll, finalist_id(poll, 0))
    expect(page.locator("#ballot-count")).to_have_text("7", timeout=WAIT_MS)
    expect(page.locator("#hidden-note")).to_be_visible()
    expect(bar_count(page, poll, 0)).to_be_hidden()
    latest = frames[-1]
    assert latest["ballots"] == 7
    assert "tally" not in latest, "the public stream leaks counts while they are hidden"

    api(server, token, "POST", f"/api/polls/{poll['id']}/hide-counts", json={"hidden": False})
    expect(bar_count(page, poll, 0)).to_have_text("4", timeout=WAIT_MS)
    expect(bar_count(page, poll, 0)).to_be_visible()
    expect(page.locator("#hidden-note")).to_be_hidden()

    api(server, token, "POST", f"/api/polls/{poll['id']}/close")
    expect(page.locator("#poll-status")).to_have_text("Avstemningen er stengt", timeout=WAIT_MS)
    for step in range(1, 4):
        response = httpx.post(
            f"{server.url}/api/polls/{poll['id']}/reveal",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        assert response.json()["revealed"] == step
        expect(page.locator("#podium li")).to_have_count(step, timeout=WAIT_MS)

    podium = page.locator("#podium li")
    expect(page.locator("#podium")).to_be_visible()
    expect(page.locator("#bars")).to_be_hidden()
    expect(podium).to_have_count(3)
    expect(podium.nth(0)).to_have_class("first")
    expect(podium.nth(0)).to_contain_text(FINALISTS[0]["name"])
    expect(podium.nth(0).locator(".place")).to_have_text("1. plass")
    expect(podium.nth(2).locator(".place")).to_have_text("3. plass")
    expect(podium.nth(1)).to_contain_text(FINALISTS[1]["name"])
    expect(podium.nth(2)).to_contain_text(FINALISTS[2]["name"])
    page.wait_for_timeout(1000)  # the podium rows animate in
    page.screenshot(path=str(artifacts / "stage-podium.png"))
    assert results(server, token, poll)["winners"][:3] == [finalist_id(poll, i) for i in range(3)]
    assert problems == []


@pytest.mark.browser
def test_stage_reconnects_after_a_server_restart(
    server: ServerProcess, token: str, projector: BrowserContext
) -> None:
    poll = make_poll(server, token)
    vote_http(poll, finalist_id(poll, 0))
    page = projector.new_page()
    page.goto(poll["stage_url"])
    expect(page.locator("#ballot-count")).to_have_text("1", timeout=WAIT_MS)
    expect(page.locator("#connection")).to_be_hidden()

    server.stop()
    expect(page.locator("#connection")).to_be_visible(timeout=WAIT_MS)
    server.start()
    vote_http(poll, finalist_id(poll, 1))
    assert results(server, token, poll)["ballots"] == 2

    expect(page.locator("#ballot-count")).to_have_text("2", timeout=15_000)
    expect(bar_count(page, poll, 1)).to_have_text("1")
    expect(page.locator("#connection")).to_be_hidden(timeout=WAIT_MS)
