"""Each network and the college nominates at most three ideas."""

from __future__ import annotations

MAX_NOMINATIONS = 3


def places_left(nominated: int) -> int:
    """How many more ideas a network may nominate, having nominated `nominated`."""
    return max(0, MAX_NOMINATIONS - nominated)
