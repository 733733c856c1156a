"""WCAG 2.1 AA: axe-core in real headless Chromium on every kind of page, against `live serve`.

One server is set up once for the module with everything the pages show: an open, a
ranked, a closed and a tied finale poll with votes; one contest taking ideas (the public
form, a submitted idea's private link) and one in the jury stage (ideas submitted over
HTTP, nominated by an organiser after the submission deadline was moved into the past,
one nominee scored by a jury member). Organisers, a host and the jury log in through the
login page in Chromium. Each page is then opened on a phone (and on a desktop where people use
both) and axe-core checks it against the WCAG 2.0/2.1 A and AA rules; the page must also
not scroll sideways (1.4.10 Reflow, which axe does not check) and must log no console
error or CSP violation. A failing page leaves a screenshot in `test-artifacts/`.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from live.contest.jury import default_criteria
from tests.conftest import log_in_sync
from tests.support.browser import PHONE, WAIT_MS, watch_errors
from tests.support.contest import idea_form
from tests.support.process import ServerProcess, api

pytestmark = pytest.mark.browser

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
AXE = Axe()

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
FULL_HD: ViewportSize = {"width": 1920, "height": 1080}
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP, "projector": FULL_HD}

OSLO = ZoneInfo("Europe/Oslo")
PASSWORD = "a long password"
ORGANISER = "arrangor@example.no"
JURY = "jury@example.no"
HOST = "host@example.no"
DEADLINES = ("submission_deadline", "nomination_deadline", "jury_deadline", "finale_at")
FINALISTS = [
    {"name": "Digital byggesøknad", "owner": "Stavanger kommune", "pitch": "Én søknad for alle."},
    {"name": "Felles innbyggerdialog", "pitch": "Chat og skjema som snakker samme språk."},
    {"name": "Smart vannmåler", "owner": "Digi Vestland"},
    {"name": "Åpne data for skoleskyss"},
    {"name": "Ærlig budsjett"},
]
# Settled means no CSS animation or transition is running: the podium rises from opacity 0
# and the bars grow, and a colour contrast measured halfway through would be meaningless.
SETTLED_JS = "() => document.getAnimations().every(a => a.playState !== 'running')"


# --- the world the pages show ---------------------------------------------------------------


@dataclass
class World:
    server: ServerProcess
    open_year: int  # taking ideas
    jury_year: int  # in the jury stage, with two nominees
    finale_year: int  # two finalists chosen, their public page published
    polls: dict[str, dict[str, Any]]  # open, ranked, closed, tied
    private_link: str  # the redirect after a successful submission
    idea_id: int  # nominated, scored by the jury member
    unscored_id: int  # nominated, not scored yet
    invitation: str  # an unused invitation link's path
    states: dict[str, Any]  # the logged-in browser's storage state, by role

    @property
    def url(self) -> str:
        return self.server.url

    def code(self, poll: str) -> str:
        found: str = self.polls[poll]["code"]
        return found

    def poll_id(self, poll: str) -> int:
        found: int = self.polls[poll]["id"]
        return found


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def save_edition(
    admin: httpx.Client, year: int, moments: list[datetime], new: bool, finalists: int = 5
) -> None:
    """Create the edition, or move its deadlines, through the organiser's form."""
    path = "/admin/contest/new" if new else f"/admin/contest/{year}/edit"
    form = admin.get(path)
    assert form.status_code == 200, form.text
    version = re.search(r'id="version-field" value="(\d+)"', form.text)
    assert version, "no version field on the edition form"
    body = {
        "csrf": csrf_of(form.text),
        "version": version.group(1),
        "year": str(year),
        "title": f"Idékonkurransen {year}",
        "finalists": str(finalists),
        **{name: local(moment) for name, moment in zip(DEADLINES, moments, strict=True)},
    }
    saved = admin.post(path, data=body)
    assert saved.status_code == 303, saved.text


def submit_idea_to(server: ServerProcess, year: int, action: str = "submit", **fields: str) -> str:
    with httpx.Client(base_url=server.url, timeout=10) as public:
        sent = public.post(f"/ideer/{year}/ny", data={**idea_form(**fields), "action": action})
    assert sent.status_code == 303, sent.text
    return sent.headers["location"]


def attach_to(server: ServerProcess, private_link: str) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as public:
        sent = public.post(
            f"{private_link.split('?')[0]}/vedlegg",
            files={"file": ("Kostnadsoverslag.pdf", ATTACHMENT_PDF)},
        )
    assert sent.status_code == 303, sent.text


def vote_http(server: ServerProcess, code: str, *choices: int) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as voter:
        assert voter.get(f"/p/{code}").status_code == 200
        sent = voter.post(f"/p/{code}", data={"choice": [str(c) for c in choices]})
        assert sent.status_code == 303, sent.text


