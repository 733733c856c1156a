"""Numbers and times as the reader writes them: a decimal comma and Norwegian time.

Both are Jinja filters (`number`, `local_time`, registered in `templating`), and plain
functions for handlers. The language is the request's (`i18n.current_language`)."""

from __future__ import annotations

from datetime import UTC, datetime

from babel.numbers import format_decimal

from live import i18n
from live.contest.editions import OSLO


def number(value: float | int, digits: int | None = None, *, grouping: bool = True) -> str:
    """`value` in the reader's language: "89,3" in Norwegian, "89.3" in English.

    `digits`: exactly that many decimals (a score, "89,3"); None: up to two, none when
    the number is whole (a weight, "1" or "2,5"). `grouping=False` for an input's value,
    which `inputs.parse_decimal` must read back ("12345,5", not "12 345,5")."""
    whole = "#,##0" if grouping else "0"
    fraction = "." + "0" * digits if digits else ("" if digits == 0 else ".##")
    return format_decimal(value, format=whole + fraction, locale=i18n.current_language())


def oslo_time(moment: str | datetime) -> datetime:
    """A stored moment (ISO 8601 text or a datetime; no zone means UTC) in Europe/Oslo."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(OSLO)


def local_time(moment: str | datetime) -> str:
    """A moment in Norwegian time, as Norwegians write it: "30.11.2026 kl. 21:04"."""
    local = oslo_time(moment)
    return i18n.gettext(
        "%(date)s at %(time)s", date=local.strftime("%d.%m.%Y"), time=local.strftime("%H:%M")
    )


def machine_time(moment: str | datetime) -> str:
    """The same moment for a `<time datetime>` attribute, with its offset from UTC."""
    return oslo_time(moment).isoformat(timespec="seconds")
