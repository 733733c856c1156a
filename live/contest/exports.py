"""CSV exports for the governance bodies: ideas, nominations, jury scores, the audit log.

Semicolon-separated UTF-8 with a byte order mark, which is what Excel in Norway opens
without a wizard. A cell that starts like a formula is prefixed with an apostrophe, so a
hostile idea title cannot run as a formula in someone's spreadsheet.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

from live.contest.ideas import CHOICE_FIELDS, TEXT_FIELDS
from live.contest.jury import Criterion
from live.contest.records import Idea
from live.contest.selection import Nomination, Sheet
from live.store.models import AuditEntry

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return "\ufeff" + out.getvalue()


def ideas_csv(ideas: Iterable[Idea]) -> str:
    answers = [name for name, *_ in TEXT_FIELDS] + [name for name, *_ in CHOICE_FIELDS]
    answers += ["roadmap_phase", "goals", "life_events"]
    header = ["id", "status", "owner", "network_id", "routed_by", "routing_reason",
              "created_at", "submitted_at", *answers]  # fmt: skip
    return to_csv(header, (
        [i.id, i.status.value, i.owner_label, i.network_id or "", i.routed_by, i.routing_reason,
         i.created_at, i.submitted_at or "", *(i.answers.get(a, "") for a in answers)]
        for i in ideas
    ))  # fmt: skip


def nominations_csv(nominations: Iterable[Nomination], titles: dict[int, str]) -> str:
    return to_csv(
        ["network_id", "idea_id", "title", "rationale", "nominated_by", "nominated_at"],
        ([n.network_id, n.idea_id, titles.get(n.idea_id, ""), n.rationale, n.by, n.at]
         for n in nominations),
    )  # fmt: skip


def scores_csv(sheets: Iterable[Sheet], criteria: Sequence[Criterion],
               titles: dict[int, str]) -> str:  # fmt: skip
    header = ["idea_id", "title", "member", "conflict_of_interest",
              *(c.id for c in criteria), "comment", "saved_at"]  # fmt: skip
    return to_csv(header, (
        [s.idea_id, titles.get(s.idea_id, ""), s.member, "yes" if s.conflict else "no",
         *(s.scores.get(c.id, "") for c in criteria), s.comment, s.at]
        for s in sheets
    ))  # fmt: skip


def audit_csv(entries: Iterable[AuditEntry]) -> str:
    def as_json(value: Any) -> str:
        return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    return to_csv(
        ["id", "at", "actor", "action", "subject", "before", "after"],
        ([e.id, e.at, e.actor, e.action, e.subject, as_json(e.before), as_json(e.after)]
         for e in entries),
    )  # fmt: skip
