"""The stage screen on the projector, in real headless Chromium against `live serve`.

Ten finalists with names of 120 characters fit, whole, at 720p, 1080p and 4K; the podium
animates only the place just revealed and shows no count before the reveal is over;
hidden counts give way to a large ballot counter; the countdown runs on the server's
clock; and the screen keeps its last state, quietly, when the stream falters. Screenshots
land in `test-artifacts/`.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, WebSocket, WebSocketRoute, expect

from tests.support.browser import WAIT_MS, watch_errors
from tests.support.process import (
    ServerProcess,
    api,
    cookieless_client,
    new_voter,
    open_new_poll,
    vote,
)

pytestmark = pytest.mark.browser

SIZES = [(1280, 720), (1920, 1080), (3840, 2160)]
LONG_NAMES = [
    "Digital tvilling av vann- og avløpsnettet som varsler lekkasjer før de oppstår og gir "
    "beskjed til innbyggerne på mobilen",
    "Felles innbyggerdialog for kommunene i regionen med chat, skjema og tolketjeneste som "
    "snakker samme språk hele veien ut.",
    "Åpne data for skoleskyss og tilrettelagt transport i distriktene, slik at elevene kommer "
    "trygt fram også når været snur.",
    "Trygg hjemme med sensorer og varsling som lar eldre bo lenger i egen bolig, med pårørende "
    "og hjemmetjenesten i samme app",
    "Grønn innkjøpsassistent som hjelper kommunale innkjøpere å velge klimavennlige produkter "
    "og å dokumentere valgene de tar",
    "Søknadsveileder for lag og foreninger som samler tilskudd fra kommune, fylke og stat på "
    "ett sted, med frister og varsler",
    "Kommunal delingsplattform der innbyggerne låner verktøy, sportsutstyr og lokaler fra "
    "kommunen og hverandre, uten papirer",
    "Ungdomsråd på nett med avstemninger, saksdokumenter i klarspråk og direkte spørsmål til "
    "politikerne før kommunestyremøte",
    "Ærlig budsjett: en interaktiv visning av kommunens økonomi der innbyggerne selv prøver å "
    "prioritere skole, helse og veg.",
    "Snøbrøyting i sanntid med kart over ryddede veier, gang- og sykkelstier og fortau, så "
    "folk kan planlegge turen til jobb.",
]
OWNERS = [
    "Stavanger kommune",
    "Digi Vestland",
    "Bergen kommune og Vestland fylkeskommune",
    "",
    "Trondheim kommune",
    "Kristiansand kommune",
    "Nordland fylkeskommune og Bodø kommune",
    "Tromsø kommune",
    "",
    "Viken kommunesamarbeid",
]

# No CSS animation or transition is running (bars grow, podium places rise).
SETTLED_JS = "() => document.getAnimations().every(a => a.playState !== 'running')"

# Each name's box: nothing overflows it, and nothing cuts text short with an ellipsis or
# a line clamp; the name and owner sit inside their box.
NAMES_CUT_JS = r"""() => {
    const problems = [];
    for (const box of document.querySelectorAll(".bar-label, .podium-label")) {
        if (!box.getClientRects().length) continue;
        const outer = box.getBoundingClientRect();
        if (box.scrollHeight > box.clientHeight + 1 || box.scrollWidth > box.clientWidth + 1) {
            problems.push(`overflow ${box.scrollWidth}x${box.scrollHeight} in `
                + `${box.clientWidth}x${box.clientHeight}: ${box.textContent.slice(0, 40)}`);
        }
        for (const text of box.children) {
            const style = getComputedStyle(text);
            if (style.textOverflow !== "clip" || style.webkitLineClamp !== "none") {
                problems.push(`clipped by style: ${text.textContent.slice(0, 40)}`);
            }
            for (const rect of text.getClientRects()) {
                if (rect.top < outer.top - 1 || rect.bottom > outer.bottom + 1
                        || rect.left < outer.left - 1 || rect.right > outer.right + 1) {
                    problems.push(`outside its box: ${text.textContent.slice(0, 40)}`);
                }
            }
            // No word broken over two lines: each word is one piece on the screen.
            for (const node of text.childNodes) {
                if (node.nodeType !== Node.TEXT_NODE) continue;
                for (const word of node.data.matchAll(/[^\s-]+/g)) {
                    const range = document.createRange();
                    range.setStart(node, word.index);
                    range.setEnd(node, word.index + word[0].length);
                    if (range.getClientRects().length > 1) problems.push(`broken: ${word[0]}`);
                }
            }
        }
    }
    return problems;
}"""

# Every element on show lies inside the viewport.
OUTSIDE_JS = """() => {
    const problems = [];
    for (const element of document.querySelectorAll("#stage *")) {
        if (!element.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
        for (const rect of element.getClientRects()) {
            if (rect.width === 0 && rect.height === 0) continue;
            if (rect.left < -1 || rect.top < -1 || rect.right > innerWidth + 1
                    || rect.bottom > innerHeight + 1) {
                problems.push(`${element.tagName}.${element.className} at `
                    + `${Math.round(rect.left)},${Math.round(rect.top)}-`
                    + `${Math.round(rect.right)},${Math.round(rect.bottom)}`);
            }
        }
    }
    return problems;
}"""

# Which podium places start an animation or a transition from now on.
RECORD_ANIMATIONS_JS = """() => {
    window.animatedPlaces = [];
    const podium = document.getElementById("podium");
    for (const type of ["animationstart", "transitionstart"]) {
        podium.addEventListener(type, (event) => {
            const place = event.target.closest("li");
            window.animatedPlaces.push(place ? place.dataset.place : "podium");
        });
    }
}"""


# --- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture
def token(server: ServerProcess) -> str:
    return server.organiser_token()


@pytest.fixture
def projector(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    yield context
    context.close()


def cast_votes(server: ServerProcess, poll: dict[str, Any], plan: dict[int, int]) -> None:
    """`plan[i]` new voters each vote for finalist number i."""

    async def cast() -> None:
        path = urlsplit(poll["ballot_url"]).path
        async with cookieless_client(server.url, timeout=10) as http:
            for index, count in plan.items():
                for _ in range(count):
                    voter = await new_voter(http, path)
                    sent = await vote(http, path, voter, poll["finalists"][index]["id"])
                    assert sent.is_success, sent.text

    # Playwright's sync API holds this thread's event loop; the votes get a thread of their own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, cast()).result()


def bar_count(page: Page, poll: dict[str, Any], index: int) -> Any:
    return page.locator(f'.bar[data-finalist="{poll["finalists"][index]["id"]}"] .bar-count')


def label(page: Page, name: str) -> str:
    """A text the stage shows, in the page's language, from its `data-l-*` attribute."""
    found = page.locator("#stage").get_attribute(f"data-l-{name}")
    assert found is not None, name
    return found


def reveal(server: ServerProcess, token: str, poll: dict[str, Any], place: int) -> None:
    api(server, token, "POST", f"/api/polls/{poll['id']}/reveal", json={"place": place})


def assert_no_counts_shown(page: Page, scores: list[int]) -> None:
    """No bar on show, and none of the finalists' scores anywhere in the visible text."""
    expect(page.locator("#bars")).to_be_hidden()
    for bar in page.locator(".bar-count").all():
        expect(bar).to_have_text("–")
    shown = page.locator("body").inner_text()
    for score in scores:
        assert not re.search(rf"\b{score}\b", shown), f"score {score} on the stage: {shown!r}"


def iso(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


# --- long names at every size ---------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_ten_long_names_fit_whole_on_the_screen(
    server: ServerProcess, token: str, browser: Browser, artifacts: Path, width: int, height: int
) -> None:
    finalists = [
        {"name": name, "owner": owner} for name, owner in zip(LONG_NAMES, OWNERS, strict=True)
    ]
    assert all(len(name) == 120 for name in LONG_NAMES)
    poll = open_new_poll(server, token, finalists=finalists)
    cast_votes(server, poll, {0: 4, 1: 3, 2: 2, 3: 1})
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        # Before any message: the page is laid out and fitted on load.
        quiet = context.new_page()
        quiet.route_web_socket(re.compile(r".*/stream$"), lambda socket: None)
        quiet.goto(poll["stage_url"])
        quiet.wait_for_load_state("load")
        assert quiet.evaluate(NAMES_CUT_JS) == []
        assert quiet.evaluate(OUTSIDE_JS) == []
        quiet.close()

        page = context.new_page()
        problems = watch_errors(page)
        page.goto(poll["stage_url"])
        expect(page.locator("#ballot-count")).to_have_text("10", timeout=WAIT_MS)
        expect(bar_count(page, poll, 0)).to_have_text("4", timeout=WAIT_MS)
        expect(bar_count(page, poll, 9)).to_have_text("0")
        page.wait_for_function(SETTLED_JS, timeout=WAIT_MS)
        page.screenshot(path=str(artifacts / f"stage-10-{width}x{height}.png"))
        size = page.evaluate("getComputedStyle(document.querySelector('.bar-name')).fontSize")
        print(f"\nstage {width}x{height}, 10 names of 120 characters: names at {size}")
        assert page.evaluate(NAMES_CUT_JS) == []
        assert page.evaluate(OUTSIDE_JS) == []
        for name in LONG_NAMES:
            expect(page.locator(".bar-name", has_text=name)).to_be_visible()

        page.keyboard.press("p")  # percentages take the counts' place: still nothing cut
        expect(bar_count(page, poll, 0)).to_contain_text("%")
        assert page.evaluate(NAMES_CUT_JS) == []
        assert page.evaluate(OUTSIDE_JS) == []
        assert problems == []
    finally:
        context.close()


# --- the reveal -----------------------------------------------------------------------------


def test_the_podium_animates_only_the_place_just_revealed(
    server: ServerProcess, token: str, projector: BrowserContext, artifacts: Path
) -> None:
    names = ["Digital byggesøknad", "Felles innbyggerdialog", "Smart vannmåler", "D", "E"]
    owners = OWNERS[: len(names)]
    finalists = [{"name": n, "owner": o} for n, o in zip(names, owners, strict=True)]
    poll = open_new_poll(server, token, finalists=finalists)  # three winners
    scores = [7, 5, 4]
    cast_votes(server, poll, dict(enumerate(scores)))
    page = projector.new_page()
    problems = watch_errors(page)
    frames: list[dict[str, Any]] = []

    def on_socket(socket: WebSocket) -> None:
        socket.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", on_socket)
    page.goto(poll["stage_url"])
    expect(bar_count(page, poll, 0)).to_have_text("7", timeout=WAIT_MS)

    api(server, token, "POST", f"/api/polls/{poll['id']}/close")
    stage = page.locator("#stage")
    expect(stage).to_have_attribute("data-mode", "closed", timeout=WAIT_MS)
    expect(page.locator("#closed-number")).to_have_text("16")
    expect(page.locator(".closed-soon")).to_be_visible()
    expect(page.locator(".join-panel")).to_be_hidden()
    assert_no_counts_shown(page, scores)
    page.screenshot(path=str(artifacts / "stage-closed.png"))
    page.evaluate(RECORD_ANIMATIONS_JS)

    reveal(server, token, poll, 3)
    podium = page.locator("#podium li")
    expect(podium).to_have_count(1, timeout=WAIT_MS)
    expect(stage).to_have_attribute("data-mode", "podium")
    page.wait_for_function(SETTLED_JS, timeout=WAIT_MS)
    assert set(page.evaluate("window.animatedPlaces")) == {"3"}
    assert_no_counts_shown(page, scores)
    page.evaluate("""() => {
        document.querySelector('#podium li[data-place="3"]').tagged = "third";
        window.animatedPlaces = [];
    }""")

    reveal(server, token, poll, 2)
    expect(podium).to_have_count(2, timeout=WAIT_MS)
    page.wait_for_function(SETTLED_JS, timeout=WAIT_MS)
    assert set(page.evaluate("window.animatedPlaces")) == {"2"}, "an old place animated again"
    tags = "() => Array.from(document.querySelectorAll('#podium li'), li => li.tagged || null)"
    assert page.evaluate(tags) == [None, "third"], "the podium was redrawn, not added to"
    assert_no_counts_shown(page, scores)
    page.screenshot(path=str(artifacts / "stage-revealing.png"))
    page.evaluate("""() => {
        document.querySelector('#podium li[data-place="2"]').tagged = "second";
        window.animatedPlaces = [];
    }""")

    reveal(server, token, poll, 1)
    expect(podium).to_have_count(3, timeout=WAIT_MS)
    page.wait_for_function(SETTLED_JS, timeout=WAIT_MS)
    assert set(page.evaluate("window.animatedPlaces")) == {"1"}
    assert page.evaluate(tags) == [None, "second", "third"]
    winner = page.locator('#podium li[data-place="1"]')
    expect(winner).to_have_class("first")  # the arrival class is gone once it has landed
    expect(winner).to_contain_text(poll["finalists"][0]["name"])
    expect(winner.locator(".score")).to_contain_text("7")  # counts, now the reveal is over
    expect(page.locator("#bars")).to_be_hidden()  # until the organiser shows the result
    page.screenshot(path=str(artifacts / "stage-podium-complete.png"))
    assert page.evaluate(NAMES_CUT_JS) == []
    assert page.evaluate(OUTSIDE_JS) == []

    closed_at = next(i for i, frame in enumerate(frames) if frame.get("status") == "closed")
    done_at = next(i for i, frame in enumerate(frames) if frame.get("reveal_complete"))
    for frame in frames[closed_at:done_at]:
        assert "tally" not in frame, "the stream sent counts before the reveal was over"
        assert all("score" not in entry for entry in frame.get("podium", []))
        assert "digest" not in frame, "the stream sent the digest before the reveal was over"

    api(server, token, "POST", f"/api/polls/{poll['id']}/show-results", json={"shown": True})
    expect(stage).to_have_attribute("data-mode", "results", timeout=WAIT_MS)
    expect(bar_count(page, poll, 0)).to_have_text("7")
    expect(bar_count(page, poll, 2)).to_have_text("4")
    assert page.evaluate(tags) == [None, "second", "third"]
    page.wait_for_function(SETTLED_JS, timeout=WAIT_MS)
    page.screenshot(path=str(artifacts / "stage-results.png"))
    assert page.evaluate(NAMES_CUT_JS) == []
    assert problems == []


# --- hidden counts and the countdown --------------------------------------------------------


def seconds_shown(page: Page) -> int:
    shown = page.locator("#countdown-time").inner_text()
    found = re.fullmatch(r"(\d\d):(\d\d)", shown)
    assert found, f"the countdown shows {shown!r}"
    return int(found.group(1)) * 60 + int(found.group(2))


def test_hidden_counts_show_the_ballot_counter_and_a_countdown_runs(
    server: ServerProcess, token: str, projector: BrowserContext, artifacts: Path
) -> None:
    poll = open_new_poll(server, token)
    cast_votes(server, poll, {0: 2, 1: 1})
    page = projector.new_page()
    problems = watch_errors(page)
    page.goto(poll["stage_url"])
    expect(bar_count(page, poll, 0)).to_have_text("2", timeout=WAIT_MS)
    expect(page.locator("#counter")).to_be_hidden()
    expect(page.locator("#countdown")).to_be_hidden()

    api(server, token, "POST", f"/api/polls/{poll['id']}/hide-counts", json={"hidden": True})
    expect(page.locator("#counter-number")).to_have_text("3", timeout=WAIT_MS)
    expect(page.locator("#counter")).to_be_visible()
    expect(page.locator("#counter-unit")).to_have_text(label(page, "ballots"))
    expect(page.locator("#bars")).to_be_hidden()
    cast_votes(server, poll, {2: 1})
    expect(page.locator("#counter-number")).to_have_text("4", timeout=WAIT_MS)

    api(server, token, "POST", f"/api/polls/{poll['id']}/countdown", json={"seconds": 120})
    expect(page.locator("#countdown")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#countdown-time")).to_have_text(re.compile(r"^0[12]:\d\d$"))
    assert 90 <= seconds_shown(page) <= 120
    expect(page.locator("#countdown-time")).to_have_attribute("aria-hidden", "true")
    expect(page.locator("#announce")).to_contain_text(re.compile(r"0[12]:\d\d"))
    first = seconds_shown(page)
    page.wait_for_function(
        f"() => document.getElementById('countdown-time').textContent !== '{first // 60:02d}:"
        f"{first % 60:02d}'",
        timeout=WAIT_MS,
    )
    assert seconds_shown(page) < first
    page.screenshot(path=str(artifacts / "stage-hidden-countdown.png"))

    api(server, token, "POST", f"/api/polls/{poll['id']}/countdown", json={"seconds": None})
    expect(page.locator("#countdown")).to_be_hidden(timeout=WAIT_MS)

    api(server, token, "POST", f"/api/polls/{poll['id']}/countdown", json={"seconds": 5})
    expect(page.locator("#countdown")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#stage")).to_have_attribute("data-mode", "closed", timeout=20_000)
    expect(page.locator("#countdown")).to_be_hidden()
    expect(page.locator("#closed-number")).to_have_text("4")
    assert problems == []


# --- the stream's rules, with a socket the test speaks for ----------------------------------


def snapshot(version: int, **fields: Any) -> str:
    message = {
        "version": version, "status": "open", "ballots": 10, "code": "ABC123",
        "title": "Finalen", "method": "single", "winners": 3, "hide_counts": False,
        "closes_at": None, "finalists": [], "revealed": 0, "reveal_complete": False,
        "show_results": False, "podium": [], **fields,
    }  # fmt: skip
    return json.dumps(message)


def opened_socket(page: Page, sockets: list[WebSocketRoute]) -> WebSocketRoute:
    """The socket the stage opened last, once it has opened one."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while not sockets and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert sockets, "the stage opened no socket"
    return sockets[-1]


def test_the_stage_follows_the_stream_rules_and_its_keys(
    server: ServerProcess, token: str, projector: BrowserContext
) -> None:
    poll = open_new_poll(server, token)
    finalists = [
        {"id": f["id"], "name": f["name"], "owner": f"Eier {f['name']}"} for f in poll["finalists"]
    ]
    tally = [
        {"finalist_id": f["id"], "name": f["name"], "score": 5 - i, "place": i + 1, "tied": False}
        for i, f in enumerate(poll["finalists"])
    ]
    sockets: list[WebSocketRoute] = []
    page = projector.new_page()
    problems = watch_errors(page)
    page.route_web_socket(re.compile(r".*/stream$"), lambda route: sockets.append(route))
    page.goto(poll["stage_url"])
    socket = opened_socket(page, sockets)

    # The server's clock is a minute ahead: the countdown follows it, not this computer's.
    server_now = time.time() * 1000 + 60_000
    socket.send(json.dumps({"type": "clock", "now": server_now}))
    socket.send(snapshot(5, finalists=finalists, tally=tally, closes_at=iso(server_now + 90_000)))
    expect(bar_count(page, poll, 0)).to_have_text("5", timeout=WAIT_MS)
    expect(page.locator(".bar-owner").first).to_have_text(finalists[0]["owner"])
    assert 80 <= seconds_shown(page) <= 90

    socket.send(snapshot(4, finalists=finalists, tally=tally, ballots=99))  # older: ignored
    socket.send(snapshot(6, finalists=finalists, tally=tally, ballots=11))
    expect(page.locator("#ballot-count")).to_have_text("11", timeout=WAIT_MS)

    socket.send(json.dumps({"unavailable": True, "status": "unavailable", "version": 6}))
    expect(page.locator("#connection")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#ballot-count")).to_have_text("11")
    expect(bar_count(page, poll, 0)).to_have_text("5")

    socket.send(snapshot(7, finalists=finalists, tally=tally, closes_at=iso(server_now - 1000)))
    expect(page.locator("#connection")).to_be_hidden(timeout=WAIT_MS)
    expect(page.locator("#countdown-time")).to_have_text(label(page, "closing"))

    # Keys: percentages (remembered), the large QR code, the help.
    page.keyboard.press("p")
    expect(bar_count(page, poll, 0)).to_contain_text("%")
    page.keyboard.press("q")
    expect(page.locator("#qr-overlay")).to_be_visible()
    expect(page.locator("#qr-overlay img")).to_have_attribute("alt", re.compile(poll["code"]))
    page.keyboard.press("Escape")
    expect(page.locator("#qr-overlay")).to_be_hidden()
    page.keyboard.press("?")
    expect(page.locator("#stage-help")).to_be_visible()
    expect(page.locator("#help-button")).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("?")
    expect(page.locator("#stage-help")).to_be_hidden()
    fullscreen = page.locator("#fullscreen-button")
    fullscreen.click()
    expect(fullscreen).to_be_hidden()  # nothing but the show in full screen
    assert page.evaluate("() => document.fullscreenElement !== null")
    page.keyboard.press("f")
    expect(fullscreen).to_be_visible()

    # A place decided by drawing lots says so.
    entry = {"place": 3, "finalist_id": finalists[2]["id"], "name": finalists[2]["name"],
             "owner": finalists[2]["owner"], "lots": True}  # fmt: skip
    socket.send(snapshot(8, status="closed", revealed=1, podium=[entry], finalists=finalists))
    expect(page.locator('#podium li[data-place="3"] .podium-lots')).to_have_text(
        label(page, "lots"), timeout=WAIT_MS
    )
    expect(page.locator("#bars")).to_be_hidden()

    # A lost connection: nothing for the first seconds, then a discreet note; the last
    # state stays on the screen.
    socket.close()
    page.wait_for_timeout(1000)
    expect(page.locator("#connection")).to_be_hidden()
    expect(page.locator("#connection")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#podium li")).to_have_count(1)
    assert len(sockets) >= 2, "the stage did not try again within three seconds"
    assert problems == []

    page.goto(poll["stage_url"])  # the percentages were remembered
    expect(page.locator("#stage")).to_have_attribute("data-percent", "on")
    page.goto(poll["stage_url"] + "?percent=0")
    expect(page.locator("#stage")).to_have_attribute("data-percent", "off")


def test_reduced_motion_moves_nothing(server: ServerProcess, token: str, browser: Browser) -> None:
    poll = open_new_poll(server, token)
    finalists = [{"id": f["id"], "name": f["name"], "owner": ""} for f in poll["finalists"]]
    tally = [
        {"finalist_id": f["id"], "name": f["name"], "score": 3, "place": 1, "tied": True}
        for f in poll["finalists"]
    ]
    sockets: list[WebSocketRoute] = []
    context = browser.new_context(viewport={"width": 1280, "height": 720}, reduced_motion="reduce")
    try:
        page = context.new_page()
        page.route_web_socket(re.compile(r".*/stream$"), lambda route: sockets.append(route))
        page.goto(poll["stage_url"])
        expect(page.locator("#stage")).to_have_attribute("data-mode", "bars")
        socket = opened_socket(page, sockets)
        socket.send(snapshot(1, finalists=finalists, tally=tally, ballots=15))
        expect(bar_count(page, poll, 0)).to_have_text("3", timeout=WAIT_MS)
        assert page.evaluate("() => document.getAnimations().length") == 0
        winner = {"place": 1, "finalist_id": finalists[0]["id"], "name": finalists[0]["name"],
                  "owner": "", "lots": False}  # fmt: skip
        socket.send(snapshot(2, status="closed", winners=1, revealed=1, podium=[winner],
                                  reveal_complete=True, finalists=finalists))  # fmt: skip
        expect(page.locator("#podium li")).to_have_count(1, timeout=WAIT_MS)
        assert page.evaluate("() => document.getAnimations().length") == 0
        expect(page.locator("#podium li")).to_have_class("first")
    finally:
        context.close()


# --- the rules before the vote, the digest after the reveal ---------------------------------


def test_the_rules_before_the_vote_and_the_digest_after_the_reveal(
    server: ServerProcess, token: str, projector: BrowserContext, artifacts: Path
) -> None:
    finalists = [{"name": name} for name in ("Alfa", "Bravo", "Charlie", "Delta")]
    body = {"title": "Finalen", "finalists": finalists, "method": "approval",
            "max_choices": 2, "tie_rule": "decision"}  # fmt: skip
    poll = api(server, token, "POST", "/api/polls", json=body)
    page = projector.new_page()
    problems = watch_errors(page)
    frames: list[dict[str, Any]] = []
    page.on("websocket", lambda socket: socket.on(
        "framereceived", lambda payload: frames.append(json.loads(payload))))  # fmt: skip
    page.goto(poll["stage_url"])
    rules = page.locator("#stage-rules")
    wanted = label(page, "rule-approval").replace("{number}", "2")
    wanted += " · " + label(page, "tie-decision")
    expect(rules).to_have_text(wanted)
    expect(rules).to_be_visible()
    expect(page.locator("#stage-digest")).to_be_hidden()
    page.wait_for_function(SETTLED_JS, timeout=WAIT_MS)
    page.screenshot(path=str(artifacts / "stage-rules-draft.png"))

    api(server, token, "POST", f"/api/polls/{poll['id']}/open")
    expect(page.locator("#stage")).to_have_attribute("data-status", "open", timeout=WAIT_MS)
    expect(rules).to_have_text(wanted)
    expect(rules).to_be_visible()
    cast_votes(server, poll, {0: 3, 1: 2, 2: 1})
    api(server, token, "POST", f"/api/polls/{poll['id']}/close")
    expect(page.locator("#stage")).to_have_attribute("data-status", "closed", timeout=WAIT_MS)
    expect(rules).to_be_hidden()
    for place in (3, 2):
        reveal(server, token, poll, place)
    expect(page.locator("#podium li")).to_have_count(2, timeout=WAIT_MS)
    expect(page.locator("#stage-digest")).to_be_hidden()
    reveal(server, token, poll, 1)
    digest = api(server, token, "GET", f"/api/polls/{poll['id']}/bulletin")["digest"]
    algorithm, hexdigest = digest.split(":")
    shown = page.locator("#stage-digest")
    expect(shown).to_be_visible(timeout=WAIT_MS)
    expect(shown).to_contain_text(f"{algorithm}:{hexdigest[:8]}…{hexdigest[-4:]}")
    expect(shown).to_contain_text(f"/p/{poll['code']}/bulletin")
    page.wait_for_function(SETTLED_JS, timeout=WAIT_MS)
    page.screenshot(path=str(artifacts / "stage-digest.png"))
    done_at = next(i for i, frame in enumerate(frames) if frame.get("reveal_complete"))
    assert not [f for f in frames[:done_at] if "digest" in f], "the digest came early"
    assert frames[done_at]["digest"] == digest
    page.reload()
    expect(page.locator("#stage-digest")).to_contain_text(hexdigest[:8])
    assert problems == []

    badge = api(server, token, "POST", "/api/polls", json={**body, "eligibility": "badge"})
    page.goto(badge["stage_url"])
    expect(page.locator("#stage-rules")).to_contain_text(label(page, "badge"))
    page.close()
