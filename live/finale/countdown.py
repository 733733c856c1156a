"""Closing polls at their closing time, by the server itself.

Every process runs one `Closer`. It knows the closing times of open polls from a scan of
the store at start and every `RESCAN_SECONDS`, and from change notices in between, and
asks the store to close each poll once its time has come. The store closes a poll only
if it is still open, its closing time has not been moved meanwhile and has passed by the
store's own clock, in the same atomic step as a host's close, so any number of
processes may try at once and one of them succeeds. Votes that arrive after the closing
time are refused by the store even if this runs late (after a restart, say).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from live.store import Store
from live.store.models import Poll, PollStatus
from live.store.timestamps import now_ms

log = logging.getLogger("live.finale.countdown")

RESCAN_SECONDS = 10.0
RETRY_SECONDS = 0.05  # the store's clock may run a little behind this process's
FAILURE_PAUSE_SECONDS = 1.0
ACTOR = "countdown"  # who closed the poll, in the audit log


class Closer:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._due: dict[int, int] = {}  # open poll id -> closing time (epoch ms)
        self._changed: set[int] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        store.add_listener(self._heard)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="live-countdown-closer")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _heard(self, poll_id: int, version: int, poll_changed: bool) -> None:
        if poll_changed:
            self._changed.add(poll_id)
            self._wake.set()

    def _track(self, poll: Poll) -> None:
        if poll.status is PollStatus.OPEN and poll.closes_at_ms is not None:
            self._due[poll.id] = poll.closes_at_ms
        else:
            self._due.pop(poll.id, None)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        rescan_at = 0.0
        while True:
            try:
                if loop.time() >= rescan_at:
                    self._changed.clear()
                    self._due.clear()
                    for poll in await self._store.list_polls():
                        self._track(poll)
                    rescan_at = loop.time() + RESCAN_SECONDS
                while self._changed:
                    self._track(await self._store.get_poll(self._changed.pop()))
                retry = await self._close_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("could not check closing times; trying again", exc_info=True)
                rescan_at = 0.0
                await asyncio.sleep(FAILURE_PAUSE_SECONDS)
                continue
            pause = rescan_at - loop.time()
            if self._due:
                pause = min(pause, (min(self._due.values()) - now_ms()) / 1000)
            if retry:
                pause = min(pause, RETRY_SECONDS)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(pause, 0.0))

    async def _close_due(self) -> bool:
        """Close every poll whose time has come; True if one must be tried again soon."""
        retry = False
        now = now_ms()
        for poll_id, closes_at_ms in list(self._due.items()):
            if closes_at_ms > now:
                continue
            if await self._store.close_if_due(poll_id, closes_at_ms, actor=ACTOR):
                log.info("poll %s closed at its closing time", poll_id)  # and audited with it
            poll = await self._store.get_poll(poll_id)
            self._track(poll)
            retry = retry or (poll.id in self._due and self._due[poll.id] <= now)
        return retry