def make_poll(server: ServerProcess, token: str, votes: list[int], **fields: Any) -> Any:
    """A poll with the five finalists, opened, with one vote for each finalist index given."""
    body = {"title": "Finalen i idékonkurransen", "finalists": FINALISTS, **fields}
    poll = api(server, token, "POST", "/api/polls", json=body)
    api(server, token, "POST", f"/api/polls/{poll['id']}/open")
    ids = [finalist["id"] for finalist in poll["finalists"]]
    for index in votes:
        vote_http(server, poll["code"], ids[index])
    return poll


def close_and_reveal(server: ServerProcess, token: str, poll: dict[str, Any], steps: int) -> None:
    api(server, token, "POST", f"/api/polls/{poll['id']}/close")
    for _ in range(steps):
        api(server, token, "POST", f"/api/polls/{poll['id']}/reveal")


def idea_ids(admin: httpx.Client, year: int) -> dict[str, int]:
    """The admin list's ideas by title."""
    page = admin.get(f"/admin/contest/{year}/ideas")
    assert page.status_code == 200, page.text
    found = re.findall(rf'href="/admin/contest/{year}/ideas/(\d+)">([^<]+)</a>', page.text)
    return {title: int(number) for number, title in found}


def publish_finalist_page(
    server: ServerProcess, year: int, now: datetime, future: list[datetime]
) -> int:
    """An edition with two finalists chosen from two nominees, their page published and
    the finale poll made from them (its id)."""
    with httpx.Client(base_url=server.url, timeout=10) as admin:
        assert log_in_sync(admin, ORGANISER, PASSWORD).status_code == 303
        save_edition(admin, year, future, new=True, finalists=2)
        submit_idea_to(server, year, title="Digital byggesøknad")
        submit_idea_to(server, year, title="Smart vannmåler", owner="m:4601")
        save_edition(admin, year, [now - timedelta(days=1), *future[1:]], new=False, finalists=2)
        ids = idea_ids(admin, year)
        for number in ids.values():
            page = admin.get(f"/admin/contest/{year}/ideas/{number}")
            nominated = admin.post(
                f"/admin/contest/{year}/ideas/{number}/nominate",
                data={"csrf": csrf_of(page.text), "rationale": "Løser et felles behov."},
            )
            assert nominated.status_code == 303, nominated.text
        jury_stage = [now - timedelta(days=2), now - timedelta(days=1), *future[2:]]
        save_edition(admin, year, jury_stage, new=False, finalists=2)
        ranking = admin.get(f"/admin/contest/{year}/ranking")
        chosen = admin.post(
            f"/admin/contest/{year}/finalists/select",
            data={"csrf": csrf_of(ranking.text), "idea": [str(n) for n in ids.values()]},
        )
        assert chosen.status_code == 303, chosen.text
        edition = admin.get(f"/admin/contest/{year}")
        published = admin.post(
            f"/admin/contest/{year}/finalist-page",
            data={"csrf": csrf_of(edition.text), "action": "publish", "place": "Oslo Spektrum"},
        )
        assert published.status_code == 303, published.text
        made = admin.post(
            f"/admin/contest/{year}/finalists/poll", data={"csrf": csrf_of(edition.text)}
        )
        assert made.status_code == 303, made.text
        return int(made.headers["location"].rsplit("/", 1)[1])


def ballot_with_finalists_link(page: Page, world: World) -> int:
    """The finale poll's ballot, with its link to the published finalist page."""
    visit(lambda w: f"/p/{w.code('finale')}")(page, world)
    expect(page.locator(".finalists-link a")).to_be_visible()
    return 200


def compare_too_many(page: Page, world: World) -> int:
    """The ideas list after four ideas were ticked for comparing: the error, ticks kept."""
    visit(year_path("/ideas"))(page, world)
    boxes = page.locator("#compare-form input[type=checkbox]")
    for index in range(boxes.count()):
        boxes.nth(index).check()
    return post(page, "#compare-form button[type=submit]", 400)


def browser_login(browser: Browser, server: ServerProcess, email: str) -> Any:
    """Log in through the page's form in Chromium; the context's cookies to reuse."""
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/admin/login")
        page.locator("#email").fill(email)
        page.locator("#password").fill(PASSWORD)
        with page.expect_navigation(timeout=WAIT_MS):
            page.locator("main button[type=submit]").click()
        assert "/admin/login" not in page.url, f"{email} could not log in"
        return context.storage_state()
    finally:
        context.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[World]:
    server = ServerProcess(tmp_path_factory.mktemp("accessibility") / "var")
    server.start()
    try:
        yield build_world(server, browser)
    finally:
        server.stop()


