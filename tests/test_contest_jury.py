"""Jury scores: weights, scales, conflicts of interest and the spread between members."""

from __future__ import annotations

from typing import Any

import pytest

from live.contest.jury import (
    Assignments,
    Criterion,
    Override,
    PairState,
    aggregate,
    default_criteria,
    member_total,
    pair_state,
    parse_criteria,
)

CRITERIA = [Criterion("need", "Behov", 2.0, 1, 5), Criterion("risk", "Risiko", 1.0, 0, 10)]


def test_the_default_sheet_has_the_calls_criteria() -> None:
    sheet = default_criteria()
    assert [c.id for c in sheet][:3] == ["need", "user-benefit", "strategy-fit"]
    assert all(c.weight == 1 and (c.scale_min, c.scale_max) == (1, 5) for c in sheet)


def test_a_members_total_is_weighted_and_normalised() -> None:
    assert member_total(CRITERIA, {"need": 5, "risk": 10}) == pytest.approx(1.0)
    assert member_total(CRITERIA, {"need": 1, "risk": 0}) == pytest.approx(0.0)
    # need 3 -> 0.5 (weight 2), risk 10 -> 1.0 (weight 1): (1.0 + 1.0) / 3
    assert member_total(CRITERIA, {"need": 3, "risk": 10}) == pytest.approx(2 / 3)
    assert member_total(CRITERIA, {"need": 3}) is None
    with pytest.raises(ValueError, match=r"outside 1\.\.5"):
        member_total(CRITERIA, {"need": 6, "risk": 1})


def test_aggregate_ranks_leaves_out_conflicts_and_shows_the_spread() -> None:
    scores = {
        ("anne", 1): {"need": 5, "risk": 10},
        ("bjørn", 1): {"need": 1, "risk": 0},
        ("anne", 2): {"need": 4, "risk": 5},
        ("bjørn", 2): {"need": 4, "risk": 5},
        ("carl", 2): {"need": 5, "risk": 10},  # carl has a conflict on idea 2
        ("carl", 3): {"need": 2},  # incomplete: left out
    }
    results = aggregate(CRITERIA, scores, conflicts=[("carl", 2)])
    assert [r.idea_id for r in results] == [2, 1]
    second, first = results[1], results[0]
    assert first.members == 2 and first.spread == pytest.approx(0.0)
    assert first.score == pytest.approx((2 * 0.75 + 0.5) / 3)
    assert second.score == pytest.approx(0.5) and second.spread == pytest.approx(1.0)


def test_a_bad_sheet_names_its_line() -> None:
    with pytest.raises(ValueError, match="line 2"):
        parse_criteria("criterion_id,text_nb,weight,scale_min,scale_max\nneed,Behov,x,1,5\n")
    with pytest.raises(ValueError, match="min below max"):
        parse_criteria("criterion_id,text_nb,weight,scale_min,scale_max\nneed,Behov,1,5,1\n")
    with pytest.raises(ValueError, match="unique"):
        parse_criteria("criterion_id,text_nb,weight,scale_min,scale_max\na,A,1,1,5\na,B,1,1,5\n")


def test_where_a_member_stands_follows_assignment_conflict_and_sheet() -> None:
    def state(**given: Any) -> PairState:
        facts = {"assigned": True, "network_conflict": False, "overridden": False,
                 "scores": None, **given}  # fmt: skip
        return pair_state(CRITERIA, **facts)

    assert state(assigned=False, scores={"need": 5, "risk": 1}) is PairState.UNASSIGNED
    assert state(network_conflict=True, scores={"need": 5, "risk": 1}) is (
        PairState.NETWORK_CONFLICT
    )
    assert state(network_conflict=True, overridden=True) is PairState.NOT_STARTED
    assert state(scores={"need": 5, "risk": 1}, declared_conflict=True) is (
        PairState.DECLARED_CONFLICT
    )
    assert state(scores={}) is PairState.NOT_STARTED
    assert state(scores={"need": 5}) is PairState.PARTLY
    assert state(scores={"need": 5, "risk": 1}) is PairState.SCORED


def test_assignments_keep_their_data_through_a_round_trip() -> None:
    made = Assignments(
        frozenset({(1, 2), (3, 4)}),
        {(1, 5): Override("Bytter ikke jobb", "org@ks.no", "2022-05-01T10:00:00.000+00:00")},
        {5: "digi-rogaland"},
    )
    assert Assignments.from_data(made.to_data()) == made
    assert Assignments.from_data(None) == Assignments()
    assert made.assigned(1, 5) and not made.assigned(1, 2)
    assert made.network_of(5, None) == "digi-rogaland" and made.network_of(6, "x") == "x"
