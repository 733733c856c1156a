"""The theme's pure rules: colours and WCAG contrast, the derived palette, logos by content,
titles refused (never cut) when too long."""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from live.errors import BadRequest
from live.finale import theme
from live.finale.colours import (
    NEAR_BLACK,
    WHITE,
    ThemeRefused,
    check_palette,
    contrast_ratio,
    parse_colour,
    relative_luminance,
    text_colour_for,
)
from live.finale.theme import (
    LOGO_MAX_BYTES,
    PNG,
    SVG,
    TITLE_MAX_CHARACTERS,
    Logo,
    Theme,
    check_logo,
    check_theme,
    check_title,
    stylesheet,
)
from live.store.models import Record

colours = st.integers(0, 0xFFFFFF).map(lambda n: f"#{n:06x}")


def png(width: int = 1, height: int = 1) -> bytes:
    """A real, tiny PNG (one opaque pixel per row and column), made without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x0b\x1f\x33" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


SVG_LOGO = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    b'<rect width="10" height="10"/></svg>'
)


# Colours and contrast -----------------------------------------------------------------------


def test_colours_are_read_as_lower_case_hex_and_anything_else_is_named() -> None:
    assert parse_colour(" #0B1F33 ", "background") == "#0b1f33"
    for wrong in ("0b1f33", "#0b1f3", "#0b1f33aa", "navy", "#ggg000", "", None):
        with pytest.raises(BadRequest) as refused:
            parse_colour(wrong, "accent")
        assert refused.value.field == "accent"
        assert refused.value.params["value"] == str(wrong or "")


def test_luminance_and_contrast_match_wcag() -> None:
    assert relative_luminance("#000000") == 0
    assert relative_luminance("#ffffff") == pytest.approx(1)
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21)
    # Values published with WCAG's own examples and common checkers.
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#0b1f33", "#0b1f33") == 1


@given(colours, colours)
def test_contrast_is_symmetric_and_between_1_and_21(first: str, second: str) -> None:
    ratio = contrast_ratio(first, second)
    assert 1 <= ratio <= 21.0000001
    assert ratio == pytest.approx(contrast_ratio(second, first))


def test_the_text_colour_is_the_one_that_reads_better() -> None:
    assert text_colour_for("#0b1f33") == WHITE
    assert text_colour_for("#ffffff") == NEAR_BLACK
    assert text_colour_for("#f2b705") == NEAR_BLACK


@given(colours, colours)
def test_every_accepted_palette_meets_wcag_aa(background: str, accent: str) -> None:
    try:
        palette = check_palette(background, accent)
    except ThemeRefused as refused:
        fields = {problem.field for problem in refused.problems}
        assert fields and fields <= {"background", "accent"}
        return
    assert contrast_ratio(palette.text, background) >= 4.5
    assert contrast_ratio(palette.muted, background) >= 4.5
    assert contrast_ratio(accent, background) >= 3
    for surface in (palette.track, palette.panel):
        assert contrast_ratio(palette.text, surface) >= 4.5
        assert contrast_ratio(palette.muted, surface) >= 4.5
        assert contrast_ratio(accent, surface) >= 3
    assert contrast_ratio(palette.on_accent, accent) >= 4.5


def test_a_grey_background_no_text_reads_on_is_refused_with_colours_and_ratio() -> None:
    with pytest.raises(ThemeRefused) as refused:
        check_palette("#777777", "#000000")
    [problem] = [p for p in refused.value.problems if p.field == "background"]
    assert problem.params == {
        "field": "background",
        "background": "#777777",
        "text": "#ffffff",
        "ratio": 4.47,  # rounded down: 4.478 must not read as a passing 4.5
    }


def test_an_accent_too_close_to_the_background_is_refused() -> None:
    with pytest.raises(ThemeRefused) as refused:
        check_palette("#0b1f33", "#1a2f44")
    [problem] = refused.value.problems
    assert problem.field == "accent"
    assert problem.params["accent"] == "#1a2f44" and problem.params["background"] == "#0b1f33"
    assert problem.params["ratio"] < 3


def test_an_accent_no_text_reads_on_is_refused() -> None:
    # #777777 is 4.7:1 on black, fine for bars; but white on it is 4.47:1, near-black 4.2:1.
    with pytest.raises(ThemeRefused) as refused:
        check_palette("#000000", "#777777")
    assert [p.field for p in refused.value.problems] == ["accent"]
    assert "text" in refused.value.problems[0].params


def test_the_default_stage_colours_pass() -> None:
    palette = theme.DEFAULT_THEME.palette
    assert (palette.background, palette.accent, palette.text) == ("#0b1f33", "#f2b705", WHITE)


# Logos ----------------------------------------------------------------------------------


def test_a_png_is_known_by_its_signature() -> None:
    logo = check_logo(png(4, 2))
    assert logo.media_type == PNG and logo.extension == "png"


def test_an_svg_is_known_by_its_root_element() -> None:
    logo = check_logo(b'<?xml version="1.0" encoding="UTF-8"?>\n' + SVG_LOGO)
    assert logo.media_type == SVG and logo.extension == "svg"


@pytest.mark.parametrize(
    "content",
    [
        b"just some text, renamed logo.png",
        b"GIF89a\x01\x00\x01\x00",
        b"\xff\xd8\xff\xe0 a JPEG",
        b"<html><body><svg xmlns='http://www.w3.org/2000/svg'/></body></html>",
        b"<svg><rect/></svg>",  # no SVG namespace: a browser would not draw it as an image
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect>',  # not well-formed
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&a;&a;&a;</text></svg>',
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>',
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
        b'<svg xmlns="http://www.w3.org/2000/svg"/>',
    ],
    ids=["text", "gif", "jpeg", "html", "no-namespace", "broken", "entity", "external", "doctype"],
)
def test_anything_but_a_png_or_a_plain_svg_is_refused(content: bytes) -> None:
    with pytest.raises(BadRequest) as refused:
        check_logo(content)
    assert refused.value.field == "logo"


def test_a_damaged_png_or_an_empty_file_is_refused() -> None:
    with pytest.raises(BadRequest, match="damaged"):
        check_logo(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(BadRequest, match="empty"):
        check_logo(b"")


def test_a_logo_over_the_limit_is_refused_and_names_both_sizes() -> None:
    check_logo(png() + b"\x00" * (LOGO_MAX_BYTES - len(png())))  # exactly at the limit
    with pytest.raises(BadRequest) as refused:
        check_logo(png() + b"\x00" * LOGO_MAX_BYTES)
    assert refused.value.params["limit"] == 200
    assert refused.value.params["size"] == 201


# Titles and the theme ----------------------------------------------------------------------


def test_a_title_at_the_limit_is_kept_whole_and_one_longer_is_refused() -> None:
    assert check_title("nb", "  Finalen  ") == "Finalen"
    at_limit = "å" * TITLE_MAX_CHARACTERS
    assert check_title("nn", at_limit) == at_limit
    # "å" written as a + combining ring counts as one character, as people count it.
    assert check_title("nn", "a\u030a" * TITLE_MAX_CHARACTERS) == at_limit
    with pytest.raises(BadRequest) as refused:
        check_title("en", "x" * (TITLE_MAX_CHARACTERS + 1))
    assert refused.value.field == "title_en"
    assert refused.value.params["length"] == 121 and refused.value.params["limit"] == 120


def test_check_theme_lists_every_problem_at_once() -> None:
    with pytest.raises(ThemeRefused) as refused:
        check_theme("navy", "#f2b705", {"nb": "x" * 200, "nn": "", "en": "x" * 121}, None)
    assert sorted(p.field or "" for p in refused.value.problems) == [
        "background",
        "title_en",
        "title_nb",
    ]


def test_a_theme_survives_its_record_and_falls_back_between_languages() -> None:
    logo = check_logo(SVG_LOGO)
    made = check_theme("#FFFFFF", "#0b5394", {"nb": "Finalen", "en": "The finale"}, logo)
    record = Record("theme", "finale", 3, made.to_data(), "2026-01-01T00:00:00+00:00")
    back = Theme.from_record(record)
    assert back.version == 3 and back.logo == Logo(SVG, SVG_LOGO)
    assert (back.background, back.accent) == ("#ffffff", "#0b5394")
    assert back.title("en") == "The finale"
    assert back.title("nn") == "Finalen"  # no nynorsk title: the bokmål one
    assert back.stamp == made.stamp  # the stamp hashes what is served, not the version


def test_the_stylesheet_carries_the_stage_properties() -> None:
    css = stylesheet(check_palette("#ffffff", "#0b5394"))
    assert "body.stage,.theme-preview{--stage-bg:#ffffff;--stage-fg:#111111;" in css
    assert "--stage-accent:#0b5394;" in css and "--stage-muted:" in css
    assert ":root{--theme-bg:#ffffff;" in css
    other = Theme("#ffffff", "#0b5394", {}).stamp
    assert other != Theme("#ffffff", "#0b5395", {}).stamp