def build_world(server: ServerProcess, browser: Browser) -> World:
    token = server.organiser_token(ORGANISER)
    server.live("create-user", JURY, "--role", "jury", LIVE_PASSWORD=PASSWORD)
    server.live("create-user", HOST, "--role", "host", LIVE_PASSWORD=PASSWORD)
    polls = {
        "open": make_poll(server, token, [0, 0, 1]),
        "ranked": make_poll(server, token, [], method="ranked"),
        "closed": make_poll(server, token, [0, 0, 0, 1, 1, 2]),
        "tied": make_poll(server, token, [0, 1]),
        "approval": make_poll(server, token, [], method="approval", max_choices=2),
        "badge": make_poll(server, token, [], eligibility="badge"),
    }
    close_and_reveal(server, token, polls["closed"], 3)
    close_and_reveal(server, token, polls["tied"], 0)
    badges = {"count": 30}  # a full sheet and a part of the next
    polls["badge"]["badges"] = api(
        server, token, "POST", f"/api/polls/{polls['badge']['id']}/badges", json=badges
    )["badges"]

    now = datetime.now(OSLO).replace(second=0, microsecond=0)
    open_year, jury_year = now.year + 1, now.year + 2
    future = [now + timedelta(days=days) for days in (30, 40, 50, 60)]
    with httpx.Client(base_url=server.url, timeout=10) as admin:
        assert log_in_sync(admin, ORGANISER, PASSWORD).status_code == 303
        save_edition(admin, open_year, future, new=True)
        save_edition(admin, jury_year, future, new=True)
        private_link = submit_idea_to(server, open_year)
        for title, owner in (("Felles chatbot for byggesak", "m:1103"),
                             ("Digital vannmåler", "m:4601")):  # fmt: skip
            # Each with a file, for the lists on the organiser's and the jury's pages.
            attach_to(server, submit_idea_to(server, jury_year, title=title, owner=owner))
        submit_idea_to(server, jury_year, title="Oslos egen idé", owner="m:0301")
        submit_idea_to(server, jury_year, action="draft", title="Et utkast")
        past_submission = [now - timedelta(days=1), *future[1:]]
        save_edition(admin, jury_year, past_submission, new=False)
        ids = idea_ids(admin, jury_year)
        scored, unscored = ids["Felles chatbot for byggesak"], ids["Digital vannmåler"]
        for number in (scored, unscored):
            page = admin.get(f"/admin/contest/{jury_year}/ideas/{number}")
            nominated = admin.post(
                f"/admin/contest/{jury_year}/ideas/{number}/nominate",
                data={"csrf": csrf_of(page.text), "rationale": "Løser et felles behov."},
            )
            assert nominated.status_code == 303, nominated.text
        jury_stage = [now - timedelta(days=2), now - timedelta(days=1), *future[2:]]
        save_edition(admin, jury_year, jury_stage, new=False)
        people = admin.get("/admin/people")
        invited = admin.post(
            "/admin/people",
            data={"csrf": csrf_of(people.text), "email": "ny@example.no", "role": "host"},
        )
        assert invited.status_code == 200, invited.text
        found = re.search(r'id="invitation-link" class="copy-field" value="([^"]+)"', invited.text)
        assert found, "no invitation link shown"
    finale_year = now.year + 3
    finale_id = publish_finalist_page(server, finale_year, now, future)
    polls["finale"] = api(server, token, "GET", f"/api/polls/{finale_id}")
    with httpx.Client(base_url=server.url, timeout=10) as jury:
        assert log_in_sync(jury, JURY, PASSWORD).status_code == 303
        sheet = jury.get(f"/admin/contest/{jury_year}/jury/{scored}")
        scores = {f"score_{c.id}": str(c.scale_max) for c in default_criteria()}
        saved = jury.post(
            f"/admin/contest/{jury_year}/jury/{scored}",
            data={"csrf": csrf_of(sheet.text), **scores, "comment": "Godt begrunnet."},
        )
        assert saved.status_code == 303, saved.text
    return World(
        server=server,
        open_year=open_year,
        jury_year=jury_year,
        finale_year=finale_year,
        polls=polls,
        private_link=private_link,
        idea_id=scored,
        unscored_id=unscored,
        invitation=httpx.URL(found.group(1)).path,
        states={
            "organiser": browser_login(browser, server, ORGANISER),
            "jury": browser_login(browser, server, JURY),
            "host": browser_login(browser, server, HOST),
        },
    )


# --- the pages ------------------------------------------------------------------------------

Opener = Callable[[Page, World], int]


