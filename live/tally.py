"""Counting and ranking: pure functions of the stored ballots, no I/O.

A poll's input is a list of *choice patterns with counts*: each distinct ordered choice
tuple and how many ballots carry it. Grouping identical ballots first keeps counting
cheap (a poll with five finalists has at most 85 ranked patterns) without changing the
result: every function here gives the same answer as counting ballot by ballot.

Rules
- `single`: one choice a ballot; a finalist's score is the number of ballots naming it.
- `ranked`: up to three distinct choices in order; Borda points 3, 2, 1 by position.
- `approval`: up to k distinct choices (the poll's `max_choices`, 1 <= k < finalists),
  in no order (kept ascending, so one set is one pattern); one point for each.
- Ranking is competition ranking: equal scores share a place (1, 2, 2, 4).
- A tie group that reaches into the winning places and has more than one member is
  *open* until an organiser resolves it by a recorded rule; it is never broken silently.
  `winners` is therefore the longest run of places that is decided.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Method(StrEnum):
    SINGLE = "single"
    RANKED = "ranked"
    APPROVAL = "approval"


RANKED_POINTS = (3, 2, 1)
MAX_RANKED_CHOICES = len(RANKED_POINTS)

ChoiceCounts = Sequence[tuple[Sequence[int], int]]


@dataclass(frozen=True)
class Standing:
    """One finalist's line in a tally."""

    finalist_id: int
    score: int
    place: int
    tied: bool


@dataclass(frozen=True)
class TieGroup:
    """Finalists sharing a score, spanning places `place` .. `place + len(ids) - 1`."""

    finalist_ids: tuple[int, ...]
    place: int
    score: int


@dataclass(frozen=True)
class Tally:
    method: Method
    ballots: int
    standings: tuple[Standing, ...]


def max_choices(method: Method, approval_limit: int | None = None) -> int:
    """How many choices one ballot may carry under `method` (approval: its k)."""
    if method is Method.APPROVAL:
        if approval_limit is None or approval_limit < 1:
            raise ValueError("approval voting needs max_choices")
        return approval_limit
    return 1 if method is Method.SINGLE else MAX_RANKED_CHOICES


def check_choices(
    method: Method,
    finalist_ids: Sequence[int],
    choices: Sequence[int],
    approval_limit: int | None = None,
) -> None:
    """Raise ValueError naming the problem when `choices` is not a valid ballot.

    Approval choices must come in ascending order (`normal_choices` puts them so)."""
    if not choices:
        raise ValueError("no choice")
    if len(choices) > max_choices(method, approval_limit):
        raise ValueError("too many choices")
    if len(set(choices)) != len(choices):
        raise ValueError("duplicate choice")
    known = set(finalist_ids)
    for choice in choices:
        if choice not in known:
            raise ValueError(f"unknown finalist {choice}")
    if method is Method.APPROVAL and list(choices) != sorted(choices):
        raise ValueError("approval choices out of order")


def normal_choices(method: Method, choices: Sequence[int]) -> tuple[int, ...]:
    """The stored form of a ballot's choices: approval sets ascending, others as given."""
    return tuple(sorted(choices)) if method is Method.APPROVAL else tuple(choices)


def scores(method: Method, finalist_ids: Sequence[int], counts: ChoiceCounts) -> dict[int, int]:
    """Each finalist's score. Choices for unknown finalists are ignored, never counted."""
    result = dict.fromkeys(finalist_ids, 0)
    for choices, number in counts:
        if method is Method.APPROVAL:
            points: Sequence[int] = (1,) * len(set(choices))
            choices = sorted(set(choices))
        else:
            points = RANKED_POINTS if method is Method.RANKED else (1,)
        for position, finalist_id in enumerate(choices[: len(points)]):
            if finalist_id in result:
                result[finalist_id] += points[position] * number
    return result


def count(method: Method, finalist_ids: Sequence[int], counts: ChoiceCounts) -> Tally:
    """The full tally: standings highest first; ties keep the finalists' listed order."""
    by_finalist = scores(method, finalist_ids, counts)
    ballots = sum(number for _, number in counts)
    return Tally(method=method, ballots=ballots, standings=rank(by_finalist, finalist_ids))


def rank(by_finalist: Mapping[int, int], order: Sequence[int]) -> tuple[Standing, ...]:
    """Competition ranking of `by_finalist`; `order` breaks display order only."""
    position = {finalist_id: index for index, finalist_id in enumerate(order)}
    ordered = sorted(by_finalist, key=lambda f: (-by_finalist[f], position.get(f, len(order))))
    frequency: dict[int, int] = {}
    for score in by_finalist.values():
        frequency[score] = frequency.get(score, 0) + 1
    standings: list[Standing] = []
    for index, finalist_id in enumerate(ordered):
        score = by_finalist[finalist_id]
        previous = standings[-1] if standings else None
        place = previous.place if previous and previous.score == score else index + 1
        standings.append(Standing(finalist_id, score, place, frequency[score] > 1))
    return tuple(standings)


def tie_groups(standings: Sequence[Standing]) -> tuple[TieGroup, ...]:
    """Every group of two or more finalists sharing a score, best first."""
    groups: list[TieGroup] = []
    index = 0
    while index < len(standings):
        end = index
        while end + 1 < len(standings) and standings[end + 1].score == standings[index].score:
            end += 1
        if end > index:
            members = tuple(s.finalist_id for s in standings[index : end + 1])
            groups.append(TieGroup(members, standings[index].place, standings[index].score))
        index = end + 1
    return tuple(groups)


def ties_to_resolve(standings: Sequence[Standing], winners: int) -> tuple[TieGroup, ...]:
    """Tie groups that decide a winning place (first .. `winners`)."""
    return tuple(group for group in tie_groups(standings) if group.place <= winners)


def winners(
    standings: Sequence[Standing], winners: int, resolutions: Iterable[Sequence[int]] = ()
) -> tuple[int, ...]:
    """Finalist ids in place order, as far as the places are decided.

    `resolutions` are recorded orderings, each of exactly one tie group's members.
    The answer stops before the first open tie that reaches a winning place, so it is
    shorter than `winners` while such a tie is unresolved.
    """
    resolved = {frozenset(order): tuple(order) for order in resolutions}
    groups = {group.finalist_ids[0]: group for group in tie_groups(standings)}
    decided: list[int] = []
    index = 0
    while index < len(standings) and len(decided) < winners:
        first = standings[index].finalist_id
        group = groups.get(first)
        if group is None:
            decided.append(first)
            index += 1
            continue
        order = resolved.get(frozenset(group.finalist_ids))
        if order is None:
            break
        decided.extend(order)
        index += len(group.finalist_ids)
    return tuple(decided[:winners])


def draw_lots(finalist_ids: Sequence[int], seed: str) -> tuple[int, ...]:
    """A reproducible random order of `finalist_ids`: the same seed gives the same order."""
    order = sorted(finalist_ids)
    random.Random(seed).shuffle(order)
    return tuple(order)


def check_resolution(standings: Sequence[Standing], winners: int, order: Sequence[int]) -> TieGroup:
    """The open tie group that `order` resolves; ValueError when it matches none."""
    for group in ties_to_resolve(standings, winners):
        if set(group.finalist_ids) == set(order) and len(order) == len(group.finalist_ids):
            return group
    raise ValueError("the order does not match a tie for a winning place")
