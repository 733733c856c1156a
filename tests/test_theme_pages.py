"""The finale theme over HTTP: the organisers' form, the logo served safely, the stylesheet."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from live.finale.theme import LOGO_MAX_BYTES, RECORD_KEY, RECORD_KIND
from live.store.models import FinalistDraft, PollDraft, Role
from live.tally import Method
from tests.conftest import BASE_URL, log_in, make_user, services_of
from tests.test_finale_theme import SVG_LOGO, png

pytestmark = pytest.mark.asyncio

PAGE = "/admin/theme"
FIELDS = {
    "background": "#ffffff",
    "accent": "#0b5394",
    "title_nb": "Finalen i idékonkurransen",
    "title_nn": "Finalen i idékonkurransen",
    "title_en": "The idea competition finale",
}
SCRIPTED_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>"
)


@contextlib.asynccontextmanager
async def login(app: Starlette, role: Role) -> AsyncIterator[httpx.AsyncClient]:
    email = f"{role.value}@ks.no"
    await make_user(app, email, role)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        assert (await log_in(http, email)).status_code == 303
        yield http


@pytest_asyncio.fixture
async def organiser(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with login(app, Role.ORGANISER) as http:
        yield http


async def form_of(http: httpx.AsyncClient, path: str = PAGE) -> dict[str, str]:
    """The hidden fields the page carries (CSRF token and the version it shows)."""
    page = await http.get(path)
    assert page.status_code == 200, page.text
    hidden = r'<input type="hidden" name="(csrf|version)" value="([^"]*)"'
    found = dict(re.findall(hidden, page.text))
    assert set(found) == {"csrf", "version"}, "the theme form lacks its hidden fields"
    return found


async def save(
    http: httpx.AsyncClient,
    logo: tuple[str, bytes, str] | None = None,
    path: str = PAGE,
    **fields: str,
) -> httpx.Response:
    data: dict[str, Any] = {**await form_of(http), **FIELDS, **fields}
    files = {"logo": logo} if logo else {"logo": ("", b"", "application/octet-stream")}
    return await http.post(path, data=data, files=files)


async def saved_record(app: Starlette) -> Any:
    return await services_of(app).store.get_record(RECORD_KIND, RECORD_KEY)


async def test_only_organisers_may_open_or_change_the_theme(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    assert (await client.get(PAGE)).headers["location"].startswith("/admin/login")
    for role in (Role.HOST, Role.COORDINATOR, Role.JURY):
        async with login(app, role) as http:
            assert (await http.get(PAGE)).status_code == 403
            refused = await http.post(PAGE, data={**FIELDS, "csrf": "x", "version": "0"})
            assert refused.status_code == 403
    assert await saved_record(app) is None


async def test_a_forged_csrf_token_is_refused(app: Starlette, organiser: httpx.AsyncClient) -> None:
    answer = await organiser.post(PAGE, data={**FIELDS, "csrf": "forged", "version": "0"})
    assert answer.status_code == 403
    assert await saved_record(app) is None


async def test_the_page_shows_the_stage_colours_until_a_theme_is_saved(
    organiser: httpx.AsyncClient,
) -> None:
    page = await organiser.get(PAGE)
    assert 'value="#0b1f33"' in page.text and 'value="#f2b705"' in page.text
    assert re.search(r'href="/theme\.css\?v=[0-9a-f]{12}"', page.text)
    assert 'class="theme-preview"' in page.text


async def test_a_saved_theme_is_audited_and_served(
    app: Starlette, organiser: httpx.AsyncClient
) -> None:
    answer = await save(organiser, logo=("logo.png", png(), "image/png"))
    assert answer.status_code == 303, answer.text
    page = await organiser.get(answer.headers["location"])
    assert 'role="status"' in page.text and 'value="The idea competition finale"' in page.text
    record = await saved_record(app)
    assert record.version == 1 and record.data["logo"]["media_type"] == "image/png"
    [entry] = [e for e in await services_of(app).store.list_audit() if e.action == "theme.update"]
    assert entry.actor == "organiser@ks.no" and entry.subject == "theme:finale"
    assert entry.before is None and entry.after["accent"] == "#0b5394"

    css = await organiser.get("/theme.css")
    assert css.headers["content-type"].startswith("text/css")
    assert "--stage-bg:#ffffff;--stage-fg:#111111;--stage-accent:#0b5394;" in css.text
    logo = await organiser.get("/theme/logo")
    assert logo.content == png() and logo.headers["content-type"] == "image/png"
    assert logo.headers["content-disposition"] == 'inline; filename="logo.png"'
    assert logo.headers["x-content-type-options"] == "nosniff"


async def test_a_colour_pair_below_wcag_aa_is_refused_naming_both_colours_and_the_ratio(
    app: Starlette, organiser: httpx.AsyncClient
) -> None:
    answer = await save(organiser, background="#777777", accent="#808080")
    assert answer.status_code == 400
    error = re.search(r'id="f-background-error">([^<]+)<', answer.text)
    assert error, "no error beside the background field"
    assert "#777777" in error.group(1) and "#ffffff" in error.group(1)
    assert "4,47" in error.group(1)  # Norwegian decimal comma
    assert 'aria-invalid="true"' in answer.text and 'id="error-summary"' in answer.text
    assert await saved_record(app) is None
    accent = re.search(r'id="f-accent-error">([^<]+)<', answer.text)
    assert accent and "#808080" in accent.group(1), "the accent's own problem is shown too"

    english = await save(organiser, path=f"{PAGE}?lang=en", background="#777777")
    assert english.status_code == 400 and "4.47:1" in english.text


async def test_the_accent_needs_3_to_1_against_the_background(organiser: httpx.AsyncClient) -> None:
    answer = await save(organiser, background="#0b1f33", accent="#1a2f44")
    assert answer.status_code == 400
    error = re.search(r'id="f-accent-error">([^<]+)<', answer.text)
    assert error and "#1a2f44" in error.group(1) and "#0b1f33" in error.group(1)
    assert "1,21" in error.group(1)


async def test_the_colour_picker_counts_when_the_text_field_was_left_alone(
    app: Starlette, organiser: httpx.AsyncClient
) -> None:
    answer = await save(
        organiser,
        background="#0b1f33",
        background_shown="#0b1f33",
        background_picker="#ffffff",
    )
    assert answer.status_code == 303, answer.text
    assert (await saved_record(app)).data["background"] == "#ffffff"


async def test_a_too_long_title_is_refused_and_shown_again_whole(
    app: Starlette, organiser: httpx.AsyncClient
) -> None:
    long_title = "Finalen " + "x" * 115  # 123 characters
    answer = await save(organiser, title_nn=long_title)
    assert answer.status_code == 400
    error = re.search(r'id="f-title_nn-error">([^<]+)<', answer.text)
    assert error and "123" in error.group(1) and "120" in error.group(1)
    assert f'value="{long_title}"' in answer.text  # not cut
    assert await saved_record(app) is None
    assert (await save(organiser, title_nn="x" * 120)).status_code == 303


async def test_an_svg_logo_is_served_in_a_sandbox(organiser: httpx.AsyncClient) -> None:
    answer = await save(organiser, logo=("logo.svg", SCRIPTED_SVG, "image/svg+xml"))
    assert answer.status_code == 303, answer.text
    logo = await organiser.get("/theme/logo")
    assert logo.status_code == 200 and logo.content == SCRIPTED_SVG
    assert logo.headers["content-type"] == "image/svg+xml"
    policy = logo.headers["content-security-policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script" not in policy
    assert logo.headers["x-content-type-options"] == "nosniff"
    assert logo.headers["content-disposition"] == 'inline; filename="logo.svg"'


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("notes.txt", b"not an image at all"),
        ("logo.png", b"a text file renamed to look like a PNG"),
        ("logo.svg", b"<html><script>alert(1)</script></html>"),
        ("logo.svg", b'<!DOCTYPE svg [<!ENTITY a "a">]><svg xmlns="http://www.w3.org/2000/svg"/>'),
    ],
)
async def test_a_file_that_is_not_a_png_or_svg_is_refused(
    app: Starlette, organiser: httpx.AsyncClient, filename: str, content: bytes
) -> None:
    answer = await save(organiser, logo=(filename, content, "image/png"))
    assert answer.status_code == 400
    error = re.search(r'id="f-logo-error">([^<]+)<', answer.text)
    assert error and "PNG" in error.group(1) and "SVG" in error.group(1)
    assert await saved_record(app) is None


async def test_an_oversized_logo_is_refused_with_its_size(
    app: Starlette, organiser: httpx.AsyncClient
) -> None:
    big = png() + b"\x00" * LOGO_MAX_BYTES  # over the logo limit, under the request limit
    answer = await save(organiser, logo=("logo.png", big, "image/png"))
    assert answer.status_code == 400
    error = re.search(r'id="f-logo-error">([^<]+)<', answer.text)
    assert error and "201" in error.group(1) and "200" in error.group(1)

    huge = png() + b"\x00" * (400 * 1024)  # over the limit of any request
    answer = await save(organiser, logo=("logo.png", huge, "image/png"))
    assert answer.status_code == 413
    error = re.search(r'id="f-logo-error">([^<]+)<', answer.text)
    assert error and "200" in error.group(1)
    assert await saved_record(app) is None


async def test_a_good_logo_is_kept_while_colours_change_and_can_be_removed(
    app: Starlette, organiser: httpx.AsyncClient
) -> None:
    assert (await save(organiser, logo=("logo.png", png(), "image/png"))).status_code == 303
    assert (await save(organiser, accent="#a4262c")).status_code == 303
    record = await saved_record(app)
    assert record.version == 2 and record.data["logo"] is not None
    assert 'name="remove_logo"' in (await organiser.get(PAGE)).text
    assert (await save(organiser, remove_logo="1")).status_code == 303
    assert (await saved_record(app)).data["logo"] is None
    assert (await organiser.get("/theme/logo")).status_code == 404


async def test_a_form_from_before_someone_elses_save_is_refused(
    app: Starlette, organiser: httpx.AsyncClient
) -> None:
    stale = await form_of(organiser)
    assert (await save(organiser)).status_code == 303
    answer = await organiser.post(PAGE, data={**stale, **FIELDS, "accent": "#a4262c"})
    assert answer.status_code == 409
    assert (await saved_record(app)).data["accent"] == "#0b5394"
    # A form shown again after an error keeps the version it was made from.
    refused = await organiser.post(PAGE, data={**stale, **FIELDS, "title_en": "x" * 121})
    assert refused.status_code == 400
    assert '<input type="hidden" name="version" value="0">' in refused.text


async def test_the_stylesheet_and_logo_cache_for_a_year_only_under_their_stamp(
    app: Starlette, organiser: httpx.AsyncClient
) -> None:
    default = await organiser.get("/theme.css")
    assert default.headers["cache-control"] == "no-cache"
    assert "--stage-bg:#0b1f33;" in default.text
    assert (await save(organiser, logo=("logo.svg", SVG_LOGO, "image/svg+xml"))).status_code == 303
    page = (await organiser.get(PAGE)).text
    stamp = re.search(r'href="/theme\.css\?v=([0-9a-f]{12})"', page)
    assert stamp and f'src="/theme/logo?v={stamp.group(1)}"' in page
    for path in ("/theme.css", "/theme/logo"):
        current = await organiser.get(f"{path}?v={stamp.group(1)}")
        assert current.headers["cache-control"] == "public, max-age=31536000, immutable"
        old = await organiser.get(f"{path}?v=000000000000")
        assert old.headers["cache-control"] == "no-cache"
        again = await organiser.get(path, headers={"If-None-Match": current.headers["etag"]})
        assert again.status_code == 304 and again.content == b""


async def test_the_theme_partial_links_the_stylesheet_only_when_a_theme_is_set(
    app: Starlette, organiser: httpx.AsyncClient
) -> None:
    services = services_of(app)
    render = services.templates.env.get_template("_theme.html").render
    url_for = lambda route, **params: str(app.url_path_for(route, **params))  # noqa: E731
    assert render(theme=None, url_for=url_for).strip() == ""
    assert (await save(organiser)).status_code == 303
    theme = await services.theme.current()
    assert theme is not None and theme.version == 1
    html = render(theme=theme, url_for=url_for)
    assert f'<link rel="stylesheet" href="/theme.css?v={theme.stamp}">' in html


async def test_the_stage_wears_the_theme(app: Starlette, organiser: httpx.AsyncClient) -> None:
    poll = await services_of(app).store.create_poll(
        PollDraft("Finalen", Method.SINGLE, 1, (FinalistDraft("A"), FinalistDraft("B"))),
        actor="org@example.no",
    )
    plain = await organiser.get(f"/s/{poll.code}")
    assert "/theme.css" not in plain.text and "/theme/logo" not in plain.text
    answer = await save(organiser, logo=("logo.svg", SCRIPTED_SVG, "image/svg+xml"))
    assert answer.status_code == 303, answer.text
    theme = await services_of(app).theme.current()
    assert theme is not None
    stage = await organiser.get(f"/s/{poll.code}")
    assert f'href="/theme.css?v={theme.stamp}"' in stage.text
    assert f'src="/theme/logo?v={theme.stamp}"' in stage.text
    assert f'class="stage-show">{theme.title("nb")}<' in stage.text