def visit(path: Callable[[World], str], status: int = 200) -> Opener:
    """Open a page by its address; the status it answers with must be `status`."""

    def open_page(page: Page, world: World) -> int:
        response = page.goto(world.url + path(world))
        assert response is not None
        assert response.status == status, f"{response.status} for {response.url}"
        return status

    return open_page


def post(page: Page, button: str, status: int) -> int:
    """Send the page's form with `button`; the answer must have `status`."""
    with page.expect_navigation(timeout=WAIT_MS) as navigation:
        page.locator(button).click()
    response = navigation.value
    assert response is not None
    assert response.status == status, f"{response.status} for {response.url}"
    return status


def idea_form_with_errors(page: Page, world: World) -> int:
    visit(lambda w: f"/ideer/{w.open_year}/ny")(page, world)
    post(page, "button[name=action][value=submit]", 400)
    expect(page.locator("#error-summary")).to_be_visible()
    return 400


def idea_draft(page: Page, world: World) -> int:
    link = submit_idea_to(world.server, world.open_year, action="draft", title="Et utkast")
    return visit(lambda w: link)(page, world)


def idea_withdrawn(page: Page, world: World) -> int:
    """A fresh idea (the others stay submitted), withdrawn in the browser's two steps."""
    link = submit_idea_to(world.server, world.open_year, title="Trekkes tilbake").split("?")[0]
    visit(lambda w: f"{link}/trekk")(page, world)
    post(page, "form[method=post] button[type=submit]", 200)
    expect(page.locator("#idea-state-heading")).to_be_visible()
    return 200


def idea_with_attachment(page: Page, world: World) -> int:
    """A fresh idea's private page after attaching a file in the browser: the list with
    its download and remove buttons, and the form for another."""
    link = submit_idea_to(world.server, world.open_year, title="Med vedlegg").split("?")[0]
    visit(lambda w: link)(page, world)
    page.locator("#f-file").set_input_files(
        files=[{"name": "skisse.pdf", "mimeType": "application/pdf", "buffer": ATTACHMENT_PDF}]
    )
    post(page, "form.attachment-form button[type=submit]", 200)
    expect(page.locator(".attachment-list a")).to_have_text("skisse.pdf")
    return 200


def idea_attachment_refused(page: Page, world: World) -> int:
    """A file whose content is no accepted type, refused beside the file field."""
    link = submit_idea_to(world.server, world.open_year, title="Feil vedlegg").split("?")[0]
    visit(lambda w: link)(page, world)
    page.locator("#f-file").set_input_files(
        files=[{"name": "side.pdf", "mimeType": "application/pdf", "buffer": b"<html></html>"}]
    )
    post(page, "form.attachment-form button[type=submit]", 400)
    expect(page.locator("#f-file-error")).to_be_visible()
    return 400


def ballot_after_voting(page: Page, world: World) -> int:
    visit(lambda w: f"/p/{w.code('open')}")(page, world)
    page.locator("label.choice").first.click()
    page.locator("#ballot button[type=submit]").click()
    expect(page.locator("#status")).not_to_be_empty(timeout=WAIT_MS)
    return 200


def approval_after_voting(page: Page, world: World) -> int:
    """Tick two, have a third refused with a note, vote: the confirmation and receipt."""
    visit(lambda w: f"/p/{w.code('approval')}")(page, world)
    for index in range(3):
        page.locator("label.choice").nth(index).click()
    expect(page.locator("#approval-note")).not_to_be_empty()
    page.locator("#ballot button[type=submit]").click()
    expect(page.locator("#confirmation .receipt-code")).not_to_be_empty(timeout=WAIT_MS)
    return 200


def badge_code_refused(page: Page, world: World) -> int:
    visit(lambda w: f"/p/{w.code('badge')}")(page, world)
    page.locator("#badge-code").fill("ZZZZZ-ZZZZZ")
    return post(page, "#badge-form button[type=submit]", 403)


def receipt(page: Page, world: World) -> int:
    ballot_after_voting(page, world)
    return visit(lambda w: f"/p/{w.code('open')}/kvittering")(page, world)


def stage_open(page: Page, world: World) -> int:
    """The stage of the open poll, once the stream has drawn the counts."""
    visit(lambda w: f"/s/{w.code('open')}")(page, world)
    expect(page.locator(".bar-count").first).not_to_have_text("–", timeout=WAIT_MS)
    page.wait_for_function("() => document.querySelector('img.qr').complete")
    return 200


def stage_podium(page: Page, world: World) -> int:
    """The stage of the closed poll with all three places revealed."""
    visit(lambda w: f"/s/{w.code('closed')}")(page, world)
    expect(page.locator("#podium li")).to_have_count(3, timeout=WAIT_MS)
    return 200


