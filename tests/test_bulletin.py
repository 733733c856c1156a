"""The bulletin (`live.finale.bulletin`): its form, its canonical digest, and `verify`
catching every kind of tampering with the reason."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from live import tally
from live.finale import bulletin
from live.store.models import (
    BallotRecord,
    Exclusion,
    Finalist,
    LockedResult,
    Poll,
    PollSettings,
    PollStatus,
    TieResolution,
    TieRule,
)
from live.tally import Method
from live.web.bulletin import CHECK_SNIPPET

FINALISTS = (
    Finalist(21, "Alfa", "", "Bergen kommune"),
    Finalist(22, "Bravo", "", ""),
    Finalist(23, "Charlie", "", "Ørsta"),
    Finalist(24, "Delta", "", ""),
)
LOCKED_AT = "2026-11-30T20:00:00+00:00"


def make_poll(method: Method = Method.SINGLE, k: int | None = None, **settings: Any) -> Poll:
    return Poll(
        id=7, code="ABCD", title="Finalen «2026»", method=method, winners=2,
        status=PollStatus.CLOSED, hide_counts=False, revealed=2, version=9,
        finalists=FINALISTS, created_at=LOCKED_AT, opened_at=LOCKED_AT, closed_at=LOCKED_AT,
        settings=PollSettings(max_choices=k, **settings),
    )  # fmt: skip


def record(receipt: str, *choices: int, excluded_by: int | None = None) -> BallotRecord:
    return BallotRecord(receipt, choices, "device", excluded_by is not None, excluded_by, LOCKED_AT)


def locked(poll: Poll, ballots: list[BallotRecord], *resolutions: TieResolution) -> LockedResult:
    counts = Counter(b.choices for b in ballots if b.excluded_by is None)
    return LockedResult(
        poll.id, poll.method, poll.finalist_ids, tuple(sorted(counts.items())), LOCKED_AT,
        resolutions,
    )  # fmt: skip


EXCLUSION = Exclusion(3, 7, "Flagged burst from one address", "org@example.no", LOCKED_AT, 1)
BALLOTS = [
    record("QQQQ-2222", 22),
    record("AAAA-1111", 21),
    record("MMMM-3333", 21),
    record("BBBB-4444", 23),
    record("ZZZZ-9999", 24, excluded_by=3),
]


def single_bulletin() -> dict[str, Any]:
    poll = make_poll()
    return bulletin.build(poll, locked(poll, BALLOTS), BALLOTS, [EXCLUSION])


def test_the_bulletin_has_the_documented_form() -> None:
    doc = single_bulletin()
    assert doc["format"] == "live-bulletin/1"
    assert doc["poll"] == {
        "id": 7, "code": "ABCD", "title": "Finalen «2026»", "method": "single",
        "max_choices": None, "winners": 2, "tie_rule": "lots", "eligibility": "open",
    }  # fmt: skip
    assert doc["finalists"][0] == {"id": 21, "name": "Alfa", "owner": "Bergen kommune"}
    assert [f["id"] for f in doc["finalists"]] == [21, 22, 23, 24]  # the stage's order
    assert [b["receipt"] for b in doc["ballots"]] == [
        "AAAA-1111", "BBBB-4444", "MMMM-3333", "QQQQ-2222",
    ]  # fmt: skip
    assert doc["ballots"][0] == {"receipt": "AAAA-1111", "choices": [21]}
    assert doc["excluded"] == [{"receipt": "ZZZZ-9999", "choices": [24], "exclusion": 3}]
    assert doc["exclusions"] == [
        {"id": 3, "note": "Flagged burst from one address", "decided_at": LOCKED_AT, "ballots": 1}
    ]
    assert doc["tally"][0] == {"finalist_id": 21, "score": 2, "place": 1}
    assert doc["winners"] == [21] and doc["locked_at"] == LOCKED_AT
    assert "org@example.no" not in json.dumps(doc)  # no one's e-mail address: it is public


def test_the_digest_is_sha256_of_the_canonical_form() -> None:
    doc = single_bulletin()
    rest = {key: value for key, value in doc.items() if key != "digest"}
    text = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert doc["digest"] == "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert "«2026»" in text  # not escaped: UTF-8 as it is
    # what the README tells people to run, on the downloaded file's JSON
    downloaded = json.loads(json.dumps(doc, indent=2))
    assert bulletin.digest_of(downloaded) == doc["digest"]


def test_the_order_of_ballots_is_unrelated_to_voting_order() -> None:
    poll = make_poll()
    reversed_ballots = list(reversed(BALLOTS))
    assert bulletin.build(poll, locked(poll, BALLOTS), reversed_ballots, [EXCLUSION]) == (
        single_bulletin()
    )


def test_an_untouched_bulletin_verifies() -> None:
    checked = bulletin.verify(single_bulletin())
    assert checked.ok and checked.problems == []
    assert checked.winners == (21,)
    assert [(s.finalist_id, s.score) for s in checked.tally][:2] == [(21, 2), (22, 1)]


def resign(doc: dict[str, Any]) -> dict[str, Any]:
    """As a forger who knows the README would: the digest made again after a change."""
    doc["digest"] = bulletin.digest_of(doc)
    return doc


def changed_choice(doc: dict[str, Any]) -> None:
    doc["ballots"][3]["choices"] = [21]


def dropped_ballot(doc: dict[str, Any]) -> None:
    del doc["ballots"][1]


def added_ballot(doc: dict[str, Any]) -> None:
    doc["ballots"].append({"receipt": "NEWW-0000", "choices": [22]})


def changed_tally(doc: dict[str, Any]) -> None:
    doc["tally"][0]["score"] = 5


def changed_winner(doc: dict[str, Any]) -> None:
    doc["winners"] = [22]


TAMPERING = {
    "changed choice": (changed_choice, "The tally does not match the recount"),
    "dropped ballot": (dropped_ballot, "The tally does not match the recount"),
    "added ballot": (added_ballot, "The tally does not match the recount"),
    "changed tally": (changed_tally, "says 5 points"),
    "changed winner": (changed_winner, "The winners do not match"),
}


@pytest.mark.parametrize("name", TAMPERING)
def test_tampering_fails_with_its_reason(name: str) -> None:
    change, reason = TAMPERING[name]
    doc = single_bulletin()
    change(doc)
    plain = bulletin.verify(doc)
    assert not plain.ok
    assert any("The digest does not match" in p for p in plain.problems)
    forged = bulletin.verify(resign(doc))  # even with a fresh digest, the recount tells
    assert not forged.ok
    assert any(reason in p for p in forged.problems), forged.problems
    assert not any("digest" in p for p in forged.problems)


def test_a_changed_digest_fails() -> None:
    doc = single_bulletin()
    doc["digest"] = "sha256:" + "0" * 64
    checked = bulletin.verify(doc)
    assert not checked.ok and len(checked.problems) == 1
    assert "The digest does not match the contents" in checked.problems[0]


def test_an_invalid_or_repeated_ballot_is_named() -> None:
    doc = single_bulletin()
    doc["ballots"].append({"receipt": "AAAA-1111", "choices": [21, 22]})
    problems = bulletin.verify(resign(doc)).problems
    assert "Ballot AAAA-1111 is not valid for single voting: too many choices." in problems
    assert "Receipt AAAA-1111 appears 2 times." in problems


def test_an_excluded_ballot_must_name_its_decision() -> None:
    doc = single_bulletin()
    doc["excluded"][0]["exclusion"] = 99
    problems = bulletin.verify(resign(doc)).problems
    assert problems == ["Excluded ballot ZZZZ-9999 names no recorded exclusion decision."]


def test_an_unreadable_document_says_why() -> None:
    for doc in ([], {"format": "other"}, {**single_bulletin(), "ballots": "many"}):
        checked = bulletin.verify(doc)
        assert not checked.ok and checked.problems[0].startswith("This is not a readable bulletin")
    floats = single_bulletin()
    floats["tally"][0]["score"] = 2.0
    assert "fraction" in bulletin.verify(resign(floats)).problems[0]


APPROVAL_BALLOTS = [
    record("A1", 21, 22),
    record("A2", 21, 22),
    record("A3", 23),
    record("A4", 22, 24),
    record("A5", 21, 24),
]  # 21: 3, 22: 3, 24: 2, 23: 1 -> a tie for first


def approval_bulletin(resolution: TieResolution) -> dict[str, Any]:
    poll = make_poll(Method.APPROVAL, 2)
    result = locked(poll, APPROVAL_BALLOTS, resolution)
    return bulletin.build(poll, result, APPROVAL_BALLOTS, [])


def lots(seed: str) -> TieResolution:
    order = tally.draw_lots((21, 22), seed)
    return TieResolution(order, TieRule.LOTS, seed, "", "host@example.no", LOCKED_AT)


def test_an_approval_bulletin_with_drawn_lots_verifies() -> None:
    doc = approval_bulletin(lots("c0ffee"))
    assert doc["poll"]["max_choices"] == 2 and doc["poll"]["method"] == "approval"
    assert doc["tie_resolutions"] == [
        {"order": list(tally.draw_lots((21, 22), "c0ffee")), "rule": "lots",
         "seed": "c0ffee", "note": "", "decided_at": LOCKED_AT},
    ]  # fmt: skip
    assert "host@example.no" not in json.dumps(doc)
    checked = bulletin.verify(doc)
    assert checked.ok, checked.problems
    assert checked.winners == tally.draw_lots((21, 22), "c0ffee")


def test_lots_must_match_their_seed() -> None:
    doc = approval_bulletin(lots("c0ffee"))
    doc["tie_resolutions"][0]["order"].reverse()
    doc["winners"].reverse()
    problems = bulletin.verify(resign(doc)).problems
    assert any("The lots drawn with seed 'c0ffee'" in p for p in problems), problems


def test_an_approval_ballot_over_k_is_invalid() -> None:
    doc = approval_bulletin(lots("c0ffee"))
    doc["ballots"][2]["choices"] = [21, 23, 24]
    problems = bulletin.verify(resign(doc)).problems
    assert "Ballot A3 is not valid for approval voting: too many choices." in problems


def test_a_decision_resolves_a_tie_of_the_recount_only() -> None:
    decided = TieResolution((22, 21), TieRule.DECISION, None, "By the jury", "x@y.no", LOCKED_AT)
    doc = approval_bulletin(decided)
    assert bulletin.verify(doc).ok and doc["winners"] == [22, 21]
    bad = copy.deepcopy(doc)
    bad["tie_resolutions"][0]["order"] = [23, 24]
    problems = bulletin.verify(resign(bad)).problems
    assert "The tie resolution [23, 24] resolves no tie of the recount." in problems


def test_the_readme_gives_the_snippet_that_the_page_gives(tmp_path: Path) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    snippet = CHECK_SNIPPET.format(file="bulletin-CODE.json")
    assert f"```python\n{snippet}\n```" in readme
    assert 'json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)' in readme
    path = tmp_path / "bulletin-CODE.json"
    for document, expected in (
        (single_bulletin(), "True"),
        ({**single_bulletin(), "x": 1}, "False"),
    ):
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
        printed = io.StringIO()
        with contextlib.chdir(tmp_path), contextlib.redirect_stdout(printed):
            exec(snippet, {})  # the README's own code, as a reader runs it
        assert printed.getvalue() == f"{expected}\n"
