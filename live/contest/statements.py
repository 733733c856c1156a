"""The privacy statement and the accessibility statement: their texts, format and storage.

Each statement is one contest record (kind "statement", key "privacy" or
"accessibility") holding a text per language; until an organiser saves one, the shipped
default (`live.contest.statement_texts`) is shown. Texts are plain text in a small format
that organisers can write without knowing HTML: paragraphs separated by a blank line,
"## " and "### " headings, "- " list items; web and e-mail addresses become links. The
text is parsed into `Block`s that templates render with autoescape, so nothing in it is
ever taken as markup. Saving is a compare-and-set against the version the organiser
read, audited by the store in the same step.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from live.contest.statement_texts import DEFAULT_TEXTS, DEFAULTS_WRITTEN
from live.errors import N_, BadRequest, NotFound
from live.inputs import is_text
from live.store import Store
from live.store.models import Record

RECORD_KIND = "statement"
PRIVACY = "privacy"
ACCESSIBILITY = "accessibility"
KEYS = (PRIVACY, ACCESSIBILITY)
LANGUAGES = ("nb", "nn", "en")
FALLBACK_LANGUAGE = "nb"
TEXT_MAX_CHARACTERS = 20_000  # per language; the defaults are about a third of it

# What an organiser must replace before the statement is complete: "[FYLL INN: …]".
PLACEHOLDER = re.compile(r"\[(?:FYLL INN|FILL IN)\b[^\]\n]*\]")
_URL = r"https?://[^\s<>\"\[\]]+"
_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_LINKS = re.compile(rf"(?P<url>{_URL})|(?P<email>{_EMAIL})")
_TRAILING = ".,;:!?)"  # ends a sentence more often than an address
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class StatementRefused(BadRequest):
    """One or more texts broke a rule; `problems` holds one error per field."""

    def __init__(self, problems: list[BadRequest]) -> None:
        super().__init__(N_("The statement was not saved. Check the fields marked."))
        self.problems = problems


# The text format ---------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A run of text, a link when `href` is set (only http(s) and mailto addresses)."""

    text: str
    href: str | None = None


BlockKind = Literal["h2", "h3", "p", "ul"]


@dataclass(frozen=True)
class Block:
    """A heading or paragraph (one line of text in `lines`) or a list (one per item)."""

    kind: BlockKind
    lines: tuple[str, ...]

    @property
    def spans(self) -> list[list[Span]]:
        """Each line as spans of text and links, for the template to escape and render."""
        return [linked(line) for line in self.lines]

    def source(self) -> str:
        marker = {"h2": "## ", "h3": "### ", "p": "", "ul": "- "}[self.kind]
        return "\n".join(marker + line for line in self.lines)


def parse(text: str) -> list[Block]:
    """The blocks of a statement's text. A line that starts none of the other blocks
    continues the paragraph or list item before it, so wrapped lines read as one."""
    blocks: list[Block] = []
    kind: BlockKind | None = None
    lines: list[str] = []

    def close() -> None:
        nonlocal kind, lines
        if kind is not None:
            blocks.append(Block(kind, tuple(lines)))
        kind, lines = None, []

    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = " ".join(raw.split())
        if not line:
            close()
        elif line.startswith("#"):
            marks, _, heading = line.partition(" ")
            close()
            if heading and set(marks) == {"#"}:
                blocks.append(Block("h3" if len(marks) >= 3 else "h2", (heading,)))
            else:  # "#hashtag": a paragraph after all
                kind, lines = "p", [line]
        elif line.startswith(("- ", "* ")):
            if kind != "ul":
                close()
                kind = "ul"
            lines.append(line[2:].strip())
        elif kind is None:
            kind, lines = "p", [line]
        else:
            lines[-1] = f"{lines[-1]} {line}"
    close()
    return blocks


def tidy(text: str) -> str:
    """The text as the format reads it: one line per paragraph and item, one blank line
    between blocks. What an organiser sees in the form, and what is saved."""
    return "\n\n".join(block.source() for block in parse(text))


