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
from datetime import UTC, datetime, timedelta
from typing import Any

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


async def admit_new_token(store: Store, settings: Settings, poll_id: int, address: str) -> bool:
    """Count a new voter token for `poll_id` asked for from `address`, before it is issued.

    Returns whether the token must be flagged (its address is under an alert).
    TooManyRequests when the address went over the ceiling: no token is issued."""
    address_key = _address_key(poll_id, address)
    wait = await store.hit(address_key, MINUTE, settings.token_ceiling_per_minute)
    if wait is not None:
        raise TooManyRequests(CEILING_MESSAGE, wait)
    await store.hit(_poll_key(poll_id), MINUTE, _UNCOUNTED)
    rate = await store.count_hits(address_key)
    if rate <= settings.token_alert_per_minute:
        return await store.count_hits(_alert_key(poll_id, address)) > 0
    # Once per address and minute: re-arm the alert and record it.
    if await store.hit(_alert_minute_key(poll_id, address), MINUTE, 1) is None:
        await store.clear_hits(_alert_key(poll_id, address))
        await store.hit(_alert_key(poll_id, address), ALERT_HOLD_SECONDS, _UNCOUNTED)
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
                RECORD_KIND, str(poll_id), data,
                expected_version=version, actor=ALERT_ACTOR, action=ALERT_ACTION,
            )  # fmt: skip
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
