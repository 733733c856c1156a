"""What a network's coordinator works with: the ideas by state, a filter over them, the
ideas compared side by side, and the limit of three nominations per network (and the
college)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence

from live.contest.ideas import IdeaStatus
from live.contest.records import Idea
from live.errors import N_, BadRequest

MAX_NOMINATIONS = 3
MAX_COMPARED = 3

NOMINATED = "nominated"
CURRENT = "current"  # submitted or nominated: the ideas still in the running
ALL = "all"
# The list's filters in the order it offers them, each with the states it shows.
FILTERS: dict[str, frozenset[str]] = {
    CURRENT: frozenset({IdeaStatus.SUBMITTED.value, NOMINATED}),
    IdeaStatus.SUBMITTED.value: frozenset({IdeaStatus.SUBMITTED.value}),
    NOMINATED: frozenset({NOMINATED}),
    IdeaStatus.WITHDRAWN.value: frozenset({IdeaStatus.WITHDRAWN.value}),
    IdeaStatus.DRAFT.value: frozenset({IdeaStatus.DRAFT.value}),
    ALL: frozenset({*(s.value for s in IdeaStatus), NOMINATED}),
}


def places_left(nominated: int) -> int:
    """How many more ideas a network may nominate, having nominated `nominated`."""
    return max(0, MAX_NOMINATIONS - nominated)


def idea_state(idea: Idea, nominated: Collection[int]) -> str:
    """Where an idea stands for its network: nominated, submitted, withdrawn or draft."""
    return NOMINATED if idea.id in nominated else idea.status.value


def check_filter(value: str | None, offered: Sequence[str], default: str) -> str:
    """The filter asked for (`default` when none), if the list offers it; else BadRequest."""
    if not value:
        return default
    if value not in offered:
        raise BadRequest(N_("Choose a status from the list."), "status")
    return value


def filter_counts(states: Iterable[str], offered: Sequence[str]) -> dict[str, int]:
    """How many ideas each offered filter shows."""
    by_state = Counter(states)
    return {name: sum(by_state[s] for s in FILTERS[name]) for name in offered}


def check_compared(idea_ids: Sequence[int]) -> list[int]:
    """The ideas to compare, each once: two or three; BadRequest naming the count else."""
    picked = list(dict.fromkeys(idea_ids))
    if len(picked) > MAX_COMPARED:
        raise BadRequest(
            N_("You can compare at most %(limit)s ideas at a time; you ticked %(count)s."),
            "idea",
            limit=MAX_COMPARED,
            count=len(picked),
        )
    if len(picked) < 2:
        raise BadRequest(N_("Tick two or three ideas to compare them."), "idea")
    return picked