def linked(line: str) -> list[Span]:
    """`line` as spans, web addresses and e-mail addresses made links."""
    spans: list[Span] = []
    position = 0
    for found in _LINKS.finditer(line):
        start, address = found.start(), found.group()
        if found.group("url"):
            address = address.rstrip(_TRAILING)
            if address.endswith(("//", ":")):
                continue
            href = address
        else:
            href = f"mailto:{address}"
        if start > position:
            spans.append(Span(line[position:start]))
        spans.append(Span(address, href))
        position = start + len(address)
    if position < len(line):
        spans.append(Span(line[position:]))
    return spans


def placeholders(text: str) -> list[str]:
    """The "[FYLL INN: …]" marks still in `text`, in order."""
    return PLACEHOLDER.findall(text)


# The statements ----------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    key: str
    texts: dict[str, str]  # by language; an empty text shows the bokmål one
    version: int  # 0: the shipped default, never saved
    updated_at: str | None  # None: the shipped default

    def text_for(self, language: str) -> tuple[str, str]:
        """The text to show a reader of `language`, and the language it is written in."""
        text = self.texts.get(language, "")
        return (text, language) if text.strip() else (self.texts[FALLBACK_LANGUAGE], "nb")

    def blocks(self, language: str) -> list[Block]:
        return parse(self.text_for(language)[0])

    @property
    def placeholders(self) -> int:
        return sum(len(placeholders(text)) for text in self.texts.values())

    @property
    def is_default(self) -> bool:
        return self.texts == default_texts(self.key)

    @property
    def written_on(self) -> str:
        """When the text was last changed: saved, or the date the default was written."""
        return self.updated_at or DEFAULTS_WRITTEN


def require_key(key: str) -> str:
    if key not in KEYS:
        raise NotFound(N_("There is no statement called “%(name)s”."), name=key[:40])
    return key


def default_texts(key: str) -> dict[str, str]:
    """The shipped texts of a statement, tidied, in every language."""
    return {language: tidy(DEFAULT_TEXTS[key][language]) for language in LANGUAGES}


def _from_record(key: str, record: Record | None) -> Statement:
    if record is None:
        return Statement(key, default_texts(key), 0, None)
    saved = record.data.get("texts", {})
    texts = {language: str(saved.get(language, "")) for language in LANGUAGES}
    return Statement(key, texts, record.version, record.updated_at)


async def read_statement(store: Store, key: str) -> Statement:
    """The statement as saved, or the shipped default (version 0) if it never was."""
    return _from_record(key, await store.get_record(RECORD_KIND, require_key(key)))


def check_texts(sent: Mapping[str, str]) -> dict[str, str]:
    """The texts tidied, by language; StatementRefused naming each field that breaks a rule
    (the bokmål text is required, every text has at most `TEXT_MAX_CHARACTERS`)."""
    texts: dict[str, str] = {}
    problems: list[BadRequest] = []
    for language in LANGUAGES:
        field = f"text_{language}"
        value = sent.get(field, "")
        if not is_text(value):
            problems.append(BadRequest(N_("The text holds characters that are not text."), field))
            continue
        texts[language] = tidy(_CONTROL.sub("", value))
        if len(texts[language]) > TEXT_MAX_CHARACTERS:
            problems.append(
                BadRequest(
                    N_("The text has %(count)s characters; it may have at most %(limit)s."),
                    field,
                    count=len(texts[language]),
                    limit=TEXT_MAX_CHARACTERS,
                )
            )
    if not problems and not texts[FALLBACK_LANGUAGE]:
        problems.append(
            BadRequest(N_("Write the bokmål text; it is shown where another is empty."), "text_nb")
        )
    if problems:
        raise StatementRefused(problems)
    return texts


async def save_statement(
    store: Store, key: str, texts: dict[str, str], *, expected_version: int, actor: str
) -> Statement:
    """Write the texts if the statement is still at `expected_version` (0: the default);
    StaleRecord otherwise. The store audits the change (before and after) in the same step."""
    record = await store.put_record(
        RECORD_KIND,
        require_key(key),
        {"texts": texts},
        expected_version=expected_version,
        actor=actor,
        action="statement.update",
    )
    return _from_record(key, record)
