"""Polls by join code, kept in memory for a moment.

Every ballot page and every vote needs the poll (its finalists, to check choices). A
poll's finalists are fixed once it opens, and the store re-checks the status atomically
on every vote, so a cached copy is safe: it is dropped on every notice that the poll
itself changed (from this process, or from others through the store; ballots alone do
not count), and after `TTL_SECONDS` at the latest in case a notice was lost. At worst
a page shows a status a moment late.
"""

from __future__ import annotations

import time

from live.store import Store
from live.store.models import Poll

TTL_SECONDS = 2.0
MAX_ENTRIES = 1024


class PollCache:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._by_code: dict[str, tuple[float, Poll]] = {}
        store.add_listener(self._forget)

    async def find(self, code: str) -> Poll:
        """The poll with this join code; NotFound from the store otherwise."""
        entry = self._by_code.get(code)
        now = time.monotonic()
        if entry is not None and now - entry[0] < TTL_SECONDS:
            return entry[1]
        poll = await self._store.find_poll(code)
        if len(self._by_code) >= MAX_ENTRIES:
            self._by_code.clear()
        self._by_code[code] = (now, poll)
        return poll

    def _forget(self, poll_id: int, version: int, poll_changed: bool) -> None:
        if not poll_changed:  # only ballots changed: the cached poll is still right
            return
        stale = [code for code, (_, poll) in self._by_code.items() if poll.id == poll_id]
        for code in stale:
            del self._by_code[code]
