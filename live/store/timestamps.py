"""Timestamps as the store keeps them: ISO 8601 in UTC, to the millisecond.

Closing times are kept as epoch milliseconds, so that a store can compare them with its
own clock inside the atomic step that takes a vote."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso_from_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")