def people_after_invitation(page: Page, world: World) -> int:
    visit(lambda w: "/admin/people")(page, world)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.locator("#f-email").fill(f"koordinator-{width}@example.no")
    page.locator("input[name=role][value=coordinator]").check()
    page.locator("#f-network_id").select_option(index=1)
    post(page, "main form.stack button[type=submit]", 200)
    expect(page.locator("#invitation-link")).to_be_visible()
    return 200


def sheet_with_errors(page: Page, world: World) -> int:
    """Two bad scores on a sheet: both reported at once, each beside its field."""
    visit(lambda w: f"/admin/contest/{w.jury_year}/jury/{w.unscored_id}")(page, world)
    page.locator("main input[name^=score_]").nth(0).fill("99")
    page.locator("main input[name^=score_]").nth(1).fill("fire")
    post(page, "main form.scores button[type=submit]", 400)
    expect(page.locator("#error-summary a[href^='#f-score_']")).to_have_count(2)
    expect(page.locator("main .field-error")).to_have_count(2)
    return 400


def jury_reminded(page: Page, world: World) -> int:
    """The progress grid after a reminder (no mail server here: it says it did not go)."""
    visit(year_path("/jury/progress"))(page, world)
    post(page, "main form[action$='/remind'] button", 200)
    expect(page.locator("main .notice[role=status]")).to_be_visible()
    return 200


def theme_with_errors(page: Page, world: World) -> int:
    """The theme form refusing a grey background that no text reads on."""
    visit(lambda w: "/admin/theme")(page, world)
    page.locator("#f-background").fill("#777777")
    post(page, "main form.stack button[type=submit]", 400)
    expect(page.locator("#f-background-error")).to_be_visible()
    return 400


def theme_saved(page: Page, world: World) -> int:
    """The theme form after saving an SVG logo through the browser: the logo, its removal
    box and the preview drawn with it."""
    visit(lambda w: "/admin/theme")(page, world)
    page.locator("#f-logo").set_input_files(
        files=[{"name": "logo.svg", "mimeType": "image/svg+xml", "buffer": THEME_LOGO}]
    )
    post(page, "main form.stack button[type=submit]", 200)
    expect(page.locator("input[name=remove_logo]")).to_be_visible()
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth)")
    return 200


def fill_poll_form(page: Page, world: World, k: str) -> None:
    """The new poll form with a title and three finalists, approval with `k`, badges."""
    visit(lambda w: "/admin/polls/new")(page, world)
    page.locator("#title").fill("Godkjenning")
    page.locator("input[name=method][value=approval]").check()
    page.locator("input[name=eligibility][value=badge]").check()
    page.locator("#max_choices").fill(k)
    for number, name in enumerate(("Alfa", "Bravo", "Charlie"), start=1):
        page.locator(f"#name_{number}").fill(name)


def poll_form_with_errors(page: Page, world: World) -> int:
    """The poll form refusing approval's k, the error beside its field."""
    fill_poll_form(page, world, "9")
    post(page, "form.poll-form button[type=submit]", 400)
    expect(page.locator("#max_choices-error")).to_be_visible()
    return 400


def poll_draft_drawn(page: Page, world: World) -> int:
    """A draft's form after drawing its stage order (the draw button and its notice)."""
    fill_poll_form(page, world, "2")
    post(page, "form.poll-form button[type=submit]", 200)  # to the console
    page.goto(page.url.split("?")[0] + "/edit")
    post(page, "form[action$='/edit/draw-order'] button", 200)
    expect(page.locator(".notice[role=status]")).to_be_visible()
    return 200


def badges_path(world: World) -> str:
    return f"/admin/polls/{world.poll_id('badge')}/badges"


def badge(world: World) -> str:
    """The first badge of the badge poll."""
    code: str = world.polls["badge"]["badges"][0]["code"]
    return code


def badges_printed(page: Page, world: World) -> int:
    """The badge sheets as the printer gets them (print media: the sheets alone)."""
    visit(lambda w: f"{badges_path(w)}/print")(page, world)
    page.emulate_media(media="print")
    return 200


def console_path(world: World) -> str:
    """The host console of the open poll."""
    return f"/admin/polls/{world.poll_id('open')}"


def console_close_dialog(page: Page, world: World) -> int:
    """The console's close dialog, once its confirm button has armed (nothing is closed)."""
    visit(console_path)(page, world)
    page.locator('#console button[data-intent="close-step"]').click()
    expect(page.locator("#close-confirm")).to_be_enabled(timeout=WAIT_MS)
    return 200


