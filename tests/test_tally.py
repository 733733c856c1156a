"""The counting rules: single, ranked (Borda 3-2-1), competition ranking, ties, lots."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from live import tally
from live.tally import Method, Standing

IDS = (11, 12, 13, 14, 15)


def counts_of(*ballots: tuple[int, ...]) -> list[tuple[tuple[int, ...], int]]:
    return list(Counter(ballots).items())


def test_single_counts_one_point_per_ballot() -> None:
    result = tally.count(Method.SINGLE, IDS, counts_of((12,), (12,), (11,), (15,), (12,)))
    assert result.ballots == 5
    assert [(s.finalist_id, s.score, s.place) for s in result.standings] == [
        (12, 3, 1),
        (11, 1, 2),
        (15, 1, 2),
        (13, 0, 4),
        (14, 0, 4),
    ]
    assert [s.tied for s in result.standings] == [False, True, True, True, True]


def test_ranked_gives_three_two_one_points_by_position() -> None:
    result = tally.count(Method.RANKED, IDS, counts_of((11, 12, 13), (12, 11), (13,)))
    assert tally.scores(Method.RANKED, IDS, counts_of((11, 12, 13), (12, 11), (13,))) == {
        11: 3 + 2,
        12: 2 + 3,
        13: 1 + 3,
        14: 0,
        15: 0,
    }
    assert [s.finalist_id for s in result.standings][:3] == [11, 12, 13]
    assert result.standings[0].place == result.standings[1].place == 1


def test_choices_for_unknown_finalists_are_never_counted() -> None:
    assert tally.scores(Method.SINGLE, IDS, [((99,), 4), ((11,), 1)]) == {
        11: 1,
        12: 0,
        13: 0,
        14: 0,
        15: 0,
    }


@pytest.mark.parametrize(
    ("method", "choices", "problem"),
    [
        (Method.SINGLE, (), "no choice"),
        (Method.SINGLE, (11, 12), "too many choices"),
        (Method.RANKED, (11, 12, 13, 14), "too many choices"),
        (Method.RANKED, (11, 11), "duplicate choice"),
        (Method.RANKED, (11, 99), "unknown finalist 99"),
    ],
)
def test_check_choices_names_the_problem(
    method: Method, choices: tuple[int, ...], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        tally.check_choices(method, IDS, choices)


def test_check_choices_accepts_valid_ballots() -> None:
    tally.check_choices(Method.SINGLE, IDS, (13,))
    tally.check_choices(Method.RANKED, IDS, (13, 11, 15))
    tally.check_choices(Method.RANKED, IDS, (13,))


def standings(*scores: int) -> tuple[Standing, ...]:
    return tally.rank(dict(zip(IDS, scores, strict=False)), IDS[: len(scores)])


def test_no_ties_gives_all_winners() -> None:
    ranked = standings(9, 7, 5, 3, 1)
    assert tally.ties_to_resolve(ranked, 3) == ()
    assert tally.winners(ranked, 3) == (11, 12, 13)


@pytest.mark.parametrize(
    ("scores", "decided", "open_tie", "after_resolution"),
    [
        ((9, 9, 5, 3, 1), (), (11, 12), (12, 11, 13)),  # tie for first
        ((9, 7, 7, 3, 1), (11,), (12, 13), (11, 13, 12)),  # tie for second
        ((9, 7, 5, 5, 1), (11, 12), (13, 14), (11, 12, 14)),  # across the third-place line
        ((9, 7, 7, 7, 1), (11,), (12, 13, 14), (11, 14, 13)),  # three for second and third
        ((4, 4, 4, 4, 4), (), IDS, (15, 14, 13)),  # everyone tied (for example no ballots)
    ],
)
def test_ties_at_every_boundary_stay_open_until_resolved(
    scores: tuple[int, ...],
    decided: tuple[int, ...],
    open_tie: tuple[int, ...],
    after_resolution: tuple[int, ...],
) -> None:
    ranked = standings(*scores)
    groups = tally.ties_to_resolve(ranked, 3)
    assert [g.finalist_ids for g in groups] == [open_tie]
    assert tally.winners(ranked, 3) == decided
    assert tally.winners(ranked, 3, [tuple(reversed(open_tie))]) == after_resolution


def test_a_tie_below_the_winning_places_needs_no_resolution() -> None:
    ranked = standings(9, 7, 5, 2, 2)
    assert tally.ties_to_resolve(ranked, 3) == ()
    assert tally.winners(ranked, 3) == (11, 12, 13)
    assert [g.finalist_ids for g in tally.tie_groups(ranked)] == [(14, 15)]


def test_two_separate_ties_each_need_their_own_resolution() -> None:
    ranked = standings(9, 9, 5, 5, 1)
    first, second = tally.ties_to_resolve(ranked, 3)
    assert tally.winners(ranked, 3, [(12, 11)]) == (12, 11)
    assert tally.winners(ranked, 3, [(12, 11), (14, 13)]) == (12, 11, 14)
    assert (first.place, second.place) == (1, 3)


def test_check_resolution_accepts_only_an_open_tie_exactly() -> None:
    ranked = standings(9, 7, 7, 3, 1)
    assert tally.check_resolution(ranked, 3, (13, 12)).place == 2
    for wrong in ((12,), (12, 13, 14), (11, 12), (14, 15)):
        with pytest.raises(ValueError, match="does not match"):
            tally.check_resolution(ranked, 3, wrong)


def test_draw_lots_is_reproducible_from_its_seed() -> None:
    first = tally.draw_lots((13, 11, 12), "a1b2c3")
    assert first == tally.draw_lots((11, 12, 13), "a1b2c3")
    assert sorted(first) == [11, 12, 13]
    orders = {tally.draw_lots((11, 12, 13), f"seed-{n}") for n in range(50)}
    assert len(orders) > 1


ballot_strategy = st.lists(st.sampled_from(IDS), min_size=1, max_size=3, unique=True).map(tuple)


@given(st.lists(ballot_strategy, max_size=60))
def test_grouped_counts_equal_counting_ballot_by_ballot(ballots: list[tuple[int, ...]]) -> None:
    one_by_one = dict.fromkeys(IDS, 0)
    for ballot in ballots:
        for position, finalist in enumerate(ballot):
            one_by_one[finalist] += tally.RANKED_POINTS[position]
    assert tally.scores(Method.RANKED, IDS, counts_of(*ballots)) == one_by_one


@given(
    st.lists(st.integers(min_value=0, max_value=6), min_size=2, max_size=8),
    st.integers(min_value=1, max_value=3),
)
def test_winners_are_a_prefix_of_places_and_never_break_a_tie(
    scores: list[int], wanted: int
) -> None:
    ids = list(range(1, len(scores) + 1))
    ranked = tally.rank(dict(zip(ids, scores, strict=True)), ids)
    decided = tally.winners(ranked, wanted)
    assert len(decided) <= wanted
    assert list(decided) == [s.finalist_id for s in ranked[: len(decided)]]
    for finalist in decided:
        standing = next(s for s in ranked if s.finalist_id == finalist)
        assert not standing.tied or standing.place > wanted
    # A finalist in a decided place has a strictly better score than everyone after it.
    for index, finalist in enumerate(decided):
        score = next(s.score for s in ranked if s.finalist_id == finalist)
        assert all(s.score < score for s in ranked[index + 1 :])
    places = [s.place for s in ranked]
    assert places == sorted(places)
