"""Colours that read: WCAG 2.1 contrast, and the stage's palette derived from two colours.

Organisers pick a background and an accent colour; the rest of the stage's palette is
derived from them so that every pair shown together meets WCAG 2.1 AA:

- text on the background (white or a near-black, whichever reads better) at least 4.5:1
  (1.4.3), and the muted secondary text derived from it as well;
- the accent against the background at least 3:1 (1.4.11 non-text contrast; the accent
  is also used for large bold text, the podium's places, where 3:1 is the AA limit);
- text on the accent (white or near-black) at least 4.5:1, for buttons filled with it.

A colour pair that falls short is refused with both colours and the ratio named; nothing
is ever adjusted behind the organiser's back.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from live.errors import N_, BadRequest

TEXT_CONTRAST = 4.5  # WCAG 1.4.3, normal text
NON_TEXT_CONTRAST = 3.0  # WCAG 1.4.11, and 1.4.3 for large text

WHITE = "#ffffff"
NEAR_BLACK = "#111111"
_HEX = re.compile(r"#[0-9a-f]{6}")


class ThemeRefused(BadRequest):
    """One or more fields broke a rule; `problems` holds one error per rule, with its field."""

    def __init__(self, problems: list[BadRequest]) -> None:
        super().__init__(N_("The theme was not saved. Check the fields marked."))
        self.problems = problems


def parse_colour(value: object, field_name: str) -> str:
    """`value` as a lower-case '#rrggbb'; BadRequest naming the value otherwise."""
    text = str(value or "").strip().lower()
    if not _HEX.fullmatch(text):
        raise BadRequest(
            N_("“%(value)s” is not a colour: write it as #rrggbb, for example #0b1f33."),
            field=field_name,
            value=str(value or "")[:40],
        )
    return text


def _channels(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of a '#rrggbb' colour, from 0 (black) to 1 (white)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _channels(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio of two colours, from 1 (the same) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def shown_ratio(ratio: float) -> float:
    """The ratio rounded down to two decimals, so a failing 4.499 never reads as 4.5."""
    return math.floor(ratio * 100) / 100


def text_colour_for(background: str) -> str:
    """White or near-black, whichever has the better contrast on `background`."""
    on_white = contrast_ratio(WHITE, background)
    return WHITE if on_white >= contrast_ratio(NEAR_BLACK, background) else NEAR_BLACK


def mix(colour: str, other: str, share: float) -> str:
    """`colour` moved `share` (0..1) of the way towards `other`, channel by channel."""
    mixed = (
        round(a + (b - a) * share) for a, b in zip(_channels(colour), _channels(other), strict=True)
    )
    return "#" + "".join(f"{c:02x}" for c in mixed)


@dataclass(frozen=True)
class Palette:
    """Every colour the stage shows, each pair that meets checked (see the module doc)."""

    background: str
    text: str  # on the background
    accent: str
    on_accent: str  # text on the accent
    muted: str  # secondary text on the background
    track: str  # the empty part of a bar, a podium step: a shade of the background
    panel: str  # a box on the stage (the countdown, the help): a fainter shade


def _muted(text: str, background: str) -> str:
    """The text colour moved towards the background as far as 4.5:1 still holds."""
    for share in (0.2, 0.15, 0.1, 0.05):
        candidate = mix(text, background, share)
        if contrast_ratio(candidate, background) >= TEXT_CONTRAST:
            return candidate
    return text


def _surface(background: str, text: str, muted: str, accent: str, most: float) -> str:
    """The background lifted at most `most` towards the text, as far as everything drawn
    on it still holds: text and muted text 4.5:1, the accent 3:1."""
    for step in range(4, 0, -1):
        candidate = mix(background, text, most * step / 4)
        if (
            contrast_ratio(text, candidate) >= TEXT_CONTRAST
            and contrast_ratio(muted, candidate) >= TEXT_CONTRAST
            and contrast_ratio(accent, candidate) >= NON_TEXT_CONTRAST
        ):
            return candidate
    return background


def check_palette(background: str, accent: str) -> Palette:
    """The stage palette for two parsed colours; ThemeRefused naming each failing pair."""
    problems: list[BadRequest] = []
    text = text_colour_for(background)
    ratio = contrast_ratio(text, background)
    if ratio < TEXT_CONTRAST:
        message = N_(
            "No text is readable on the background %(background)s: the better of white and "
            "near-black, %(text)s, has a contrast of only %(ratio)s:1, and WCAG AA needs "
            "4.5:1. Choose a darker or a lighter background."
        )
        ratio = shown_ratio(ratio)
        problems.append(
            BadRequest(message, "background", background=background, text=text, ratio=ratio)
        )
    ratio = contrast_ratio(accent, background)
    if ratio < NON_TEXT_CONTRAST:
        message = N_(
            "The accent %(accent)s on the background %(background)s has a contrast of "
            "%(ratio)s:1; WCAG AA needs at least 3:1 for the bars and the large text drawn "
            "in it."
        )
        ratio = shown_ratio(ratio)
        problems.append(
            BadRequest(message, "accent", accent=accent, background=background, ratio=ratio)
        )
    on_accent = text_colour_for(accent)
    ratio = contrast_ratio(on_accent, accent)
    if ratio < TEXT_CONTRAST:
        message = N_(
            "No text is readable on the accent %(accent)s: the better of white and "
            "near-black, %(text)s, has a contrast of only %(ratio)s:1, and WCAG AA needs "
            "4.5:1. Choose a darker or a lighter accent."
        )
        ratio = shown_ratio(ratio)
        problems.append(BadRequest(message, "accent", accent=accent, text=on_accent, ratio=ratio))
    if problems:
        raise ThemeRefused(problems)
    muted = _muted(text, background)
    return Palette(
        background=background,
        text=text,
        accent=accent,
        on_accent=on_accent,
        muted=muted,
        track=_surface(background, text, muted, accent, 0.14),
        panel=_surface(background, text, muted, accent, 0.08),
    )