def statement_preview(page: Page, world: World) -> int:
    """The privacy statement's editor showing the preview of the texts in the form."""
    visit(lambda w: "/admin/statements/privacy")(page, world)
    post(page, "main button[name=action][value=preview]", 200)
    expect(page.locator("#preview-title")).to_be_visible()
    return 200


def statement_with_errors(page: Page, world: World) -> int:
    """The accessibility statement's editor refusing an empty bokmål text."""
    visit(lambda w: "/admin/statements/accessibility")(page, world)
    page.locator("#f-text_nb").fill("")
    post(page, "main button[name=action][value=save]", 400)
    expect(page.locator("#f-text_nb-error")).to_be_visible()
    return 400


def privacy_found(page: Page, world: World) -> int:
    """The personal data page after looking up the contact person of the world's ideas."""
    visit(lambda w: "/admin/privacy")(page, world)
    page.locator("#f-email").fill("kari.nordmann@stavanger.kommune.no")
    post(page, 'main form[action$="/admin/privacy"] button', 200)
    expect(page.locator("#found-title")).to_be_visible()
    return 200


def privacy_erase_step(page: Page, world: World) -> int:
    """The erasure's confirmation page (nothing is erased)."""
    privacy_found(page, world)
    return post(page, 'main form[action$="/admin/privacy/erase"] button', 200)


def privacy_erased(page: Page, world: World) -> int:
    """What is left after erasing the contact details of an idea sent for this case."""
    address = f"slett.{secrets.token_hex(4)}@example.no"
    submit_idea_to(world.server, world.open_year, contact_email=address)
    visit(lambda w: "/admin/privacy")(page, world)
    page.locator("#f-email").fill(address)
    post(page, 'main form[action$="/admin/privacy"] button', 200)
    post(page, 'main form[action$="/admin/privacy/erase"] button', 200)
    page.locator("input[name=confirm]").check()
    return post(page, 'main form[action$="/admin/privacy/erase"] button[type=submit]', 200)


def privacy_erase_unticked(page: Page, world: World) -> int:
    """The confirmation sent without its box ticked: refused, nothing erased."""
    privacy_erase_step(page, world)
    return post(page, 'main form[action$="/admin/privacy/erase"] button[type=submit]', 400)


def stage_footer_focused(page: Page, world: World) -> int:
    """The stage hides the statements' footer from the projector until a keyboard reaches it."""
    stage_open(page, world)
    expect(page.locator(".site-foot")).to_have_css("position", "absolute")
    page.locator(".site-foot a").first.focus()
    expect(page.locator(".site-foot")).to_have_css("position", "fixed")
    expect(page.locator(".site-foot a").first).to_be_visible()
    return 200


THEME_LOGO = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 20" width="80" height="40">'
    b'<rect width="40" height="20" rx="3" fill="#f2b705"/></svg>'
)
ATTACHMENT_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PHONE_ONLY = ("phone",)
BOTH = ("phone", "desktop")


@dataclass(frozen=True)
class Case:
    name: str
    who: str | None  # the role logged in, or None for the public
    open: Opener
    viewports: tuple[str, ...] = BOTH


def year_path(suffix: str, year: str = "jury_year") -> Callable[[World], str]:
    return lambda w: f"/admin/contest/{getattr(w, year)}{suffix}"


