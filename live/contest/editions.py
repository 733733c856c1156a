"""A contest edition (one year's competition) and its deadlines in Norwegian time.

The stages follow each other at the deadlines: ideas come in until the submission
deadline, the networks nominate until the nomination deadline, the jury scores until
the jury deadline, and then the finalists go to the finale. Every deadline is a moment
in Europe/Oslo (summer time included); the server checks each action against them.
"""

from __future__ import annotations

import calendar
import itertools
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from live.contest.jury import Criterion
from live.errors import N_, BadRequest, Conflict

OSLO = ZoneInfo("Europe/Oslo")
DEFAULT_FINALISTS = 5
MAX_FINALISTS = 10
TITLE_MAX = 200  # characters
DEFAULT_RETENTION_MONTHS = 6  # the privacy statement's promise for non-finalists' contacts
MAX_RETENTION_MONTHS = 120


class Stage(StrEnum):
    SUBMISSION = "submission"
    NOMINATION = "nomination"
    JURY = "jury"
    FINALE = "finale"


DEADLINES = ("submission_deadline", "nomination_deadline", "jury_deadline", "finale_at")


@dataclass(frozen=True)
class Edition:
    year: int
    title: str
    submission_deadline: datetime
    nomination_deadline: datetime
    jury_deadline: datetime
    finale_at: datetime
    finalists: int
    criteria: tuple[Criterion, ...]
    poll_id: int | None = None  # the finale poll, once created
    # Months after the finale until non-finalists' contact details are erased (`privacy`).
    retention_months: int = DEFAULT_RETENTION_MONTHS

    def stage(self, now: datetime) -> Stage:
        """Which stage the contest is in at `now` (an aware datetime)."""
        if now < self.submission_deadline:
            return Stage.SUBMISSION
        if now < self.nomination_deadline:
            return Stage.NOMINATION
        if now < self.jury_deadline:
            return Stage.JURY
        return Stage.FINALE

    def require(self, stage: Stage, now: datetime) -> None:
        """Conflict unless the contest is in `stage` at `now`, naming what went wrong."""
        current = self.stage(now)
        if current is stage:
            return
        order = list(Stage)
        if order.index(current) < order.index(stage):
            raise Conflict(N_("This stage has not started yet; it opens %(when)s."),
                           when=format_local(self.start_of(stage)))  # fmt: skip
        raise Conflict(N_("The deadline for this stage passed %(when)s."),
                       when=format_local(self.end_of(stage)))  # fmt: skip

    def start_of(self, stage: Stage) -> datetime:
        index = list(Stage).index(stage)
        return self.submission_deadline if index == 0 else getattr(self, DEADLINES[index - 1])

    def end_of(self, stage: Stage) -> datetime:
        value: datetime = getattr(self, DEADLINES[list(Stage).index(stage)])
        return value

    @property
    def contacts_erased_from(self) -> datetime:
        """When the contact details of the ideas that were not finalists are erased: the
        finale plus `retention_months` calendar months in Norwegian time (the 31 August
        plus six months is the last day of February)."""
        return add_months(self.finale_at, self.retention_months)

    def with_poll(self, poll_id: int) -> Edition:
        return replace(self, poll_id=poll_id)

    def to_data(self) -> dict[str, Any]:
        return {
            "year": self.year, "title": self.title, "finalists": self.finalists,
            **{name: getattr(self, name).isoformat() for name in DEADLINES},
            "criteria": [criterion_data(c) for c in self.criteria], "poll_id": self.poll_id,
            "retention_months": self.retention_months,
        }  # fmt: skip

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Edition:
        return cls(
            year=int(data["year"]), title=str(data["title"]), finalists=int(data["finalists"]),
            **{name: datetime.fromisoformat(data[name]) for name in DEADLINES},
            criteria=tuple(Criterion(**c) for c in data["criteria"]), poll_id=data.get("poll_id"),
            retention_months=int(data.get("retention_months", DEFAULT_RETENTION_MONTHS)),
        )  # fmt: skip


def criterion_data(criterion: Criterion) -> dict[str, Any]:
    return {"id": criterion.id, "text": criterion.text, "weight": criterion.weight,
            "scale_min": criterion.scale_min, "scale_max": criterion.scale_max}  # fmt: skip


def add_months(moment: datetime, months: int) -> datetime:
    """The same wall-clock time `months` calendar months later in Norwegian time; a day
    the month lacks becomes its last day."""
    local = moment.astimezone(OSLO)
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(tzinfo=None, year=year, month=month, day=day).replace(tzinfo=OSLO)


def now_in_oslo() -> datetime:
    return datetime.now(OSLO)


def parse_local(text: object, field: str) -> datetime:
    """A `datetime-local` form value ("2022-03-26T23:59") read as Norwegian time."""
    value = str(text or "").strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(N_("Give a date and time, such as 2022-03-26 23:59."), field) from None
    if moment.tzinfo is None:
        # fold=0: in the autumn hour that happens twice, the first (summer time) one.
        moment = moment.replace(tzinfo=OSLO)
    return moment.astimezone(OSLO)


def format_local(moment: datetime) -> str:
    """A moment as Norwegians write it, in Norwegian time: 26.03.2022 23:59."""
    local = moment.astimezone(OSLO)
    return local.strftime("%d.%m.%Y %H:%M")


def input_value(moment: datetime) -> str:
    """A moment as a `datetime-local` input shows it."""
    return moment.astimezone(OSLO).strftime("%Y-%m-%dT%H:%M")


def check_edition(
    year: object, title: object, finalists: object, dates: dict[str, object],
    criteria: tuple[Criterion, ...], retention_months: object = None,
) -> Edition:  # fmt: skip
    """An edition from form values; BadRequest naming the first bad field. Without
    `retention_months` (None) the default of six months holds."""
    text = str(year or "").strip()
    if not text.isdecimal() or not 2000 <= int(text) <= 2100:
        raise BadRequest(N_("Give the year as four digits, such as 2022."), "year")
    name = str(title or "").strip()
    if not name or len(name) > TITLE_MAX:
        raise BadRequest(
            N_("Give a title of at most %(limit)s characters."), "title", limit=TITLE_MAX
        )
    count = str(finalists or "").strip()
    if not count.isdecimal() or not 2 <= int(count) <= MAX_FINALISTS:
        raise BadRequest(N_("The number of finalists must be between 2 and 10."), "finalists")
    moments = {name: parse_local(dates.get(name), name) for name in DEADLINES}
    for earlier, later in itertools.pairwise(DEADLINES):
        if moments[later] <= moments[earlier]:
            raise BadRequest(N_("Each deadline must come after the one before it."), later)
    months = _retention(retention_months)
    return Edition(
        int(text), name, moments["submission_deadline"], moments["nomination_deadline"],
        moments["jury_deadline"], moments["finale_at"], int(count), criteria,
        retention_months=months,
    )  # fmt: skip


def _retention(value: object) -> int:
    if value is None:
        return DEFAULT_RETENTION_MONTHS
    text = str(value).strip()
    months = int(text) if text.isascii() and text.isdecimal() and len(text) <= 3 else 0
    if not 1 <= months <= MAX_RETENTION_MONTHS:
        raise BadRequest(
            N_("Give the months as a whole number from 1 to %(limit)s."),
            "retention_months",
            limit=MAX_RETENTION_MONTHS,
        )
    return months
