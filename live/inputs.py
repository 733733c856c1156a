"""What the service accepts from outside, read in one place.

Handlers and file parsers read hostile input through these helpers, so that a malformed
value is a `BadRequest` naming its field, never a crash deeper down (a store that cannot
encode a lone surrogate, `int()` past Python's 4,300 digits, a recursion limit, the csv
module's field limit):

- `json_document`: strict JSON (UTF-8; no NaN or Infinity; bounded nesting and integers;
  no lone surrogate in any string or key).
- `whole_number` and `parse_whole`: ASCII digits only; "²" and "٣" pass `str.isdigit()`
  but are not numbers here. `parse_decimal` the same for a weight such as "1,5".
- `csv_rows`: CSV with any line ending (Excel's "CSV (Macintosh)" ends lines with CR
  alone); a field past the csv module's limit is a `BadRequest` naming the line.
- `Utf8Forms`: multipart forms in UTF-8 only (UTF-7 can spell lone surrogates).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
from collections.abc import Iterator
from typing import Any

from python_multipart.multipart import parse_options_header
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from live.errors import N_, BadRequest

MAX_JSON_DEPTH = 32  # our documents need 3 levels
MAX_DIGITS = 15  # as the `id` path convertor: no store overflows on it

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DECIMAL = re.compile(r"([0-9]+)(?:[.,]([0-9]+))?")


class _Refused:
    """A number that JSON allows and we do not; reported with its field by `_check`."""

    def __init__(self, message: str, **params: Any) -> None:
        self.message, self.params = message, params


def _json_int(text: str) -> int | _Refused:
    if len(text.lstrip("-")) > MAX_DIGITS:
        return _Refused(N_("%(field)s has more than %(limit)s digits."), limit=MAX_DIGITS)
    return int(text)


def _json_float(text: str) -> float | _Refused:
    number = float(text)
    return number if math.isfinite(number) else _json_constant(text)


def _json_constant(_: str) -> _Refused:
    return _Refused(N_("%(field)s must be a finite number."))


def _depth(text: str) -> int:
    """How deeply the brackets nest, strings left out; linear, without recursion."""
    depth = deepest = 0
    for bracket in "".join(_NOT_BRACKET.split(_JSON_STRING.sub("", text))):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def is_text(value: str) -> bool:
    """False for a string holding a lone surrogate (from a `\\ud800` escape): not text."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def _check(document: Any) -> None:
    """BadRequest naming the first field that holds a refused number or a non-text string.

    Fields are named as the poll rules name them: `finalists[1].name` (counting from 1)."""
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        value, path = stack.pop()
        field = path or "body"
        if isinstance(value, _Refused):
            raise BadRequest(value.message, field=field, **value.params)
        if isinstance(value, str) and not is_text(value):
            raise BadRequest(N_("%(field)s contains a character that is not valid text."), field)
        if isinstance(value, dict):
            for key, item in value.items():
                name = f"{path}.{_printable(key)}" if path else _printable(key)
                if not is_text(key):
                    raise BadRequest(
                        N_("%(field)s contains a character that is not valid text."), name
                    )
                stack.append((item, name))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{number}]") for number, item in enumerate(value, 1))


def json_document(data: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON value in `data`, or BadRequest saying what is wrong and where.

    Bytes must be UTF-8 (JSON's own rule; `json.loads` would also take UTF-16 and let
    encoded surrogates through). Nesting is checked before parsing, so a deep document
    is refused in linear time instead of recursing out."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(N_("The JSON must be UTF-8 text.")) from None
    if _depth(data) > max_depth:
        raise BadRequest(N_("The JSON is nested more than %(limit)s levels deep."), limit=max_depth)
    try:
        document = json.loads(
            data, parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant
        )
    except json.JSONDecodeError as error:
        raise BadRequest(N_("The JSON cannot be read: %(detail)s."), detail=error.msg) from None
    _check(document)
    return document


def parse_whole(text: str, max_digits: int = MAX_DIGITS, *, signed: bool = False) -> int | None:
    """The whole number `text` spells in ASCII digits (a leading "-" if `signed`), else None."""
    text = text.strip()
    digits = text[1:] if signed and text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit() and len(digits) <= max_digits):
        return None
    return int(text)


def whole_number(
    value: object, field: str, max_digits: int = MAX_DIGITS, default: int | None = None
) -> int:
    """A form or JSON value as a whole number ≥ 0, or BadRequest naming `field`.

    An empty or missing value is `default` when one is given (a form's hidden `version`
    on a record not made yet)."""
    if default is not None and (value is None or (isinstance(value, str) and not value.strip())):
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        number: int | None = value if 0 <= value < 10**max_digits else None
    elif isinstance(value, str):
        number = parse_whole(value, max_digits)
    else:
        number = None
    if number is None:
        raise BadRequest(
            N_("%(field)s must be a whole number of at most %(limit)s digits."),
            field,
            limit=max_digits,
        )
    return number


def parse_decimal(text: str, max_digits: int = 6) -> float | None:
    """A decimal number such as "2", "0.5" or "1,5" (a Norwegian comma), else None.

    No exponent, no "nan" or "inf": those pass `float()` and make every sum NaN."""
    found = _DECIMAL.fullmatch(text.strip())
    if found is None or len(found.group(0)) > 2 * max_digits + 1:
        return None
    whole, fraction = found.groups()
    return float(f"{whole}.{fraction or 0}")


def csv_rows(text: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """Each row of a CSV text with the line it ends on.

    Lines may end in CRLF, LF or CR alone; a field past the csv module's limit (or any
    other CSV error) is a BadRequest naming the line, not a crash."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if "field limit" in str(error):
                raise BadRequest(
                    N_("Line %(line)s: a field is longer than %(limit)s characters."),
                    line=reader.line_num,
                    limit=csv.field_size_limit(),
                ) from None
            raise BadRequest(
                N_("Line %(line)s cannot be read as CSV."), line=reader.line_num
            ) from None
        yield reader.line_num, cells


class Utf8Forms:
    """Refuses (400) a multipart form whose Content-Type declares a charset other than UTF-8.

    Starlette decodes form fields in the charset the request declares, and UTF-7 spells
    lone surrogates ("+2AA-"), which are not text and cannot be stored. Browsers send
    UTF-8 and declare nothing. The refusal comes when a handler reads the body, so the
    error page is the usual one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        charset = _form_charset(scope) if scope["type"] == "http" else None
        if charset is None:
            await self.app(scope, receive, send)
            return

        async def refuse() -> Message:
            raise BadRequest(N_("Forms must be sent as UTF-8, not %(charset)s."), charset=charset)

        await self.app(scope, refuse, send)


def _form_charset(scope: Scope) -> str | None:
    """The charset a multipart request declares, when it is not UTF-8."""
    header = dict(scope["headers"]).get(b"content-type", b"")
    kind, params = parse_options_header(header)
    charset = params.get(b"charset")
    if kind != b"multipart/form-data" or charset is None:
        return None
    name = charset.decode("latin-1")
    try:
        if codecs.lookup(name).name == "utf-8":
            return None
    except LookupError:
        pass  # Starlette reads an unknown charset as latin-1: harmless, but not what was sent
    return name[:40]