# Voters meet the finale on their phones, so those pages are checked on a phone; the idea
# form and the admin pages are used on both. (Only the media queries differ between the two,
# so a desktop run of every voter page would add time, not findings.)
CASES = [
    # The public: joining the finale, the ballot and its receipt, the stage screen.
    Case("join", None, visit(lambda w: "/"), PHONE_ONLY),
    Case("join-unknown-code", None, visit(lambda w: "/join?code=NOPE", 404), PHONE_ONLY),
    Case("ballot", None, visit(lambda w: f"/p/{w.code('open')}"), PHONE_ONLY),
    Case("ballot-voted", None, ballot_after_voting, PHONE_ONLY),
    Case("ballot-finale", None, ballot_with_finalists_link, PHONE_ONLY),
    Case("ballot-ranked", None, visit(lambda w: f"/p/{w.code('ranked')}"), PHONE_ONLY),
    Case("ballot-closed", None, visit(lambda w: f"/p/{w.code('closed')}"), PHONE_ONLY),
    Case("receipt", None, receipt, PHONE_ONLY),
    Case("ballot-approval", None, visit(lambda w: f"/p/{w.code('approval')}"), PHONE_ONLY),
    Case("ballot-approval-voted", None, approval_after_voting, PHONE_ONLY),
    Case("ballot-badge", None, visit(lambda w: f"/p/{w.code('badge')}"), PHONE_ONLY),
    Case("ballot-badge-refused", None, badge_code_refused, PHONE_ONLY),
    Case("not-found", None, visit(lambda w: "/p/NOPE", 404), PHONE_ONLY),
    Case("stage-open", None, stage_open, ("projector",)),
    Case("stage-podium", None, stage_podium, ("projector",)),
    Case("stage-footer-focused", None, stage_footer_focused, ("projector",)),
    # The public: the statements linked from every page's footer.
    Case("privacy", None, visit(lambda w: "/personvern")),
    Case("privacy-en", None, visit(lambda w: "/personvern?lang=en"), PHONE_ONLY),
    Case("accessibility", None, visit(lambda w: "/tilgjengelighet?lang=nn")),
    Case("bulletin", None, visit(lambda w: f"/p/{w.code('closed')}/bulletin")),
    Case(
        "bulletin-receipt",
        None,
        visit(lambda w: f"/p/{w.code('closed')}/bulletin?receipt=ZZZZ-ZZZZ"),
        PHONE_ONLY,
    ),
    # The public: the call for ideas and the idea form.
    Case("call", None, visit(lambda w: "/ideer"), PHONE_ONLY),
    Case("idea-form", None, visit(lambda w: f"/ideer/{w.open_year}/ny")),
    Case("idea-form-errors", None, idea_form_with_errors),
    Case("idea-submitted", None, visit(lambda w: w.private_link)),
    Case("idea-draft", None, idea_draft, PHONE_ONLY),
    Case("idea-withdraw-confirm", None, visit(lambda w: f"{w.private_link.split('?')[0]}/trekk")),
    Case("idea-withdrawn", None, idea_withdrawn),
    Case("idea-attachment", None, idea_with_attachment),
    Case("idea-attachment-refused", None, idea_attachment_refused),
    # Logging in, and an invited person choosing a password.
    Case("login", None, visit(lambda w: "/admin/login")),
    Case("invitation", None, visit(lambda w: w.invitation), PHONE_ONLY),
    # Organisers: the finale polls.
    Case("dashboard", "organiser", visit(lambda w: "/admin")),
    Case("poll-new", "organiser", visit(lambda w: "/admin/polls/new")),
    Case("poll-new-errors", "organiser", poll_form_with_errors),
    Case("poll-draft-drawn", "organiser", poll_draft_drawn),
    Case("poll-open", "organiser", visit(lambda w: f"/admin/polls/{w.poll_id('open')}")),
    Case("poll-closed", "organiser", visit(lambda w: f"/admin/polls/{w.poll_id('closed')}")),
    Case("poll-tied", "organiser", visit(lambda w: f"/admin/polls/{w.poll_id('tied')}")),
    Case("poll-confirm-close", "organiser", visit(lambda w: f"{console_path(w)}?confirm=close")),
    Case("poll-close-dialog", "organiser", console_close_dialog),
    # Hosts: the console runs the show; a tie offers lots, not a decision.
    Case("poll-open-host", "host", visit(console_path)),
    Case("poll-tied-host", "host", visit(lambda w: f"/admin/polls/{w.poll_id('tied')}")),
    Case(
        "results-print-host", "host", visit(lambda w: f"/admin/polls/{w.poll_id('closed')}/results")
    ),
    # Organisers: the badges of a badge poll, revoking one, the sheets to print.
    Case("badges", "organiser", visit(badges_path)),
    Case("badges-revoke", "organiser", visit(lambda w: f"{badges_path(w)}?revoke={badge(w)}")),
    Case("badges-print", "organiser", visit(lambda w: f"{badges_path(w)}/print")),
    Case("badges-printed", "organiser", badges_printed, ("desktop",)),
    # Organisers: the contest.
    Case("contests", "organiser", visit(lambda w: "/admin/contest")),
    Case("contest-new", "organiser", visit(lambda w: "/admin/contest/new")),
    Case("contest", "organiser", visit(year_path(""))),
    Case("contest-edit", "organiser", visit(year_path("/edit"))),
    Case("ideas", "organiser", visit(year_path("/ideas"))),
    Case("ideas-filtered", "organiser", visit(year_path("/ideas?status=nominated"))),
    Case("ideas-compare-too-many", "organiser", compare_too_many),
    Case(
        "ideas-compared",
        "organiser",
        visit(lambda w: f"{year_path('/compare')(w)}?idea={w.idea_id}&idea={w.unscored_id}"),
    ),
    Case("contest-finalists", "organiser", visit(year_path("", "finale_year"))),
    Case("finalists-preview", "organiser", visit(lambda w: f"/ideer/{w.jury_year}/finalister")),
    Case("finalists-public", None, visit(lambda w: f"/ideer/{w.finale_year}/finalister")),
    Case("idea", "organiser", visit(lambda w: f"/admin/contest/{w.jury_year}/ideas/{w.idea_id}")),
    Case("criteria", "organiser", visit(year_path("/criteria", "open_year"))),
    Case("criteria-locked", "organiser", visit(year_path("/criteria"))),
    Case("ranking", "organiser", visit(year_path("/ranking"))),
    Case("people", "organiser", visit(lambda w: "/admin/people")),
    Case("people-invited", "organiser", people_after_invitation),
    Case("audit", "organiser", visit(lambda w: "/admin/audit")),
    Case("audit-filtered", "organiser", visit(lambda w: "/admin/audit?subject=idea&who=a")),
    Case("api-tokens", "organiser", visit(lambda w: "/admin/tokens")),
    Case("organisations", "organiser", visit(lambda w: "/admin/organisations")),
    Case("theme", "organiser", visit(lambda w: "/admin/theme")),
    Case("theme-errors", "organiser", theme_with_errors),
    Case("theme-saved", "organiser", theme_saved),
    Case("statement", "organiser", visit(lambda w: "/admin/statements/privacy")),
    Case("statement-preview", "organiser", statement_preview),
    Case("statement-errors", "organiser", statement_with_errors),
    Case("privacy", "organiser", visit(lambda w: "/admin/privacy")),
    Case("privacy-found", "organiser", privacy_found),
    Case("privacy-erase", "organiser", privacy_erase_step),
    Case("privacy-erase-unticked", "organiser", privacy_erase_unticked),
    Case("privacy-erased", "organiser", privacy_erased),
    # The jury.
    Case("jury", "jury", visit(year_path("/jury"))),
    Case("jury-sheet", "jury", visit(lambda w: f"{year_path('/jury')(w)}/{w.unscored_id}")),
    Case("jury-sheet-errors", "jury", sheet_with_errors),
    Case("jury-assign", "organiser", visit(year_path("/jury/assign"))),
    Case("jury-progress", "organiser", visit(year_path("/jury/progress"))),
    Case("jury-reminded", "organiser", jury_reminded),
]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:3]]
        more = len(violation["nodes"]) - len(targets)
        lines.append(
            f"  {violation['id']} ({violation['impact']}): {violation['help']}"
            f" <{violation['helpUrl']}>"
            f"\n    at {' | '.join(targets)}{f' and {more} more' if more > 0 else ''}"
        )
    return "\n".join(lines)


