"""Approval voting in `live.tally`: pure unit tests and hypothesis properties."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from live import tally
from live.tally import Method

FINALISTS = (11, 12, 13, 14, 15)


def approval(*ballots: tuple[int, ...]) -> tally.Tally:
    counts = Counter(tally.normal_choices(Method.APPROVAL, b) for b in ballots)
    return tally.count(Method.APPROVAL, FINALISTS, list(counts.items()))


def test_each_approved_finalist_gets_one_point() -> None:
    result = approval((11, 12), (12,), (12, 13), (15, 11))
    assert [(s.finalist_id, s.score, s.place) for s in result.standings] == [
        (12, 3, 1), (11, 2, 2), (13, 1, 3), (15, 1, 3), (14, 0, 5),
    ]  # fmt: skip
    assert result.ballots == 4 and result.method is Method.APPROVAL


def test_k_limits_the_number_of_choices() -> None:
    tally.check_choices(Method.APPROVAL, FINALISTS, (11, 12), approval_limit=2)
    with pytest.raises(ValueError, match="too many choices"):
        tally.check_choices(Method.APPROVAL, FINALISTS, (11, 12, 13), approval_limit=2)
    with pytest.raises(ValueError, match="max_choices"):
        tally.check_choices(Method.APPROVAL, FINALISTS, (11,))
    assert tally.max_choices(Method.APPROVAL, 4) == 4
    with pytest.raises(ValueError):
        tally.max_choices(Method.APPROVAL, 0)


def test_an_approval_set_has_one_stored_form() -> None:
    assert tally.normal_choices(Method.APPROVAL, (13, 11, 12)) == (11, 12, 13)
    assert tally.normal_choices(Method.RANKED, (13, 11, 12)) == (13, 11, 12)
    with pytest.raises(ValueError, match="out of order"):
        tally.check_choices(Method.APPROVAL, FINALISTS, (13, 11), approval_limit=3)
    for bad, reason in [((), "no choice"), ((11, 11), "duplicate"), ((99,), "unknown")]:
        with pytest.raises(ValueError, match=reason):
            tally.check_choices(Method.APPROVAL, FINALISTS, bad, approval_limit=3)


def test_a_tie_for_a_winning_place_stays_open_until_resolved() -> None:
    standings = approval((11, 12), (11, 12), (13,)).standings
    assert tally.ties_to_resolve(standings, 1) == (tally.TieGroup((11, 12), 1, 2),)
    assert tally.winners(standings, 1) == ()
    assert tally.winners(standings, 2, [(12, 11)]) == (12, 11)
    assert tally.winners(standings, 3, [(12, 11)]) == (12, 11, 13)
    assert tally.check_resolution(standings, 1, (12, 11)).finalist_ids == (11, 12)
    drawn = tally.draw_lots((11, 12), "seed")
    assert drawn == tally.draw_lots((12, 11), "seed") and sorted(drawn) == [11, 12]


def test_a_tie_below_the_winning_places_needs_nothing() -> None:
    standings = approval((11, 12), (11, 13), (11, 14)).standings
    assert tally.ties_to_resolve(standings, 1) == ()
    assert tally.winners(standings, 1) == (11,)
    assert tally.winners(standings, 2) == (11,)  # 12, 13 and 14 share place 2


# --- properties -----------------------------------------------------------------------------

# Ballots of up to four approved finalists, each in the order the voter ticked them.
approval_sets = st.lists(
    st.sets(st.sampled_from(FINALISTS), min_size=1, max_size=4)
    .flatmap(lambda chosen: st.permutations(sorted(chosen)))
    .map(tuple),
    max_size=60,
)


@given(approval_sets)
def test_scores_equal_counting_ballot_by_ballot(ballots: list[tuple[int, ...]]) -> None:
    expected = dict.fromkeys(FINALISTS, 0)
    for ballot in ballots:
        for finalist in ballot:
            expected[finalist] += 1
    one_by_one = [(tally.normal_choices(Method.APPROVAL, b), 1) for b in ballots]
    assert tally.scores(Method.APPROVAL, FINALISTS, one_by_one) == expected
    assert {s.finalist_id: s.score for s in approval(*ballots).standings} == expected


@given(approval_sets)
def test_grouping_and_order_change_nothing(ballots: list[tuple[int, ...]]) -> None:
    grouped = approval(*ballots)
    shuffled = [tuple(reversed(b)) for b in ballots]
    assert approval(*shuffled) == grouped
    ungrouped = [(tally.normal_choices(Method.APPROVAL, b), 1) for b in reversed(ballots)]
    assert tally.count(Method.APPROVAL, FINALISTS, ungrouped) == grouped


@given(approval_sets, st.integers(min_value=1, max_value=len(FINALISTS)))
def test_winners_and_ties_behave_as_for_the_other_methods(
    ballots: list[tuple[int, ...]], places: int
) -> None:
    standings = approval(*ballots).standings
    open_ties = tally.ties_to_resolve(standings, places)
    decided = tally.winners(standings, places)
    assert len(decided) <= places
    if not open_ties:
        assert len(decided) == places
    else:
        first = open_ties[0]
        assert len(decided) == first.place - 1  # stops before the first open tie
        orders = [tally.draw_lots(group.finalist_ids, "s") for group in open_ties]
        assert len(tally.winners(standings, places, orders)) == places
    places_seen = [s.place for s in standings]
    assert places_seen == sorted(places_seen) and places_seen[0] == 1


@given(st.sets(st.sampled_from(FINALISTS), min_size=1), st.integers(min_value=1, max_value=4))
def test_k_is_the_only_size_limit(chosen: set[int], k: int) -> None:
    choices = tally.normal_choices(Method.APPROVAL, tuple(chosen))
    if len(choices) <= k:
        tally.check_choices(Method.APPROVAL, FINALISTS, choices, approval_limit=k)
    else:
        with pytest.raises(ValueError, match="too many choices"):
            tally.check_choices(Method.APPROVAL, FINALISTS, choices, approval_limit=k)
