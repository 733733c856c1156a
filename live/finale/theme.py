"""The finale's theme: two colours, a logo and the title in three languages. Pure rules.

The colours are checked by `live.finale.colours` (WCAG 2.1 AA for every pair the stage
shows together). A logo is checked by its content, never by
its name: a PNG by its signature, an SVG by parsing it (no DTD, no entities) and finding
an `<svg>` root. Titles longer than the limit are refused, never cut.
"""

from __future__ import annotations

import base64
import hashlib
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from live.errors import N_, BadRequest
from live.finale.colours import Palette, ThemeRefused, check_palette, parse_colour
from live.store.models import Record

RECORD_KIND = "theme"
RECORD_KEY = "finale"

LANGUAGES = ("nb", "nn", "en")
TITLE_MAX_CHARACTERS = 120
LOGO_MAX_BYTES = 200 * 1024


DEFAULT_BACKGROUND = "#0b1f33"  # the stage's colours before any theme was set
DEFAULT_ACCENT = "#f2b705"

PNG = "image/png"
SVG = "image/svg+xml"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SVG_ROOT = "{http://www.w3.org/2000/svg}svg"


# The logo --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Logo:
    media_type: str  # PNG or SVG
    content: bytes

    @property
    def extension(self) -> str:
        return "svg" if self.media_type == SVG else "png"

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def check_logo(content: bytes) -> Logo:
    """A PNG or an SVG logo, told apart by its bytes; BadRequest for anything else."""
    if not content:
        raise BadRequest(N_("The logo file is empty."), field="logo")
    if len(content) > LOGO_MAX_BYTES:
        raise BadRequest(
            N_("The logo is %(size)s KB; it may be at most %(limit)s KB."),
            field="logo",
            size=math.ceil(len(content) / 1024),
            limit=LOGO_MAX_BYTES // 1024,
        )
    if content.startswith(_PNG_SIGNATURE):
        if content[12:16] != b"IHDR":
            raise BadRequest(N_("The PNG file is damaged."), field="logo")
        return Logo(PNG, content)
    try:
        # No DOCTYPE at all: it is where entity expansion ("billion laughs") and external
        # entities live, and an SVG logo has no need of one.
        root = fromstring(content, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError):
        root = None
    if root is None or root.tag != _SVG_ROOT:
        raise BadRequest(
            N_("The logo must be a PNG or an SVG image; this file is neither."), field="logo"
        )
    return Logo(SVG, content)


# Titles and the theme --------------------------------------------------------------------


def check_title(language: str, value: object) -> str:
    """A title trimmed of outer spaces; BadRequest if too long (it is never cut)."""
    title = unicodedata.normalize("NFC", " ".join(str(value or "").split()))
    if len(title) > TITLE_MAX_CHARACTERS:
        raise BadRequest(
            N_(
                "The title has %(length)s characters; it may have at most %(limit)s. "
                "Shorten it: it is not cut for you."
            ),
            field=f"title_{language}",
            length=len(title),
            limit=TITLE_MAX_CHARACTERS,
        )
    return title


@dataclass(frozen=True)
class Theme:
    background: str
    accent: str
    titles: Mapping[str, str] = field(default_factory=dict)  # language -> title, may be ""
    logo: Logo | None = None
    version: int = 0  # of the stored record; 0 when nothing is stored

    @cached_property
    def palette(self) -> Palette:
        return check_palette(self.background, self.accent)

    @cached_property
    def stamp(self) -> str:
        """A hash of what the theme serves (its stylesheet and logo), for `?v=` in URLs:
        it changes with every saved change, and with a new release that draws it anew."""
        served = stylesheet(self.palette) + (self.logo.digest if self.logo else "")
        return hashlib.sha256(served.encode()).hexdigest()[:12]

    def title(self, language: str) -> str:
        """The title in `language`, else in the first language that has one, else ""."""
        for candidate in (language, *LANGUAGES):
            if self.titles.get(candidate):
                return self.titles[candidate]
        return ""

    def to_data(self) -> dict[str, Any]:
        logo = None
        if self.logo is not None:
            logo = {
                "media_type": self.logo.media_type,
                "base64": base64.b64encode(self.logo.content).decode("ascii"),
                "sha256": self.logo.digest,
            }
        titles = {language: self.titles.get(language, "") for language in LANGUAGES}
        return {
            "background": self.background,
            "accent": self.accent,
            "titles": titles,
            "logo": logo,
        }

    @classmethod
    def from_record(cls, record: Record) -> Theme:
        data = record.data
        logo = data.get("logo")
        return cls(
            background=data["background"],
            accent=data["accent"],
            titles=dict(data["titles"]),
            logo=Logo(logo["media_type"], base64.b64decode(logo["base64"])) if logo else None,
            version=record.version,
        )


