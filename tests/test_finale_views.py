"""What each kind of screen is shown: the stage never gives the result away, phones hear
nothing from a vote, the console sees everything (live/finale/views.py)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from live.finale.views import console_view, counts_visible, phone_view, stage_view
from live.store.models import (
    Eligibility,
    Finalist,
    Poll,
    PollSettings,
    PollStatus,
    Snapshot,
    TieResolution,
    TieRule,
)
from live.tally import Method

FINALISTS = tuple(Finalist(i, f"Finalist {i}", "", f"Kommune {i}") for i in range(1, 6))
COUNTS = (((1,), 5), ((2,), 4), ((3,), 3), ((4,), 1))
DIGEST = "sha256:" + "1a2b3c4d" * 8


def poll(**changes: object) -> Poll:
    base = Poll(
        id=7, code="ABC123", title="Finalen", method=Method.SINGLE, winners=3,
        status=PollStatus.OPEN, hide_counts=False, revealed=0, version=12,
        finalists=FINALISTS, created_at="2026-11-30T10:00:00.000+00:00",
        opened_at="2026-11-30T10:01:00.000+00:00", closed_at=None,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def snapshot(
    counts: tuple[tuple[tuple[int, ...], int], ...] = COUNTS, **changes: object
) -> Snapshot:
    return Snapshot(poll(**changes), counts)


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("revealed", [0, 1, 2])
def test_from_closing_until_the_last_reveal_the_stage_shows_no_counts(
    hidden: bool, revealed: int
) -> None:
    closed = snapshot(status=PollStatus.CLOSED, hide_counts=hidden, revealed=revealed)
    view = stage_view(closed, DIGEST)
    assert "tally" not in view and not counts_visible(snapshot(status=PollStatus.CLOSED))
    assert all("score" not in entry for entry in view["podium"])
    assert [entry["place"] for entry in view["podium"]] == [3, 2][:revealed]
    assert view["ballots"] == 13  # the number of ballots is no secret
    assert "score" not in json.dumps(view)
    assert "digest" not in view and "sha256" not in json.dumps(view)  # nor the bulletin's
    assert "sha256" not in json.dumps(console_view(closed)) + json.dumps(phone_view(closed))


def test_after_the_reveal_the_stage_follows_hide_counts() -> None:
    shown = stage_view(snapshot(status=PollStatus.CLOSED, revealed=3))
    assert shown["reveal_complete"] and [r["score"] for r in shown["tally"]][:3] == [5, 4, 3]
    assert [(e["place"], e["score"]) for e in shown["podium"]] == [(3, 3), (2, 4), (1, 5)]
    hidden = stage_view(snapshot(status=PollStatus.CLOSED, revealed=3, hide_counts=True))
    assert "tally" not in hidden and "score" not in json.dumps(hidden)
    assert [e["name"] for e in hidden["podium"]] == ["Finalist 3", "Finalist 2", "Finalist 1"]


def test_while_open_the_stage_shows_counts_unless_hidden() -> None:
    assert "tally" in stage_view(snapshot())
    assert "tally" not in stage_view(snapshot(hide_counts=True))
    assert stage_view(snapshot(hide_counts=True))["ballots"] == 13


def test_the_full_result_flag_reaches_the_stage_only_after_the_reveal() -> None:
    assert not stage_view(snapshot(status=PollStatus.CLOSED, show_results=True))["show_results"]
    done = snapshot(status=PollStatus.CLOSED, show_results=True, revealed=3)
    assert stage_view(done)["show_results"]


def test_a_vote_does_not_change_what_phones_are_sent() -> None:
    before = phone_view(snapshot(counts=COUNTS))
    after = phone_view(snapshot(counts=(*COUNTS, ((5,), 1))))
    assert before == after
    assert set(before) == {"status", "closes_at", "winners", "revealed",
                           "reveal_complete", "podium"}  # fmt: skip
    assert len(json.dumps(before)) < 200


def test_phones_get_the_closing_time_and_the_revealed_places() -> None:
    timed = phone_view(snapshot(closes_at_ms=1_796_040_000_000))
    assert timed["closes_at"] == "2026-11-30T12:00:00.000+00:00"
    closed = phone_view(snapshot(status=PollStatus.CLOSED, revealed=2, closes_at_ms=1))
    assert closed["closes_at"] is None
    assert closed["podium"] == [
        {"place": 3, "finalist_id": 3, "name": "Finalist 3", "lots": False},
        {"place": 2, "finalist_id": 2, "name": "Finalist 2", "lots": False},
    ]


def test_a_place_decided_by_lots_says_so() -> None:
    tied = (((1,), 5), ((2,), 5), ((3,), 1))
    resolution = TieResolution((2, 1), TieRule.LOTS, "abc", "", "host@example.no", "now")
    closed = Snapshot(poll(status=PollStatus.CLOSED, revealed=3), tied, (resolution,))
    podium = stage_view(closed)["podium"]
    assert [(e["place"], e["finalist_id"], e["lots"]) for e in podium] == [
        (3, 3, False), (2, 1, True), (1, 2, True),
    ]  # fmt: skip


def test_the_console_sees_counts_ties_and_the_next_step() -> None:
    draft = console_view(snapshot(status=PollStatus.DRAFT, counts=()))
    assert draft["next"] == {"step": "open"}
    opened = console_view(snapshot(hide_counts=True))
    assert opened["tally"] and not opened["counts_public"] and opened["next"] == {"step": "close"}
    tied = Snapshot(poll(status=PollStatus.CLOSED), (((1,), 5), ((2,), 3), ((3,), 3)))
    blocked = console_view(tied)
    assert blocked["open_ties"] == [{"finalist_ids": [2, 3], "place": 2, "score": 3}]
    assert blocked["next"] == {"step": "tie", "place": 2} and blocked["tally"]
    ready = console_view(snapshot(status=PollStatus.CLOSED, revealed=1))
    assert ready["next"] == {"step": "reveal", "place": 2}
    assert ready["podium"][0]["score"] == 3  # the console sees the revealed place's score
    assert console_view(snapshot(status=PollStatus.CLOSED, revealed=3))["next"] == {"step": "done"}


@pytest.mark.parametrize("hidden", [False, True])
def test_the_digest_reaches_the_stage_once_the_reveal_is_complete_and_never_before(
    hidden: bool,
) -> None:
    for status in (PollStatus.DRAFT, PollStatus.OPEN):
        early = stage_view(snapshot(status=status, hide_counts=hidden), DIGEST)
        assert "digest" not in early and "sha256" not in json.dumps(early)
    done = snapshot(status=PollStatus.CLOSED, revealed=3, hide_counts=hidden)
    assert stage_view(done, DIGEST)["digest"] == DIGEST
    assert "digest" not in stage_view(done)  # none yet: nothing is made up
    assert "digest" not in phone_view(done)


def test_the_stage_states_the_rules() -> None:
    plain = stage_view(snapshot(status=PollStatus.DRAFT, counts=()))
    assert {k: plain[k] for k in ("method", "max_choices", "tie_rule", "eligibility")} == {
        "method": "single", "max_choices": 1, "tie_rule": "lots", "eligibility": "open",
    }  # fmt: skip
    ranked = stage_view(snapshot(method=Method.RANKED))
    assert (ranked["method"], ranked["max_choices"]) == ("ranked", 3)
    settings = PollSettings(Eligibility.BADGE, 2, TieRule.DECISION)
    approval = stage_view(snapshot(method=Method.APPROVAL, settings=settings))
    assert (approval["method"], approval["max_choices"]) == ("approval", 2)
    assert (approval["tie_rule"], approval["eligibility"]) == ("decision", "badge")
    assert console_view(snapshot(method=Method.APPROVAL, settings=settings))["max_choices"] == 2
    assert "tie_rule" not in phone_view(snapshot())  # phones have the rules on the ballot


def test_the_stage_keeps_the_polls_finalist_order() -> None:
    shuffled = tuple(reversed(FINALISTS))
    view = stage_view(snapshot(finalists=shuffled))
    assert [f["id"] for f in view["finalists"]] == [5, 4, 3, 2, 1]
    assert [row["finalist_id"] for row in view["tally"]][:3] == [1, 2, 3]  # by place
