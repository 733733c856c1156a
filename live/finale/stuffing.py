"""Stuffing made visible in open polls: how fast new voter tokens are taken.

An open poll keeps one ballot per device token, and a script that drops its cookie
before every vote gets a new token each time. Votes are never limited (a hall of
phones shares one NAT address), but new tokens are counted per poll and per client
address, in one-minute windows in the store (`Store.hit`), so the count holds across
workers and hosts:

- above `LIVE_TOKEN_ALERT_PER_MINUTE` from one address, an alert is raised for that
  address and recorded (contest record kind `token-alerts`, key the poll's id); it
  stays raised for five minutes after the last over-rate minute, and every token issued
  from the address meanwhile is flagged, so the organisers can list and, by a recorded
  decision, exclude the ballots cast with them;
- above `LIVE_TOKEN_CEILING_PER_MINUTE` from one address, no token is issued: 429.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from live.config import Settings
from live.errors import N_, TooManyRequests
from live.store import Store
from live.store.base import StaleRecord
from live.store.timestamps import now_iso

log = logging.getLogger("live.stuffing")

RECORD_KIND = "token-alerts"
ALERT_ACTION = "poll.token_alert"
ALERT_ACTOR = "system"
MINUTE = 60
# The alert is re-armed at the first over-rate token of each one-minute window, so it
# lasts five minutes past the end of the last window that went over the rate.
ALERT_HOLD_SECONDS = 5 * MINUTE + MINUTE
_MAX_ALERTS_KEPT = 1000
_UNCOUNTED = 2**62  # a limit never reached: the key only counts
_WRITE_TRIES = 20  # each retry loses only to a writer that succeeded
FLUSH_SECONDS = 0.25  # how far behind the other processes' counts one process may see
FLUSH_HITS = 2000  # hits counted in a process before it sends them, whatever the time
_PRUNE_AT = 10_000  # keys kept before old ones are dropped

CEILING_MESSAGE = N_(
    "Too many new voters from your network just now. Wait %(minutes)s min and open the "
    "ballot again."
)


def _poll_key(poll_id: int) -> str:
    return f"tokens:{poll_id}"


def _address_key(poll_id: int, address: str) -> str:
    return f"tokens:{poll_id}:{address}"


def _alert_key(poll_id: int, address: str) -> str:
    return f"token-alert:{poll_id}:{address}"


def _alert_minute_key(poll_id: int, address: str) -> str:
    return f"token-alert-minute:{poll_id}:{address}"


@dataclass
class _Count:
    """One key's count as this process sees it: the store's figure at the last flush,
    and the hits counted here since then."""

    known: int = 0
    pending: int = 0
    flushed_at: float = -math.inf  # monotonic


@dataclass
class _Meter:
    """New-token counts of one process, sent to the store in batches.

    A store write per new token made the first visit to a ballot cost two writes; here a
    process adds its hits up and sends them at most every `FLUSH_SECONDS` (or every
    `FLUSH_HITS`), so its view of the shared count is that much behind the other
    processes' hits and exact for its own. An alert's state is read at most every
    `FLUSH_SECONDS` per address."""

    store: Store
    counts: dict[str, _Count] = field(default_factory=dict)
    raised: dict[str, tuple[float, bool]] = field(default_factory=dict)  # key -> (read at, raised)
    armed: dict[str, float] = field(default_factory=dict)  # alert-minute key -> armed at

    async def add(self, key: str) -> int:
        """Count one hit against `key` (a one-minute window); the count it makes now."""
        count = self.counts.get(key)
        if count is None:
            self._prune()
            count = self.counts[key] = _Count()
        count.pending += 1
        if count.pending >= FLUSH_HITS or time.monotonic() - count.flushed_at >= FLUSH_SECONDS:
            await self._flush(key, count)
        return count.known + count.pending

    async def _flush(self, key: str, count: _Count) -> None:
        cost, count.pending, count.flushed_at = count.pending, 0, time.monotonic()
        if cost:
            await self.store.hit(key, MINUTE, _UNCOUNTED, cost)
        count.known = await self.store.count_hits(key)

    async def flush_all(self) -> None:
        for key, count in list(self.counts.items()):
            if count.pending:
                await self._flush(key, count)

    async def alert_raised(self, key: str) -> bool:
        now = time.monotonic()
        read_at, raised = self.raised.get(key, (-math.inf, False))
        if now - read_at >= FLUSH_SECONDS:
            raised = await self.store.count_hits(key) > 0
            self.raised[key] = (now, raised)
        return raised

    def _prune(self) -> None:
        """Forget addresses not heard of for two minutes, so memory stays bounded."""
        if len(self.counts) < _PRUNE_AT:
            return
        old = time.monotonic() - 2 * MINUTE
        self.counts = {k: c for k, c in self.counts.items() if c.flushed_at >= old}
        self.raised = {k: r for k, r in self.raised.items() if r[0] >= old}
        self.armed = {k: at for k, at in self.armed.items() if at >= old}


_meters: WeakKeyDictionary[Store, _Meter] = WeakKeyDictionary()


def _meter(store: Store) -> _Meter:
    meter = _meters.get(store)
    if meter is None:
        meter = _meters[store] = _Meter(store)
    return meter


async def admit_new_token(store: Store, settings: Settings, poll_id: int, address: str) -> bool:
    """Count a new voter token for `poll_id` asked for from `address`, before it is issued.

    Returns whether the token must be flagged (its address is under an alert).
    TooManyRequests when the address went over the ceiling: no token is issued."""
    meter = _meter(store)
    address_key = _address_key(poll_id, address)
    rate = await meter.add(address_key)
    if rate > settings.token_ceiling_per_minute:
        wait = await store.hit(address_key, MINUTE, settings.token_ceiling_per_minute, 0)
        raise TooManyRequests(CEILING_MESSAGE, wait or MINUTE)
    await meter.add(_poll_key(poll_id))
    alert_key = _alert_key(poll_id, address)
    if rate <= settings.token_alert_per_minute:
        return await meter.alert_raised(alert_key)
    # Once per address and minute (across processes): re-arm the alert and record it.
    minute_key = _alert_minute_key(poll_id, address)
    if time.monotonic() - meter.armed.get(minute_key, -math.inf) < MINUTE:
        return True
    meter.armed[minute_key] = time.monotonic()
    if await store.hit(minute_key, MINUTE, 1) is None:
        await store.clear_hits(alert_key)
        await store.hit(alert_key, ALERT_HOLD_SECONDS, _UNCOUNTED)
        meter.raised[alert_key] = (time.monotonic(), True)
        await _record_alert(store, poll_id, address, rate)
    return True


async def _record_alert(store: Store, poll_id: int, address: str, rate: int) -> None:
    alert = {"address": address, "at": now_iso(), "tokens_per_minute": rate}
    for _ in range(_WRITE_TRIES):
        record = await store.get_record(RECORD_KIND, str(poll_id))
        version = record.version if record else 0
        alerts = list(record.data.get("alerts", [])) if record else []
        data = {"alerts": [*alerts, alert][-_MAX_ALERTS_KEPT:]}
        try:
            await store.put_record(
                RECORD_KIND,
                str(poll_id),
                data,
                expected_version=version,
                actor=ALERT_ACTOR,
                action=ALERT_ACTION,
            )
        except StaleRecord:
            continue
        return
    # The alert is raised (tokens are flagged) even when its record could not be written.
    log.warning("token alert for poll %s not recorded: the record kept changing", poll_id)


async def alerts(store: Store, poll_id: int) -> list[dict[str, Any]]:
    """The poll's recorded alerts, oldest first: `address`, `at` (ISO), `tokens_per_minute`."""
    record = await store.get_record(RECORD_KIND, str(poll_id))
    return list(record.data.get("alerts", [])) if record else []


async def token_activity(store: Store, poll_id: int) -> dict[str, Any]:
    """What the console shows of new voter tokens: how many the poll gave out in its
    current one-minute window, the recorded alerts, and whether one is raised now."""
    await _meter(store).flush_all()  # this process's own hits, counted at once
    recorded = await alerts(store, poll_id)
    since = datetime.now(UTC) - timedelta(seconds=ALERT_HOLD_SECONDS)
    recent = {a["address"] for a in recorded if datetime.fromisoformat(a["at"]) >= since}
    raised = False
    for address in sorted(recent):
        if await store.count_hits(_alert_key(poll_id, address)) > 0:
            raised = True
            break
    return {
        "tokens_last_minute": await store.count_hits(_poll_key(poll_id)),
        "alerts": recorded,
        "alert_raised": raised,
    }
