"""The privacy and accessibility statements: the text format, the shipped texts, the public
pages in three languages, the organisers' editor, and the footer that links both from
every page."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.routing import Route

from live.contest.statements import (
    ACCESSIBILITY,
    KEYS,
    LANGUAGES,
    PRIVACY,
    RECORD_KIND,
    TEXT_MAX_CHARACTERS,
    Block,
    Span,
    default_texts,
    linked,
    parse,
    placeholders,
    tidy,
)
from live.store.models import Role
from tests.conftest import BASE_URL, api_headers, log_in, make_user, open_poll, services_of
from tests.support.contest import idea_form

OSLO = ZoneInfo("Europe/Oslo")
PAGES = {PRIVACY: "/personvern", ACCESSIBILITY: "/tilgjengelighet"}
YEAR = 2033


# The text format ---------------------------------------------------------------------


def test_the_format_reads_headings_paragraphs_and_lists() -> None:
    text = (
        "Første avsnitt\nfortsetter her.\n\n## Overskrift\nEtter overskriften.\n\n"
        "### Mindre\n- ett\n- to som\n  fortsetter\n\n#emneknagg"
    )
    assert parse(text) == [
        Block("p", ("Første avsnitt fortsetter her.",)),
        Block("h2", ("Overskrift",)),
        Block("p", ("Etter overskriften.",)),
        Block("h3", ("Mindre",)),
        Block("ul", ("ett", "to som fortsetter")),
        Block("p", ("#emneknagg",)),
    ]


def test_only_web_and_mail_addresses_become_links() -> None:
    assert linked("Se https://www.datatilsynet.no/. Skriv til post@ks.no, takk.") == [
        Span("Se "),
        Span("https://www.datatilsynet.no/", "https://www.datatilsynet.no/"),
        Span(". Skriv til "),
        Span("post@ks.no", "mailto:post@ks.no"),
        Span(", takk."),
    ]
    for text in ("javascript:alert(1)", "data:text/html,<b>", "ftp://example.no", "https://"):
        assert all(span.href is None for span in linked(text)), text


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400))
def test_tidy_keeps_the_blocks_and_is_stable(text: str) -> None:
    tidied = tidy(text)
    assert parse(tidied) == parse(text)
    assert tidy(tidied) == tidied


# The shipped texts ---------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_the_default_texts_have_the_same_shape_in_every_language(key: str) -> None:
    """The nynorsk and English texts say what the bokmål one says: same blocks, same
    links, same places to fill in."""
    texts = default_texts(key)
    shapes = {
        language: [
            (block.kind, len(block.lines), [s.href for line in block.spans for s in line if s.href])
            for block in parse(text)
        ]
        for language, text in texts.items()
    }
    assert shapes["nn"] == shapes["nb"] == shapes["en"]
    counts = {language: len(placeholders(text)) for language, text in texts.items()}
    assert counts["nb"] == counts["nn"] == counts["en"] >= 1
    assert all(len(text) < TEXT_MAX_CHARACTERS / 2 for text in texts.values())


def test_the_privacy_statement_names_basis_retention_rights_and_complaint() -> None:
    nb = default_texts(PRIVACY)["nb"]
    for fact in (
        "KS",
        "artikkel 6 nr. 1 bokstav f",
        "6 måneder etter finalen",  # contact details of ideas that were not finalists
        "Serverlogger: slettes etter 30 dager",
        "Stemmenøkkelen i informasjonskapselen: 30 dager",
        "høyst 15 minutter",  # counters per address
        "uten personopplysninger",  # the ballots
        "live_voter",
        "live_lang",
        "adgangskort",
        "(innsyn)",
        "(retting)",
        "(sletting)",
        "(begrensning)",
        "(protest)",
        "(dataportabilitet)",
        "https://www.datatilsynet.no/",
    ):
        assert fact in nb, fact
    assert "Article 6(1)(f)" in default_texts(PRIVACY)["en"]


def test_the_accessibility_statement_follows_the_norwegian_model() -> None:
    nb = default_texts(ACCESSIBILITY)["nb"]
    for fact in (
        "delvis i samsvar med WCAG 2.1 nivå AA",
        "Storskjermen",
        "blir ikke kontrollert",  # texts and files from those who send ideas in
        "axe-core",
        "Chromium",
        "tastatur",
        "skjermleser",
        "kontrast",
        "Tilbakemelding",
        "Tilsynet for universell utforming av ikt",
        "https://www.uutilsynet.no/",
    ):
        assert fact in nb, fact


# The public pages ------------------------------------------------------------------------


def footer_links(html: str) -> list[str]:
    found = re.search(r'<footer class="site-foot">(.*?)</footer>', html, re.S)
    assert found, "the page has no footer"
    return re.findall(r'href="([^"]+)"', found.group(1))


def main_of(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


@pytest.mark.asyncio
@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_defaults_render_in_the_reader_s_language(
    client: httpx.AsyncClient, key: str, language: str
) -> None:
    page = await client.get(PAGES[key], params={"lang": language})
    assert page.status_code == 200
    assert f'<html lang="{language}">' in page.text
    main = main_of(page.text)
    first_heading = next(b for b in parse(default_texts(key)[language]) if b.kind == "h2")
    assert f"<h2>{first_heading.lines[0]}</h2>" in main.replace("&#39;", "'")
    assert "lang=" not in main.split("<nav")[0], "the text is in the page's own language"
    others = re.findall(r'href="\?lang=(\w+)"|href="[^"]+\?lang=(\w+)"', main)
    assert {a or b for a, b in others} == set(LANGUAGES) - {language}
    assert PAGES[next(k for k in KEYS if k != key)] in main
    assert footer_links(page.text) == ["/personvern", "/tilgjengelighet"]


@pytest.mark.asyncio
async def test_an_unknown_statement_is_not_found(app: Starlette) -> None:
    async with login(app, Role.ORGANISER) as http:
        assert (await http.get("/admin/statements/cookies")).status_code == 404


# The editor --------------------------------------------------------------------------------


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


def edit_path(key: str = PRIVACY) -> str:
    return f"/admin/statements/{key}"


async def hidden_fields(http: httpx.AsyncClient, key: str = PRIVACY) -> dict[str, str]:
    page = await http.get(edit_path(key))
    assert page.status_code == 200, page.text
    found = dict(
        re.findall(r'<input type="hidden" name="(csrf|version)" value="([^"]*)"', page.text)
    )
    assert set(found) == {"csrf", "version"}
    return found


async def send(
    http: httpx.AsyncClient, key: str = PRIVACY, action: str = "save", **fields: str
) -> httpx.Response:
    texts = {f"text_{language}": f"## {language}\n\nTekst." for language in LANGUAGES}
    data = {**await hidden_fields(http, key), **texts, "action": action, **fields}
    return await http.post(edit_path(key), data=data)


async def audit_of(app: Starlette) -> list[Any]:
    entries = await services_of(app).store.list_audit()
    return [entry for entry in entries if entry.subject.startswith(f"{RECORD_KIND}:")]


@pytest.mark.asyncio
@pytest.mark.parametrize("role", [Role.HOST, Role.JURY, Role.COORDINATOR])
async def test_only_organisers_edit_the_statements(
    app: Starlette, client: httpx.AsyncClient, role: Role
) -> None:
    for path in ("/admin/statements", edit_path()):
        answer = await client.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/admin/login")
    async with login(app, role) as http:
        assert (await http.get(edit_path())).status_code == 403
        page = await http.get("/admin")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        sent = await http.post(
            edit_path(),
            data={"csrf": token.group(1) if token else "", "version": "0", "text_nb": "Nei."},
        )
        assert sent.status_code == 403
    assert await services_of(app).store.get_record(RECORD_KIND, PRIVACY) is None
    assert (await client.get("/personvern")).status_code == 200


@pytest.mark.asyncio
async def test_a_forged_csrf_token_is_refused(app: Starlette, organiser: httpx.AsyncClient) -> None:
    answer = await send(organiser, csrf="forged")
    assert answer.status_code == 403
    assert await services_of(app).store.get_record(RECORD_KIND, PRIVACY) is None


@pytest.mark.asyncio
async def test_an_edit_is_shown_audited_and_checked_against_the_version_read(
    app: Starlette, organiser: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    assert (await organiser.get("/admin/statements")).headers["location"] == edit_path(PRIVACY)
    stale = await hidden_fields(organiser, ACCESSIBILITY)
    assert stale["version"] == "0"
    text = "Tilgjengelig\r\nfor alle.\n\n\n## Kontakt\n- uu@ks.no"
    saved = await send(organiser, ACCESSIBILITY, text_nb=text, text_nn="", text_en="In English.")
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{edit_path(ACCESSIBILITY)}?saved=1"
    [entry] = await audit_of(app)
    assert (entry.actor, entry.action, entry.subject) == (
        "organiser@ks.no",
        "statement.update",
        "statement:accessibility",
    )
    expected = {
        "nb": "Tilgjengelig for alle.\n\n## Kontakt\n\n- uu@ks.no",
        "nn": "",
        "en": "In English.",
    }
    assert entry.before is None and entry.after == {"texts": expected}

    page = main_of((await client.get("/tilgjengelighet")).text)
    assert "<p>Tilgjengelig for alle.</p>" in page
    assert '<li><a href="mailto:uu@ks.no">uu@ks.no</a></li>' in page
    nynorsk = main_of((await client.get("/tilgjengelighet?lang=nn")).text)
    assert '<div class="statement" lang="nb">' in nynorsk, "the bokmål text, marked as such"
    english = main_of((await client.get("/tilgjengelighet?lang=en")).text)
    assert "<p>In English.</p>" in english

    late = await organiser.post(
        edit_path(ACCESSIBILITY),
        data={**stale, "text_nb": "Mitt utkast", "text_nn": "", "text_en": "", "action": "save"},
    )
    assert late.status_code == 409
    assert "Mitt utkast</textarea>" in late.text, "the organiser's text is kept in the form"
    again = re.search(r'name="version" value="(\d+)"', late.text)
    assert again and again.group(1) == "1", "a second save replaces the newer text on purpose"
    assert len(await audit_of(app)) == 1


@pytest.mark.asyncio
async def test_markup_in_a_statement_is_shown_as_text(
    organiser: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    hostile = (
        '<script>alert("x")</script>\n\n## <img src=x onerror=alert(1)>\n\n'
        '- <a href="javascript:alert(1)">klikk</a> javascript:alert(2)\n\n'
        'https://ks.no/"onmouseover="alert(3)'
    )
    texts = {f"text_{language}": hostile for language in LANGUAGES}
    assert (await send(organiser, **texts)).status_code == 303
    for language in LANGUAGES:
        main = main_of((await client.get(f"/personvern?lang={language}")).text)
        assert "<script" not in main and "<img" not in main and '<a href="javascript' not in main
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in main
        assert "onmouseover=" not in main.replace("&#34;onmouseover=&#34;", "")
    page = await organiser.get(edit_path())
    assert "&lt;script&gt;" in page.text and "<script>alert" not in page.text


@pytest.mark.asyncio
async def test_preview_and_the_default_texts_write_nothing(
    app: Starlette, organiser: httpx.AsyncClient
) -> None:
    preview = await send(organiser, action="preview", text_nb="## Forhånd\n\nVises her.")
    assert preview.status_code == 200
    assert '<div class="statement" lang="nb">' in preview.text
    assert "<h4>Forhånd</h4>" in preview.text, "headings sit under the preview's own"
    reset = await send(organiser, action="reset", text_nb="Noe annet")
    assert reset.status_code == 200
    assert tidy(default_texts(PRIVACY)["nn"]) in reset.text.replace("&#39;", "'")
    assert "[FYLL INN" in reset.text and "statement-warning" in reset.text
    assert await services_of(app).store.get_record(RECORD_KIND, PRIVACY) is None
    assert await audit_of(app) == []


@pytest.mark.asyncio
async def test_texts_over_the_limit_or_without_bokmal_are_refused_by_field(
    app: Starlette, organiser: httpx.AsyncClient
) -> None:
    long = "x" * (TEXT_MAX_CHARACTERS + 1)
    answer = await send(organiser, text_nn=long, text_en=long)
    assert answer.status_code == 400
    assert 'href="#f-text_nn"' in answer.text and 'href="#f-text_en"' in answer.text
    assert f"{long}</textarea>" in answer.text, "what was typed comes back whole"
    empty = await send(organiser, text_nb="  \n\n ")
    assert empty.status_code == 400 and 'id="f-text_nb-error"' in empty.text
    assert await services_of(app).store.get_record(RECORD_KIND, PRIVACY) is None


# The footer on every page ------------------------------------------------------------------


async def _world(app: Starlette, organiser: httpx.AsyncClient) -> dict[str, str]:
    """A poll open for votes, an edition taking ideas with one submitted: what the
    pages with parameters need to show something."""
    poll = await open_poll(organiser, await api_headers(app, "api@ks.no"))
    page = (await organiser.get("/admin/contest/new")).text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    now = datetime.now(OSLO)
    moments = {
        name: (now + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")
        for days, name in enumerate(
            ("submission_deadline", "nomination_deadline", "jury_deadline", "finale_at"), 1
        )
    }
    made = await organiser.post(
        "/admin/contest/new",
        data={"csrf": token.group(1), "year": str(YEAR), "title": "T", "finalists": "5", **moments},
    )
    assert made.status_code == 303, made.text
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL
    ) as public:
        sent = await public.post(f"/ideer/{YEAR}/ny", data={**idea_form(), "action": "submit"})
    assert sent.status_code == 303, sent.text
    [idea] = await services_of(app).contest.ideas(YEAR)
    return {
        "code": poll["code"],
        "poll_id": str(poll["id"]),
        "year": str(YEAR),
        "idea_id": str(idea.id),
        "key": PRIVACY,
        "link": sent.headers["location"].rsplit("/", 1)[1],
        "token": "not-an-invitation",
        "what": "ideas",
        "number": "1",  # an idea's file (none attached: the error page)
    }


@pytest.mark.asyncio
async def test_every_page_links_both_statements_in_its_footer(
    app: Starlette, organiser: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    """Every page a GET reaches, for the public and for an organiser, error pages too."""
    values = await _world(app, organiser)
    paths = [
        re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], route.path)
        for route in app.routes
        if isinstance(route, Route) and "GET" in (route.methods or ())
    ]
    paths += ["/p/NOPE", "/no/such/page", "/ideer/lenke/forged", "/admin/contest/1999"]
    checked = set()
    for who, http in (("public", client), ("organiser", organiser)):
        for path in paths:
            if path.startswith("/api/"):
                continue
            answer = await http.get(path)
            if not answer.text.lower().startswith("<!doctype html>"):
                continue  # a redirect, a file, or a fragment that a page's script swaps in
            assert footer_links(answer.text) == ["/personvern", "/tilgjengelighet"], (who, path)
            checked.add((who, path, answer.status_code // 100))
    assert len(checked) >= 40, sorted(checked)
    statuses = {status for _, _, status in checked}
    assert statuses == {2, 4}, "both pages and error pages were checked"
    assert {"/", "/admin/login", f"/s/{values['code']}", f"/p/{values['code']}", "/ideer"} <= {
        path for who, path, _ in checked if who == "public"
    }
    assert {"/admin", "/admin/theme", f"/admin/contest/{YEAR}/ideas/{values['idea_id']}"} <= {
        path for who, path, _ in checked if who == "organiser"
    }


@pytest.mark.asyncio
async def test_the_stage_keeps_the_footer_for_keyboards_only(
    app: Starlette, organiser: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    values = await _world(app, organiser)
    stage = await client.get(f"/s/{values['code']}")
    assert '<body class="stage">' in stage.text
    assert footer_links(stage.text) == ["/personvern", "/tilgjengelighet"]
    css = (await client.get("/static/live.css")).text
    assert "body.stage .site-foot:not(:focus-within){position:absolute" in css
    assert "body.stage .site-foot:focus-within{position:fixed" in css
