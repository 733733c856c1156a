"""Editions: deadlines in Norwegian time, the stage at each moment, the edition form's rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from live.contest.editions import (
    DEADLINES,
    OSLO,
    Edition,
    Stage,
    check_edition,
    format_local,
    input_value,
    parse_local,
)
from live.contest.jury import Criterion, default_criteria
from live.errors import BadRequest, Conflict

DATES = {
    "submission_deadline": "2022-03-26T23:59",
    "nomination_deadline": "2022-04-29T12:00",
    "jury_deadline": "2022-05-20T12:00",
    "finale_at": "2022-06-01T10:00",
}
CRITERIA = (Criterion("need", "Behov", 2.0, 1, 5), Criterion("risk", "Risiko", 1.0, 0, 10))


def edition(**dates: str) -> Edition:
    return check_edition("2022", "Idékonkurransen 2022", "5", {**DATES, **dates}, CRITERIA)


EDITION = edition()
SECOND = timedelta(seconds=1)


def test_the_form_values_make_an_edition() -> None:
    assert EDITION.year == 2022 and EDITION.title == "Idékonkurransen 2022"
    assert EDITION.finalists == 5 and EDITION.criteria == CRITERIA and EDITION.poll_id is None
    assert EDITION.submission_deadline == datetime(2022, 3, 26, 23, 59, tzinfo=OSLO)
    assert EDITION.finale_at == datetime(2022, 6, 1, 10, 0, tzinfo=OSLO)


@pytest.mark.parametrize(
    ("moment", "stage"),
    [
        (EDITION.submission_deadline - SECOND, Stage.SUBMISSION),
        (EDITION.submission_deadline, Stage.NOMINATION),  # a deadline opens the next stage
        (EDITION.nomination_deadline - SECOND, Stage.NOMINATION),
        (EDITION.nomination_deadline, Stage.JURY),
        (EDITION.jury_deadline - SECOND, Stage.JURY),
        (EDITION.jury_deadline, Stage.FINALE),
        (EDITION.finale_at + timedelta(days=400), Stage.FINALE),
        (datetime(2000, 1, 1, tzinfo=UTC), Stage.SUBMISSION),
    ],
)
def test_the_stage_changes_at_each_deadline(moment: datetime, stage: Stage) -> None:
    assert EDITION.stage(moment) is stage


def test_the_same_moment_in_another_zone_is_the_same_stage() -> None:
    # 23:59 in Oslo on 26 March 2022 (winter time) is 22:59 UTC.
    assert EDITION.stage(datetime(2022, 3, 26, 22, 58, 59, tzinfo=UTC)) is Stage.SUBMISSION
    assert EDITION.stage(datetime(2022, 3, 26, 22, 59, tzinfo=UTC)) is Stage.NOMINATION


def test_require_passes_in_its_stage() -> None:
    EDITION.require(Stage.NOMINATION, EDITION.submission_deadline)
    EDITION.require(Stage.SUBMISSION, EDITION.submission_deadline - SECOND)


def test_require_too_early_says_when_the_stage_opens() -> None:
    with pytest.raises(Conflict, match="not started yet") as caught:
        EDITION.require(Stage.JURY, EDITION.submission_deadline)
    assert caught.value.message == "This stage has not started yet; it opens %(when)s."
    assert caught.value.params == {"when": "29.04.2022 12:00"}  # the nomination deadline


def test_require_too_late_says_when_the_deadline_passed() -> None:
    with pytest.raises(Conflict, match="passed") as caught:
        EDITION.require(Stage.SUBMISSION, EDITION.submission_deadline)
    assert caught.value.message == "The deadline for this stage passed %(when)s."
    assert caught.value.params == {"when": "26.03.2022 23:59"}
    with pytest.raises(Conflict, match=r"passed 20\.05\.2022 12:00"):
        EDITION.require(Stage.JURY, EDITION.finale_at)


def test_stage_bounds() -> None:
    assert EDITION.start_of(Stage.NOMINATION) == EDITION.submission_deadline
    assert EDITION.end_of(Stage.NOMINATION) == EDITION.nomination_deadline
    assert EDITION.start_of(Stage.FINALE) == EDITION.jury_deadline
    assert EDITION.end_of(Stage.FINALE) == EDITION.finale_at


@pytest.mark.parametrize(
    ("text", "offset_hours"),
    [
        ("2022-03-26T23:59", 1),  # the night before summer time starts
        ("2022-03-27T03:00", 2),  # the first summer time hour
        ("2022-06-01T12:00", 2),
        ("2022-10-30T12:00", 1),  # back on winter time
        ("2022-12-24T18:00:00", 1),
    ],
)
def test_naive_input_is_norwegian_time(text: str, offset_hours: int) -> None:
    moment = parse_local(text, "submission_deadline")
    assert moment.utcoffset() == timedelta(hours=offset_hours)
    assert moment.replace(tzinfo=None) == datetime.fromisoformat(text)
    assert input_value(moment) == text[:16]


def test_input_with_an_offset_keeps_its_moment() -> None:
    moment = parse_local("2022-06-01T10:00+00:00", "finale_at")
    assert moment == datetime(2022, 6, 1, 10, 0, tzinfo=UTC)
    assert input_value(moment) == "2022-06-01T12:00"


@pytest.mark.parametrize("text", ["", None, "tomorrow", "26.03.2022 23:59", "2022-02-30T12:00"])
def test_bad_input_names_its_field(text: object) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_local(text, "jury_deadline")
    assert caught.value.field == "jury_deadline"


def test_format_local_writes_norwegian_time() -> None:
    assert format_local(datetime(2022, 3, 26, 22, 59, tzinfo=UTC)) == "26.03.2022 23:59"
    assert format_local(datetime(2022, 6, 1, 10, 0, tzinfo=UTC)) == "01.06.2022 12:00"
    assert format_local(EDITION.finale_at) == "01.06.2022 10:00"


@pytest.mark.parametrize(
    ("year", "title", "finalists", "field"),
    [
        ("", "T", "5", "year"),
        ("22", "T", "5", "year"),
        ("1999", "T", "5", "year"),
        ("2101", "T", "5", "year"),
        ("2022.0", "T", "5", "year"),
        ("²⁰²²", "T", "5", "year"),  # digits to isdigit(), not to int()
        ("2022", "", "5", "title"),
        ("2022", "   ", "5", "title"),
        ("2022", "x" * 201, "5", "title"),
        ("2022", "T", "1", "finalists"),
        ("2022", "T", "11", "finalists"),
        ("2022", "T", "five", "finalists"),
        ("2022", "T", "", "finalists"),
        ("2022", "T", "⁵", "finalists"),
    ],
)
def test_a_bad_edition_names_its_field(year: str, title: str, finalists: str, field: str) -> None:
    with pytest.raises(BadRequest) as caught:
        check_edition(year, title, finalists, DATES, CRITERIA)
    assert caught.value.field == field


def test_the_edition_form_trims_and_accepts_the_bounds() -> None:
    found = check_edition(" 2100 ", "  T  ", "10", DATES, ())
    assert (found.year, found.title, found.finalists) == (2100, "T", 10)
    assert check_edition("2000", "x" * 200, "2", DATES, ()).finalists == 2


@pytest.mark.parametrize(
    ("dates", "field"),
    [
        ({"nomination_deadline": "2022-03-26T23:59"}, "nomination_deadline"),  # equal
        ({"nomination_deadline": "2022-03-01T12:00"}, "nomination_deadline"),
        ({"jury_deadline": "2022-04-01T12:00"}, "jury_deadline"),
        ({"finale_at": "2022-05-20T11:59"}, "finale_at"),
        ({"submission_deadline": "2022-07-01T12:00"}, "nomination_deadline"),
    ],
)
def test_deadlines_out_of_order_name_the_later_one(dates: dict[str, str], field: str) -> None:
    with pytest.raises(BadRequest, match="after the one before") as caught:
        edition(**dates)
    assert caught.value.field == field


def test_a_missing_deadline_names_itself() -> None:
    for name in DEADLINES:
        with pytest.raises(BadRequest) as caught:
            check_edition("2022", "T", "5", {**DATES, name: ""}, CRITERIA)
        assert caught.value.field == name


def test_an_edition_survives_the_store() -> None:
    with_defaults = replace(EDITION, criteria=tuple(default_criteria()))
    for original in (EDITION, EDITION.with_poll(42), with_defaults):
        data = original.to_data()
        assert data["submission_deadline"] == original.submission_deadline.isoformat()
        restored = Edition.from_data(data)
        assert restored == original
        assert restored.to_data() == data
        assert format_local(restored.jury_deadline) == "20.05.2022 12:00"
    assert Edition.from_data(EDITION.with_poll(42).to_data()).poll_id == 42
