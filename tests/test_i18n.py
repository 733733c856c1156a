"""Every string people can see is in every catalogue, with the same placeholders; the
language comes from `?lang=`, the switcher's cookie, then the browser's Accept-Language."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from live import i18n

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def extracted_messages() -> set[str]:
    method_map = [("live/**.py", "python"), ("live/templates/**.html", "jinja2")]
    options = {"live/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        str(ROOT),
        method_map,
        options_map=options,
        keywords={"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)},
    ):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.add(text)
    return found


@pytest.mark.parametrize("language", sorted(i18n.LANGUAGES))
def test_each_catalogue_translates_every_message(language: str) -> None:
    path = ROOT / "live" / "locale" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    translated = {m.id: m.string for m in catalogue if m.id and isinstance(m.id, str)}
    missing = sorted(extracted_messages() - {k for k, v in translated.items() if v})
    assert not missing, f"{language} lacks translations for: {missing}"
    for msgid, text in translated.items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(str(text))), msgid


def test_bokmal_is_the_default_and_unknown_languages_fall_back() -> None:
    assert i18n.pick_language(None, None) == "nb"
    assert i18n.pick_language("de", None) == "nb"
    assert i18n.pick_language(None, "nn") == "nn"
    assert i18n.pick_language("en", "nn") == "en"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("nn", "nn"),
        ("nn-NO", "nn"),
        ("nb", "nb"),
        ("nb-NO", "nb"),
        ("no", "nb"),
        ("no-NO", "nb"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("EN-gb", "en"),
        ("de-DE,de;q=0.9,en;q=0.8,nb;q=0.7", "en"),
        ("en;q=0.5,nn;q=0.8", "nn"),  # highest q first, wherever it stands
        ("nn;q=0.8,en;q=0.8", "nn"),  # a tie goes to the first listed
        ("en;q=0.8,nn;q=0.8", "en"),
        ("nn;q=0,en", "en"),  # q=0: not wanted
        ("*", None),
        ("de, fr;q=0.9, *;q=0.1", None),
        ("", None),
        (None, None),
        ("nn;q=abc, en;q=0.3", "en"),  # an unreadable weight counts as not asked for
        ("nn;q=2", None),
        (";;,,=;q=,nb_NO", "nb"),
    ],
)
def test_accept_language_picks_our_best_language(header: str | None, language: str | None) -> None:
    assert i18n.parse_accept_language(header) == language


@given(st.text())
def test_any_accept_language_header_gives_an_answer(header: str) -> None:
    assert i18n.parse_accept_language(header) in (None, *i18n.LANGUAGES)
    assert i18n.pick_language(None, None, header) in i18n.LANGUAGES


def test_the_query_beats_the_cookie_which_beats_the_header() -> None:
    assert i18n.pick_language("en", "nn", "nb") == "en"
    assert i18n.pick_language(None, "nn", "en") == "nn"
    assert i18n.pick_language("de", "fr", "en") == "en"


def _page_language(html: str) -> str:
    found = re.search(r'<html lang="(\w+)">', html)
    assert found, "no language on the page"
    return found.group(1)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("header", "language"),
    [("nn", "nn"), ("en-US,en;q=0.9", "en"), ("no", "nb"), ("nb-NO", "nb"), ("de", "nb")],
)
async def test_a_first_visit_gets_the_browser_s_language(
    client: httpx.AsyncClient, header: str, language: str
) -> None:
    page = await client.get("/", headers={"Accept-Language": header})
    assert page.status_code == 200
    assert _page_language(page.text) == language
    # No cache keeps a page, so one language is never served for another (no Vary needed).
    assert page.headers["cache-control"] == "no-store"


@pytest.mark.asyncio
async def test_the_switch_is_remembered_over_the_browser_s_language(
    client: httpx.AsyncClient,
) -> None:
    nynorsk = {"Accept-Language": "nn"}
    switched = await client.get("/lang", params={"lang": "en", "next": "/ideer"}, headers=nynorsk)
    assert switched.status_code == 303 and switched.headers["location"] == "/ideer"
    assert _page_language((await client.get("/ideer", headers=nynorsk)).text) == "en"
    asked = await client.get("/", params={"lang": "nb"}, headers=nynorsk)
    assert _page_language(asked.text) == "nb"  # ?lang= beats the cookie and the header
    assert _page_language((await client.get("/", headers=nynorsk)).text) == "en"


def test_ngettext_translates_each_form_by_number() -> None:
    token = i18n._current.set("nb")
    try:
        one = i18n.ngettext(
            "%(count)s flagged ballot still counts.",
            "%(count)s flagged ballots still count.",
            1,
            count="1",
        )
        many = i18n.ngettext(
            "%(count)s flagged ballot still counts.",
            "%(count)s flagged ballots still count.",
            10,
            count="10",
        )
    finally:
        i18n._current.reset(token)
    assert one == "1 flagget stemmeseddel telles fortsatt."
    assert many == "10 flaggede stemmesedler telles fortsatt."
