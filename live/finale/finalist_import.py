"""Finalists from a file, for organisers who ran the earlier stages elsewhere.

CSV (comma or semicolon, as spreadsheets in Norway often export; a header row with
`name` and optionally `pitch` and `owner`, Norwegian headers `navn`, `pitch`/`beskrivelse`,
`idéeier`/`ideeier` also understood; any line ending, Excel's CR-only too) or JSON (a
list of objects, or `{"finalists": […]}`, read by `live.inputs.json_document`). Every bad
row is reported, not only the first, each naming its row and field; a file that cannot be
read at all is one problem for the whole file, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from live import inputs
from live.errors import N_, BadRequest
from live.finale.polls import MAX_FINALISTS, MIN_FINALISTS, NAME_MAX, OWNER_MAX, PITCH_MAX

_HEADERS = {
    "name": "name", "navn": "name", "namn": "name",
    "pitch": "pitch", "beskrivelse": "pitch", "skildring": "pitch",
    "owner": "owner", "idéeier": "owner", "ideeier": "owner", "idéeigar": "owner",
    "ideeigar": "owner",
}  # fmt: skip
_LIMITS = {"name": NAME_MAX, "pitch": PITCH_MAX, "owner": OWNER_MAX}


@dataclass(frozen=True)
class RowProblem:
    """One problem: `row` counts data rows from 1 (0 for the file as a whole)."""

    row: int
    message: str
    params: dict[str, Any]


def parse_finalists(filename: str, data: bytes) -> tuple[list[dict[str, str]], list[RowProblem]]:
    """The finalists in a CSV or JSON file, and every problem found in it."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [RowProblem(0, N_("The file must be saved as UTF-8 text."), {})]
    stripped = text.lstrip()
    rows: list[dict[str, Any] | None]
    if filename.lower().endswith(".json") or stripped.startswith(("[", "{")):
        rows, problems = _json_rows(text)
    else:
        rows, problems = _csv_rows(text)
    finalists: list[dict[str, str]] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        if row is None:  # not an object: reported already
            continue
        not_text = [key for key in _LIMITS if not _text_like(row.get(key))]
        if not_text:
            problems.extend(
                RowProblem(number, N_("Row %(row)s: %(field)s must be text."), {"field": key})
                for key in not_text
            )
            continue
        clean = {key: " ".join(str(row.get(key) or "").split()) for key in _LIMITS}
        if not clean["name"]:
            problems.append(RowProblem(number, N_("Row %(row)s: the name is missing."), {}))
            continue
        for key, limit in _LIMITS.items():
            if len(clean[key]) > limit:
                problems.append(RowProblem(
                    number, N_("Row %(row)s: %(field)s is longer than %(limit)s characters."),
                    {"field": key, "limit": limit},
                ))  # fmt: skip
        if clean["name"].casefold() in seen:
            problems.append(
                RowProblem(
                    number, N_("Row %(row)s: %(name)s appears twice."), {"name": clean["name"]}
                )
            )
        seen.add(clean["name"].casefold())
        finalists.append(clean)
    if not problems and not MIN_FINALISTS <= len(finalists) <= MAX_FINALISTS:
        problems.append(RowProblem(
            0, N_("The file has %(count)s finalists; a poll needs from %(min)s to %(max)s."),
            {"count": len(finalists), "min": MIN_FINALISTS, "max": MAX_FINALISTS},
        ))  # fmt: skip
    return finalists, problems


def _text_like(value: object) -> bool:
    """A JSON value that reads as text: a string, nothing, or a number (written as text)."""
    return value is None or (isinstance(value, str | int | float) and not isinstance(value, bool))


def _csv_rows(text: str) -> tuple[list[dict[str, Any] | None], list[RowProblem]]:
    first_line = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        lines = [cells for _, cells in inputs.csv_rows(text, delimiter)]
    except BadRequest as problem:
        return [], [RowProblem(0, problem.message, problem.params)]
    if not lines:
        return [], [RowProblem(0, N_("The file is empty."), {})]
    columns = [_HEADERS.get(cell.strip().casefold()) for cell in lines[0]]
    if "name" not in columns:
        return [], [RowProblem(0, N_("The first row must name the columns, with a name column."),
                               {})]  # fmt: skip
    rows: list[dict[str, Any] | None] = []
    for cells in lines[1:]:
        if any(cell.strip() for cell in cells):  # a missing optional column is left empty
            rows.append({key: cell for key, cell in zip(columns, cells, strict=False) if key})
    return rows, []


def _json_rows(text: str) -> tuple[list[dict[str, Any] | None], list[RowProblem]]:
    try:
        document = inputs.json_document(text)
    except BadRequest as problem:
        return [], [RowProblem(0, problem.message, problem.params)]
    if isinstance(document, dict):
        document = document.get("finalists")
    if not isinstance(document, list):
        return [], [RowProblem(0, N_("The JSON must be a list of finalists."), {})]
    rows: list[dict[str, Any] | None] = []
    problems: list[RowProblem] = []
    for number, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            problems.append(RowProblem(number, N_("Row %(row)s: each finalist must be an object."),
                                       {}))  # fmt: skip
            rows.append(None)
            continue
        rows.append({_HEADERS.get(str(k).casefold(), ""): v for k, v in item.items()})
    return rows, problems
