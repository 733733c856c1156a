"""The live hub: one feed per watched poll, fanned out to every screen that watches it.

The store is the truth; a change notice only says "poll N changed, version V". A feed
then reads one snapshot from the store, serialises each view of it once (stage, phone,
console: see `views`) and wakes the subscribers of each view whose text changed, each of
which sends the latest payload: a slow screen skips versions rather than queueing them,
so memory per subscriber is bounded. A vote changes the stage and console views but not
the phone view, so phones hear nothing until the show moves on. Refreshes are
coalesced to one per update interval, which grows with the number of subscribers; a
heartbeat re-reads the snapshot now and then, so a lost notice costs a few seconds at
most. A feed whose store read fails publishes "unavailable" and retries by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from live.finale.views import KINDS, views_of
from live.store import Store

log = logging.getLogger("live.finale.hub")

HEARTBEAT_SECONDS = 5.0
RETRY_SECONDS = 1.0
SUBSCRIBERS_PER_BASE_INTERVAL = 1000
MAX_INTERVAL_SECONDS = 1.0


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


class Feed:
    """The latest views of one poll, shared by all its subscribers in this process."""

    def __init__(self, poll_id: int) -> None:
        self.poll_id = poll_id
        self.subscribers = 0
        self.version = 0
        self.available = True
        self.kicked = asyncio.Event()
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self._payloads: dict[str, str] = {}
        self._generations = dict.fromkeys(KINDS, 0)
        self._changed = {kind: asyncio.Event() for kind in KINDS}

    def payload(self, kind: str) -> str:
        return self._payloads[kind]

    def generation(self, kind: str) -> int:
        return self._generations[kind]

    def publish(self, version: int, payloads: dict[str, str], available: bool) -> None:
        """Keep the new views; wake the subscribers of each view whose text changed."""
        self.version, self.available = version, available
        for kind, text in payloads.items():
            if self._payloads.get(kind) == text:
                continue
            self._payloads[kind] = text
            self._generations[kind] += 1
            changed, self._changed[kind] = self._changed[kind], asyncio.Event()
            changed.set()
        self.ready.set()

    async def wait_newer(self, kind: str, generation: int) -> None:
        """Return once a `kind` payload newer than `generation` is published."""
        while self._generations[kind] == generation:
            await self._changed[kind].wait()


class Hub:
    def __init__(self, store: Store, interval: float) -> None:
        self._store = store
        self._interval = interval
        self._feeds: dict[int, Feed] = {}
        store.add_listener(self.notify)

    def notify(self, poll_id: int, version: int, poll_changed: bool) -> None:
        feed = self._feeds.get(poll_id)
        if feed is not None and version > feed.version:
            feed.kicked.set()

    def interval_for(self, subscribers: int) -> float:
        """Seconds between refreshes: the base until 1000 screens, then slower, capped."""
        scale = max(1.0, subscribers / SUBSCRIBERS_PER_BASE_INTERVAL)
        return min(MAX_INTERVAL_SECONDS, max(self._interval, self._interval * scale))

    @contextlib.asynccontextmanager
    async def subscribe(self, poll_id: int) -> AsyncIterator[Feed]:
        """Watch a poll; the feed holds a payload when this yields."""
        feed = self._feeds.get(poll_id)
        if feed is None:
            feed = self._feeds[poll_id] = Feed(poll_id)
            feed.task = asyncio.create_task(self._run(feed), name=f"live-feed-{poll_id}")
        feed.subscribers += 1
        try:
            await feed.ready.wait()
            yield feed
        finally:
            feed.subscribers -= 1
            if feed.subscribers == 0 and self._feeds.get(poll_id) is feed:
                del self._feeds[poll_id]
                if feed.task is not None:
                    feed.task.cancel()

    async def close(self) -> None:
        tasks = [feed.task for feed in self._feeds.values() if feed.task is not None]
        self._feeds.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, feed: Feed) -> None:
        loop = asyncio.get_running_loop()
        while True:
            feed.kicked.clear()
            started = loop.time()
            try:
                await self._refresh(feed)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("feed for poll %s could not read the store", feed.poll_id,
                            exc_info=True)  # fmt: skip
                if feed.available or not feed.ready.is_set():
                    gone = self._unavailable(feed)
                    feed.publish(feed.version, dict.fromkeys(KINDS, gone), available=False)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(feed.kicked.wait(), HEARTBEAT_SECONDS)
            pause = started + self.interval_for(feed.subscribers) - loop.time()
            if pause > 0:
                await asyncio.sleep(pause)

    async def _refresh(self, feed: Feed) -> None:
        snapshot = await self._store.snapshot(feed.poll_id)
        if snapshot.poll.version == feed.version and feed.available and feed.ready.is_set():
            return
        made = await views_of(self._store, snapshot)
        views = {kind: _dumps(view) for kind, view in made.items()}
        feed.publish(snapshot.poll.version, views, available=True)

    @staticmethod
    def _unavailable(feed: Feed) -> str:
        return _dumps({"version": feed.version, "status": "unavailable", "unavailable": True})