Contexts = Callable[[str | None, str], BrowserContext]


@pytest.fixture(scope="module")
def contexts(browser: Browser, world: World) -> Iterator[Contexts]:
    """One browser context per role and viewport, made when first asked for; the public's
    cookies are cleared each time, so no page sees a vote cast on another."""
    made: dict[tuple[str | None, str], BrowserContext] = {}

    def context_for(who: str | None, viewport: str) -> BrowserContext:
        if (who, viewport) not in made:
            phone = viewport == "phone"
            made[who, viewport] = browser.new_context(
                viewport=VIEWPORTS[viewport],
                is_mobile=phone,
                has_touch=phone,
                storage_state=world.states[who] if who else None,
            )
        context = made[who, viewport]
        if who is None:
            context.clear_cookies()
        return context

    yield context_for
    for context in made.values():
        context.close()


@pytest.mark.parametrize(
    ("case", "viewport"),
    [pytest.param(c, v, id=f"{c.name}-{v}") for c in CASES for v in c.viewports],
)
def test_page_has_no_wcag_violations(
    world: World, contexts: Contexts, artifacts: Path, case: Case, viewport: str
) -> None:
    page = contexts(case.who, viewport).new_page()
    try:
        problems = watch_errors(page, f"{world.url}/ideer/{world.open_year}/ny")
        status = case.open(page, world)
        page.wait_for_function(SETTLED_JS, timeout=WAIT_MS)
        violations = AXE.run(page, options=AXE_OPTIONS).response["violations"]
        if violations:
            page.screenshot(path=str(artifacts / f"axe-{case.name}-{viewport}.png"), full_page=True)
        assert not violations, (
            f"{case.name} ({viewport}, {page.url}) breaks WCAG 2.1 AA:\n{describe(violations)}"
        )
        # WCAG 1.4.10 Reflow, which axe does not check: no sideways scrolling of the page.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= VIEWPORTS[viewport]["width"], f"{case.name}: {width}px wide"
        if status >= 400:  # Chromium logs the page's own error status; that is the point here
            problems = [p for p in problems if f"status of {status}" not in p]
        assert problems == [], f"{case.name}: {problems}"
    finally:
        page.close()
