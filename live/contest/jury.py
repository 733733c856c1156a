"""Jury scoring: criteria with weights and scales, conflicts of interest, aggregation.

Each member scores each nominee on every criterion. A member's total for an idea is the
weighted mean of their scores, each first normalised to 0..1 on its criterion's scale,
so criteria with different scales weigh only by their weight. An idea's result is the
mean of its members' totals; the spread (highest minus lowest member total) shows where
the jury disagrees. Members with a declared conflict of interest are left out for that
idea, and so is a member who has not scored every criterion of it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from live.inputs import parse_decimal, parse_whole

SCALE_DIGITS = 6  # a scale's ends, at most ±999999
_COLUMNS = ("criterion_id", "text_nb", "weight", "scale_min", "scale_max")


@dataclass(frozen=True)
class Criterion:
    id: str
    text: str
    weight: float
    scale_min: int
    scale_max: int

    def check(self, value: int) -> None:
        if not self.scale_min <= value <= self.scale_max:
            raise ValueError(f"{self.id}: {value} is outside {self.scale_min}..{self.scale_max}")


@dataclass(frozen=True)
class IdeaResult:
    idea_id: int
    score: float  # 0..1
    spread: float  # 0..1
    members: int


def parse_criterion(
    criterion_id: str, text: str, weight: str, scale_min: str, scale_max: str
) -> Criterion | None:
    """A criterion from text, or None unless the weight is a plain decimal number (no
    "nan", "inf" or exponent: they would make every score NaN) and the scale's ends are
    whole numbers in ASCII digits."""
    lowest = parse_whole(scale_min, SCALE_DIGITS, signed=True)
    highest = parse_whole(scale_max, SCALE_DIGITS, signed=True)
    number = parse_decimal(weight)
    if number is None or lowest is None or highest is None:
        return None
    return Criterion(criterion_id, text, number, lowest, highest)


def parse_criteria(text: str) -> list[Criterion]:
    criteria = []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    for line, row in enumerate(reader, start=2):
        criterion = parse_criterion(*(row.get(name) or "" for name in _COLUMNS))
        if criterion is None:
            raise ValueError(f"line {line}: every column is needed; weight and scale are numbers")
        if criterion.weight <= 0 or criterion.scale_min >= criterion.scale_max:
            raise ValueError(f"line {line}: weight must be positive and min below max")
        criteria.append(criterion)
    if len({c.id for c in criteria}) != len(criteria):
        raise ValueError("criterion ids must be unique")
    return criteria


def default_criteria() -> list[Criterion]:
    """The default sheet, from the call's form and DigiFin practice; organisers edit it."""
    path = resources.files("live").joinpath("data", "jury-criteria-default.csv")
    return parse_criteria(path.read_text(encoding="utf-8"))


def member_total(criteria: Sequence[Criterion], scores: Mapping[str, int]) -> float | None:
    """One member's weighted, normalised total for one idea; None if a score is missing."""
    if any(c.id not in scores for c in criteria):
        return None
    weight = sum(c.weight for c in criteria)
    total = 0.0
    for criterion in criteria:
        value = scores[criterion.id]
        criterion.check(value)
        span = criterion.scale_max - criterion.scale_min
        total += criterion.weight * (value - criterion.scale_min) / span
    return total / weight


def aggregate(
    criteria: Sequence[Criterion],
    scores: Mapping[tuple[str, int], Mapping[str, int]],
    conflicts: Iterable[tuple[str, int]] = (),
) -> list[IdeaResult]:
    """Ideas ranked by the jury's mean total. `scores` maps (member, idea) to a sheet."""
    excluded = set(conflicts)
    by_idea: dict[int, list[float]] = {}
    for (member, idea), sheet in scores.items():
        if (member, idea) in excluded:
            continue
        total = member_total(criteria, sheet)
        if total is not None:
            by_idea.setdefault(idea, []).append(total)
    results = [
        IdeaResult(idea, sum(totals) / len(totals), max(totals) - min(totals), len(totals))
        for idea, totals in by_idea.items()
    ]
    return sorted(results, key=lambda r: (-r.score, r.idea_id))
