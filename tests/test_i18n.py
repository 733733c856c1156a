"""Every string people can see is in every catalogue, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

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
