"""Fair order: each voter sees the finalists in a random order of their own.

A list read top to bottom favours its first names, so no single order is shown to
everyone: each voter gets a uniformly random permutation, drawn from a generator
seeded with SHA-256 of their voter id. It is the same on every visit and on every
device that holds the same token (a badge on three phones), and needs nothing stored.
The stage keeps the poll's own order, which the organiser chooses or draws.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

_DOMAIN = b"live.voter-order.v1:"


class _Stream:
    """An endless stream of bytes from SHA-256 in counter mode over the voter id, read a
    block (32 bytes) at a time."""

    def __init__(self, voter_id: str) -> None:
        self._seed = hashlib.sha256(_DOMAIN + voter_id.encode()).digest()
        self._counter = 0
        self._block = b""
        self._at = 0

    def take(self, size: int) -> bytes:
        taken = b""
        while len(taken) < size:
            if self._at == len(self._block):
                self._block = hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
                self._counter, self._at = self._counter + 1, 0
            part = self._block[self._at : self._at + size - len(taken)]
            self._at += len(part)
            taken += part
        return taken


def _below(stream: _Stream, bound: int) -> int:
    """A uniform number in [0, bound) from the stream: rejection sampling, no modulo bias."""
    width = max(1, ((bound - 1).bit_length() + 7) // 8)
    size = 1 << (8 * width)
    limit = size - size % bound
    while True:
        value = int.from_bytes(stream.take(width), "big")
        if value < limit:
            return value % bound


def voter_order(finalist_ids: Sequence[int], voter_id: str) -> tuple[int, ...]:
    """`finalist_ids` in the voter's own order: a uniformly random permutation (a
    Fisher-Yates shuffle) that depends only on `voter_id` and the ids given."""
    order = list(finalist_ids)
    stream = _Stream(voter_id)
    for last in range(len(order) - 1, 0, -1):
        pick = _below(stream, last + 1)
        order[last], order[pick] = order[pick], order[last]
    return tuple(order)
