"""Jury scoring: criteria with weights and scales, conflicts of interest, aggregation.

Each member scores each nominee on every criterion. A member's total for an idea is the
weighted mean of their scores, each first normalised to 0..1 on its criterion's scale,
so criteria with different scales weigh only by their weight. An idea's result is the
mean of its members' totals; the spread (highest minus lowest member total) shows where
the jury disagrees. Members with a declared conflict of interest are left out for that
idea, and so is a member who has not scored every criterion of it.

Who scores what (`Assignments`): every member scores every nominee unless an organiser
takes the pair off; a member whose own network is the nominee's network has a conflict
of interest without declaring it, and is left out unless an organiser overrides that,
with a reason. `pair_state` says where one member stands with one nominee; only a
`PairState.SCORED` sheet counts, and only it lets the member see the others' scores.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from typing import Any

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


class PairState(StrEnum):
    """Where one member stands with one nominee."""

    UNASSIGNED = "unassigned"  # an organiser took the pair off
    NETWORK_CONFLICT = "network_conflict"  # the member's own network nominated it
    DECLARED_CONFLICT = "declared_conflict"  # the member declared a conflict of interest
    NOT_STARTED = "not_started"
    PARTLY = "partly"  # some criteria scored: not counted yet
    SCORED = "scored"  # every criterion scored: counted, and the others' scores shown


@dataclass(frozen=True)
class Override:
    """An organiser's recorded decision that a member scores despite a network conflict."""

    reason: str
    by: str
    at: str


Pair = tuple[int, int]  # (idea id, member's user id)


@dataclass(frozen=True)
class Assignments:
    """An edition's jury assignments: every pair is assigned unless in `removed`, so a
    member or nominee added later is assigned to begin with."""

    removed: frozenset[Pair] = frozenset()
    overrides: dict[Pair, Override] = field(default_factory=dict)
    networks: dict[int, str] = field(default_factory=dict)  # member id: own network

    def assigned(self, idea_id: int, member_id: int) -> bool:
        return (idea_id, member_id) not in self.removed

    def network_of(self, member_id: int, account_network: str | None) -> str | None:
        """The member's own network: as organisers set it here, else the account's."""
        return self.networks.get(member_id) or account_network

    def to_data(self) -> dict[str, Any]:
        return {
            "removed": sorted(_pair_key(pair) for pair in self.removed),
            "overrides": {
                _pair_key(pair): {"reason": o.reason, "by": o.by, "at": o.at}
                for pair, o in sorted(self.overrides.items())
            },
            "networks": {str(member): network for member, network in sorted(self.networks.items())},
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> Assignments:
        data = data or {}
        return cls(
            frozenset(_read_pair(key) for key in data.get("removed", [])),
            {
                _read_pair(key): Override(**value)
                for key, value in data.get("overrides", {}).items()
            },
            {int(member): str(network) for member, network in data.get("networks", {}).items()},
        )


def _pair_key(pair: Pair) -> str:
    return f"{pair[0]}:{pair[1]}"


def _read_pair(key: str) -> Pair:
    idea, _, member = key.partition(":")
    return int(idea), int(member)


def pair_state(
    criteria: Sequence[Criterion],
    *,
    assigned: bool,
    network_conflict: bool,
    overridden: bool,
    scores: Mapping[str, int] | None,
    declared_conflict: bool = False,
) -> PairState:
    """Where a member stands with a nominee, from the assignment, the networks, an
    organiser's override and the member's sheet (`scores` None: no sheet yet)."""
    if not assigned:
        return PairState.UNASSIGNED
    if network_conflict and not overridden:
        return PairState.NETWORK_CONFLICT
    if declared_conflict:
        return PairState.DECLARED_CONFLICT
    given = sum(1 for c in criteria if c.id in (scores or {}))
    if given == 0:
        return PairState.NOT_STARTED
    return PairState.SCORED if given == len(criteria) else PairState.PARTLY


def awaits_scores(state: PairState) -> bool:
    """Whether the member still owes a score for the pair (what a reminder lists)."""
    return state in (PairState.NOT_STARTED, PairState.PARTLY)