DEFAULT_THEME = Theme(DEFAULT_BACKGROUND, DEFAULT_ACCENT)


def check_theme(
    background: object, accent: object, titles: Mapping[str, object], logo: Logo | None
) -> Theme:
    """The theme from the organiser's fields; ThemeRefused listing every problem found.

    `logo` was checked already (`check_logo`), or is the one kept from before, or None."""
    problems: list[BadRequest] = []
    colours: dict[str, str] = {}
    for name, value in (("background", background), ("accent", accent)):
        try:
            colours[name] = parse_colour(value, name)
        except BadRequest as problem:
            problems.append(problem)
    if len(colours) == 2:
        try:
            check_palette(colours["background"], colours["accent"])
        except ThemeRefused as refused:
            problems.extend(refused.problems)
    checked: dict[str, str] = {}
    for language in LANGUAGES:
        try:
            checked[language] = check_title(language, titles.get(language))
        except BadRequest as problem:
            problems.append(problem)
    if problems:
        raise ThemeRefused(problems)
    return Theme(colours["background"], colours["accent"], checked, logo)


_PREVIEW_RULES = """\
.theme-preview{background:var(--stage-bg);color:var(--stage-fg);padding:1.25rem;border-radius:.5rem;\
border:1px solid #5c6670}
.theme-preview .tp-head{display:flex;align-items:center;gap:1rem;margin:0 0 .5rem}
.theme-preview .tp-head img{max-height:3rem;max-width:10rem}
.theme-preview .tp-title{font-size:1.5rem;font-weight:700;margin:0}
.theme-preview .tp-muted{color:var(--stage-muted);margin:0 0 1rem}
.theme-preview .tp-bars{list-style:none;margin:0 0 1rem;padding:0;display:grid;gap:.5rem}
.theme-preview .tp-bar{display:grid;grid-template-columns:minmax(0,9rem) 1fr 2.5rem;gap:.75rem;\
align-items:center}
.theme-preview .tp-track{height:1.5rem;background:var(--stage-track);border-radius:.25rem;\
overflow:hidden}
.theme-preview .tp-fill{display:block;height:100%;background:var(--stage-accent)}
.theme-preview .tp-w1{width:70%}
.theme-preview .tp-w2{width:45%}
.theme-preview .tp-count{font-weight:800;text-align:right}
.theme-preview .tp-panel{display:inline-flex;align-items:baseline;gap:.75rem;\
background:var(--stage-panel);padding:.5rem 1rem;border-radius:.5rem;margin:0 0 1rem}
.theme-preview .tp-panel strong{color:var(--stage-accent);font-size:1.5rem}
.theme-preview .tp-place{color:var(--stage-accent);font-size:1.5rem;font-weight:800;margin:0 0 1rem}
.theme-preview .tp-button{display:inline-block;background:var(--stage-accent);\
color:var(--stage-on-accent);padding:.5rem 1rem;border-radius:.25rem;font-weight:700}
"""


def stylesheet(palette: Palette) -> str:
    """The theme as CSS custom properties for the stage (`--stage-*`, on `body.stage`) and
    for any page (`--theme-*`, on `:root`), and the rules of the organisers' preview, kept
    here so that the preview shows exactly these colours."""
    p = palette
    stage = {
        "bg": p.background,
        "fg": p.text,
        "accent": p.accent,
        "muted": p.muted,
        "track": p.track,
        "panel": p.panel,
        "on-accent": p.on_accent,
    }
    stage_properties = ";".join(f"--stage-{name}:{value}" for name, value in stage.items())
    theme_properties = ";".join(f"--theme-{name}:{value}" for name, value in stage.items())
    return (
        "/* The finale theme, set by the organisers (/admin/theme); every pair is WCAG AA. */\n"
        f"body.stage,.theme-preview{{{stage_properties}}}\n"
        f":root{{{theme_properties}}}\n" + _PREVIEW_RULES
    )
