"""The live hub: one feed per watched poll, fanned out to every stage screen.

The store is the truth; a change notice only says "poll N changed, version V". A feed
then reads one snapshot from the store, serialises it once (public and full variants)
and wakes its subscribers, each of which sends the latest payload: a slow screen skips
versions rather than queueing them, so memory per subscriber is bounded. Refreshes are
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

from live.finale.polls import stream_message
from live.store import Store

log = logging.getLogger("live.hub")

HEARTBEAT_SECONDS = 5.0
RETRY_SECONDS = 1.0
SUBSCRIBERS_PER_BASE_INTERVAL = 1000
MAX_INTERVAL_SECONDS = 1.0


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


class Feed:
    """The latest state of one poll, shared by all its subscribers in this process."""

    def __init__(self, poll_id: int) -> None:
        self.poll_id = poll_id
        self.subscribers = 0
        self.version = 0
        self.generation = 0
        self.public = ""
        self.full = ""
        self.available = True
        self.kicked = asyncio.Event()
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    def payload(self, full: bool) -> str:
        return self.full if full else self.public

    def publish(self, version: int, public: str, full: str, available: bool) -> None:
        self.version, self.public, self.full, self.available = version, public, full, available
        self.generation += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        self.ready.set()

    async def wait_newer(self, generation: int) -> None:
        """Return once a payload newer than `generation` is published."""
        while self.generation == generation:
            await self._changed.wait()


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
                    feed.publish(feed.version, self._unavailable(feed), self._unavailable(feed),
                                 available=False)  # fmt: skip
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
        feed.publish(
            snapshot.poll.version,
            _dumps(stream_message(snapshot, with_counts=not snapshot.poll.hide_counts)),
            _dumps(stream_message(snapshot, with_counts=True)),
            available=True,
        )

    @staticmethod
    def _unavailable(feed: Feed) -> str:
        return _dumps({"version": feed.version, "status": "unavailable", "unavailable": True})
