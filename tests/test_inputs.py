"""The input readers (`live/inputs.py`), and everything that reads input without the web:
every parser of uploaded files, the tally and the tokens, fed hostile and random input.

Each hostile class gets a `BadRequest` naming its field (or a named problem per row),
never another exception; `tests/test_hostile_input.py` tries the same classes through
the app, and `tests/test_openapi_fuzz.py` fuzzes the JSON API against its document.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from live import inputs, tally
from live.contest.jury import parse_criteria
from live.contest.organisations import CsvError, parse_municipalities, parse_networks
from live.errors import BadRequest, Forbidden, Gone, LiveError, NotFound
from live.finale.finalist_import import parse_finalists
from live.finale.theme import check_logo
from live.tokens import ContestLinks, VoterTokens

MANY_DIGITS = "9" * 5000  # past int()'s 4,300-digit limit
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=200)  # every code point but surrogates

# ---------------------------------------------------------------------------------------
# The readers in live/inputs.py


@pytest.mark.parametrize(
    ("data", "message", "field"),
    [
        ('{"title": "\\ud800"}', "not valid text", "title"),
        ('{"finalists": [{"name": "a"}, {"name": "\\udfff"}]}', "not valid text",
         "finalists[2].name"),
        ('{"\\udc00x": 1}', "not valid text", "\\udc00x"),
        (b'{"title": "\xed\xa0\x80"}', "must be UTF-8", None),
        ('{"title": "a\\ud800\\udc00b"}', None, None),  # a proper pair: 𐀀
        ('{"winners": ' + MANY_DIGITS + "}", "more than 15 digits", "winners"),
        ('{"winners": -' + MANY_DIGITS + "}", "more than 15 digits", "winners"),
        ('{"winners": NaN}', "finite number", "winners"),
        ('{"winners": -Infinity}', "finite number", "winners"),
        ('{"winners": 1e999}', "finite number", "winners"),
        ("[" * 100_000 + "]" * 100_000, "nested more than 32", None),
        ('{"a": ' + "[" * 32 + "]" * 32 + "}", "nested more than 32", None),
        ('{"a": "' + "[" * 100 + '"}', None, None),  # brackets in a string do not count
        (b"\xff\xfe{\x00}\x00", "must be UTF-8", None),
        ('{"a": ', "cannot be read", None),
    ],
)  # fmt: skip
def test_json_refuses_each_hostile_class_naming_the_field(
    data: str | bytes, message: str | None, field: str | None
) -> None:
    if message is None:
        inputs.json_document(data)
        return
    with pytest.raises(BadRequest, match=message) as caught:
        inputs.json_document(data)
    assert caught.value.field == field


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**15) + 1, 10**15 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | ANY_TEXT,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(ANY_TEXT, children, max_size=5),
    max_leaves=30,
)  # fmt: skip


@given(JSON_VALUES)
def test_json_reads_back_every_ordinary_document(value: Any) -> None:
    assert inputs.json_document(json.dumps(value)) == value
    assert inputs.json_document(json.dumps(value, ensure_ascii=False).encode()) == value


@given(st.binary(max_size=300) | st.text(max_size=300) | st.text('[]{}"\\:,0123456789eE.-+ '))
def test_json_answers_anything_with_a_value_or_a_bad_request(data: str | bytes) -> None:
    with contextlib.suppress(BadRequest):
        inputs.json_document(data)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12", 12), (" 7 ", 7), (12, 12), ("²", None), ("٣", None), ("１２", None), ("-1", None),
     ("1e3", None), ("1_000", None), ("", None), (MANY_DIGITS, None), ("9" * 16, None),
     (True, None), (None, None), (-1, None), (10**15, None)],
)  # fmt: skip
def test_whole_numbers_are_ascii_digits_only(value: object, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(BadRequest, match="whole number of at most 15 digits"):
            inputs.whole_number(value, "version")
    else:
        assert inputs.whole_number(value, "version") == expected
    assert inputs.whole_number("", "version", default=0) == 0
    assert inputs.whole_number(None, "version", default=0) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2", 2.0), ("0.5", 0.5), ("1,5", 1.5), ("nan", None), ("NaN", None), ("inf", None),
     ("-inf", None), ("1e309", None), ("1e3", None), (MANY_DIGITS, None), ("²", None),
     ("", None), ("1.", None)],
)  # fmt: skip
def test_decimal_numbers_are_plain_and_finite(text: str, expected: float | None) -> None:
    assert inputs.parse_decimal(text) == expected


def test_csv_reads_every_line_ending_alike() -> None:
    rows = [["name", "pitch"], ["Alfa", "a, b"], ["Bravo", 'say "hei"']]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    for ending in ("\n", "\r\n", "\r"):
        text = out.getvalue().replace("\n", ending)
        assert [cells for _, cells in inputs.csv_rows(text)] == rows
        assert [line for line, _ in inputs.csv_rows(text)] == [1, 2, 3]


def test_a_csv_field_past_the_limit_names_its_line() -> None:
    text = 'name\nAlfa\n"' + "x" * (csv.field_size_limit() + 1) + '"\n'
    with pytest.raises(BadRequest, match="Line 3: a field is longer than"):
        list(inputs.csv_rows(text))


# ---------------------------------------------------------------------------------------
# Every parser of uploaded files, fed at random: a result or a named problem, no crash

CSV_ALPHABET = st.sampled_from(
    [*',;"\r\n\t ', "name", "navn", "pitch", "owner", "Alfa", "²", "\x00", "é", "=1+1"]
)
CSV_TEXT = st.lists(CSV_ALPHABET, max_size=60).map("".join)


@given(
    st.binary(max_size=400)
    | CSV_TEXT.map(str.encode)
    | JSON_VALUES.map(lambda v: json.dumps({"finalists": v} if isinstance(v, list) else v).encode())
)
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_finalist_files_give_finalists_or_problems(data: bytes) -> None:
    for filename in ("finalists.csv", "finalists.json", "../../etc/passwd"):
        finalists, problems = parse_finalists(filename, data)
        assert all(isinstance(p.message, str) and p.row >= 0 for p in problems)
        if not problems:
            assert 2 <= len(finalists) <= 10
            assert all(
                isinstance(v, str) and inputs.is_text(v) for f in finalists for v in f.values()
            )


NETWORKS_HEADER = "network_id,name,kind,county_numbers\n"
MUNICIPALITIES_HEADER = (
    "municipality_number,name,all_official_names,county_number,county_name,network_id,"
    "sami_administrative_area\n"
)


@given(CSV_TEXT, st.sampled_from(["", NETWORKS_HEADER, MUNICIPALITIES_HEADER]))
def test_organisation_files_give_a_directory_or_a_named_problem(text: str, header: str) -> None:
    for parse in (parse_networks, parse_municipalities):
        with contextlib.suppress(CsvError, BadRequest):
            parse(header + text)


@given(CSV_TEXT)
def test_criteria_files_give_criteria_or_a_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        parse_criteria("criterion_id,text_nb,weight,scale_min,scale_max\n" + text)


@given(st.binary(max_size=300) | CSV_TEXT.map(lambda t: f"<svg>{t}</svg>".encode()))
def test_logo_files_give_a_logo_or_a_bad_request(data: bytes) -> None:
    with contextlib.suppress(BadRequest):
        check_logo(data)


# ---------------------------------------------------------------------------------------
# The tally and the tokens, fed at random

FINALIST_IDS = st.lists(st.integers(-5, 20), min_size=1, max_size=10, unique=True)
PATTERNS = st.lists(
    st.tuples(st.lists(st.integers(-5, 25), max_size=5).map(tuple), st.integers(0, 10**6)),
    max_size=30,
)


@given(st.sampled_from(list(tally.Method)), FINALIST_IDS, PATTERNS, st.integers(1, 10))
def test_the_tally_counts_any_patterns_without_crashing(
    method: tally.Method, ids: list[int], counts: list[tuple[tuple[int, ...], int]], winners: int
) -> None:
    result = tally.count(method, ids, counts)
    assert result.ballots == sum(number for _, number in counts)
    assert sorted(s.finalist_id for s in result.standings) == sorted(ids)
    assert all(s.score >= 0 for s in result.standings)
    places = [s.place for s in result.standings]
    assert places == sorted(places) and places[0] == 1
    decided = tally.winners(result.standings, winners)
    assert len(decided) <= winners and len(set(decided)) == len(decided)
    for group in tally.ties_to_resolve(result.standings, winners):
        assert tally.check_resolution(result.standings, winners, group.finalist_ids) == group


@given(st.sampled_from(list(tally.Method)), FINALIST_IDS, st.lists(st.integers(), max_size=6))
def test_a_ballot_is_valid_or_refused_with_a_value_error(
    method: tally.Method, ids: list[int], choices: list[int]
) -> None:
    try:
        tally.check_choices(method, ids, choices)
    except ValueError:
        return
    assert 1 <= len(choices) <= tally.max_choices(method) and set(choices) <= set(ids)


@given(st.lists(st.integers(), max_size=6), st.integers(1, 10), FINALIST_IDS, PATTERNS)
def test_a_tie_resolution_matches_an_open_tie_or_is_a_value_error(
    order: list[int], winners: int, ids: list[int], counts: list[tuple[tuple[int, ...], int]]
) -> None:
    standings = tally.count(tally.Method.RANKED, ids, counts).standings
    try:
        group = tally.check_resolution(standings, winners, order)
    except ValueError:
        return
    assert set(group.finalist_ids) == set(order)


@given(FINALIST_IDS, ANY_TEXT)
def test_lots_are_a_permutation_for_any_seed(ids: list[int], seed: str) -> None:
    assert sorted(tally.draw_lots(ids, seed)) == sorted(ids)


@given(ANY_TEXT | st.text(alphabet="abcdefABCDEF0123456789-_.=", max_size=120), st.integers())
def test_any_voter_token_is_valid_or_forbidden(value: str, poll_id: int) -> None:
    tokens = VoterTokens("k" * 32)
    with contextlib.suppress(Forbidden):
        tokens.read(value, poll_id)
    token, signed = tokens.issue(abs(poll_id))
    assert tokens.read(signed, abs(poll_id)) == token


@given(ANY_TEXT, st.integers(0, 10**15), ANY_TEXT)
def test_any_contest_link_is_valid_or_not_found(value: str, idea_id: int, nonce: str) -> None:
    links = ContestLinks("k" * 32)
    for read in (links.read_idea_link, links.read_invitation):
        with contextlib.suppress(NotFound, Gone):
            read(value)
    assert links.read_idea_link(links.idea_link(idea_id, nonce)) == (idea_id, nonce)
    assert links.read_invitation(links.invitation(nonce)) == nonce


def test_errors_never_echo_a_lone_surrogate() -> None:
    """The field name in an error is printable even when the key itself is not text."""
    with pytest.raises(LiveError) as caught:
        inputs.json_document('{"\\ud800": 1}')
    assert inputs.is_text(str(caught.value)) and inputs.is_text(caught.value.field or "")
