"""The store contract's part for one person, one vote and a checkable count, on every real
backend: poll settings, approval ballots, badges (one ballot per badge, revocation),
receipts, flagged ballots and exclusion decisions, and the ballot list the bulletin reads."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from importlib import resources
from pathlib import Path

import pytest

from live.errors import Conflict, Forbidden, NotFound
from live.store import Store
from live.store._sqlite_engine import connect, migrate
from live.store.base import AlreadyDone
from live.store.models import (
    Eligibility,
    FinalistDraft,
    Poll,
    PollDraft,
    PollSettings,
    PollStatus,
    TieRule,
    badge_voter_id,
)
from live.tally import Method
from live.tokens import TOKEN_KIND_BADGE, VoterToken, new_badge_code, receipt_code
from tests.test_store_contract import ACTOR, draft, open_poll, voter

pytestmark = pytest.mark.asyncio

SECRET = "test-secret"


def badge_draft(**settings: object) -> PollDraft:
    chosen = PollSettings(eligibility=Eligibility.BADGE, **settings)  # type: ignore[arg-type]
    return PollDraft("Finale", Method.SINGLE, 1, (FinalistDraft("A"), FinalistDraft("B")), chosen)


def badge_token(poll: Poll, code: str) -> VoterToken:
    return VoterToken(poll.id, badge_voter_id(code), TOKEN_KIND_BADGE)


async def cast(store: Store, token: VoterToken, choices: list[int]) -> str:
    """Cast with the token's receipt, as the ballot does; the receipt the store kept."""
    outcome = await store.cast_ballot(
        token, choices, None, receipt_code(SECRET, token.poll_id, token.voter_id)
    )
    return outcome.ballot.receipt


async def test_settings_are_kept_and_audited(store: Store) -> None:
    settings = PollSettings(Eligibility.BADGE, 2, TieRule.DECISION, 350)
    made = await store.create_poll(
        PollDraft("Finale", Method.APPROVAL, 2, draft().finalists, settings), actor=ACTOR
    )
    assert made.settings == settings and made.choice_limit == 2
    assert made.method is Method.APPROVAL
    assert (await store.get_poll(made.id)).settings == settings
    changed = PollSettings(Eligibility.OPEN, None, TieRule.LOTS, None)
    updated = await store.update_poll(made.id, draft(), actor=ACTOR)
    assert updated.settings == changed and updated.choice_limit == 1
    entries = [e for e in await store.list_audit() if e.subject == f"poll:{made.id}"]
    assert entries[0].after["eligibility"] == "badge" and entries[0].after["max_choices"] == 2
    assert entries[1].before["tie_rule"] == "decision" and entries[1].after["tie_rule"] == "lots"
    assert entries[1].before["expected_voters"] == 350


async def test_expected_voters_change_in_any_status_once_per_value(store: Store) -> None:
    poll = await open_poll(store)
    assert (
        await store.set_expected_voters(poll.id, 800, actor=ACTOR)
    ).settings.expected_voters == 800
    again = await store.set_expected_voters(poll.id, 800, actor=ACTOR)
    await store.close_poll(poll.id, actor=ACTOR)
    cleared = await store.set_expected_voters(poll.id, None, actor=ACTOR)
    assert again.settings.expected_voters == 800 and cleared.settings.expected_voters is None
    actions = [e.action for e in await store.list_audit() if e.subject == f"poll:{poll.id}"]
    assert actions.count("poll.expected_voters") == 2
    with pytest.raises(NotFound):
        await store.set_expected_voters(99_999, 5, actor=ACTOR)


async def test_approval_ballots_count_one_point_per_approved_finalist(store: Store) -> None:
    settings = PollSettings(max_choices=2)
    poll = await store.create_poll(
        PollDraft("Finale", Method.APPROVAL, 1, draft().finalists, settings), actor=ACTOR
    )
    poll = await store.open_poll(poll.id, actor=ACTOR)
    a, b, c = poll.finalist_ids
    await store.cast_ballot(voter(poll, "v1"), [a, b], None)
    await store.cast_ballot(voter(poll, "v2"), [a], None)
    await store.cast_ballot(voter(poll, "v3"), [b, c], None)
    await store.close_poll(poll.id, actor=ACTOR)
    result = await store.get_result(poll.id)
    assert {s.finalist_id: s.score for s in result.standings} == {a: 2, b: 2, c: 1}
    assert result.ballots == 3


async def test_receipts_are_kept_stable_and_listed_without_voter_ids(store: Store) -> None:
    poll = await open_poll(store)
    a, b = poll.finalist_ids[:2]
    first = await cast(store, voter(poll, "v1"), [a])
    assert first == receipt_code(SECRET, poll.id, "v1")
    changed = await store.cast_ballot(voter(poll, "v1"), [b], None, "OTHER-CODE")
    assert changed.ballot.receipt == first  # a change of vote keeps the receipt
    assert (await store.get_ballot(poll.id, "v1")).receipt == first  # type: ignore[union-attr]
    receipts = {await cast(store, voter(poll, f"v{n}"), [a]) for n in range(2, 40)}
    assert len(receipts) == 38 and first not in receipts
    listed = await store.list_ballots(poll.id)
    assert [b.receipt for b in listed] == sorted(b.receipt for b in listed)
    assert {b.receipt for b in listed} == receipts | {first}
    assert next(x for x in listed if x.receipt == first).choices == (b,)
    assert all(x.kind == "device" and not x.flagged and x.excluded_by is None for x in listed)


async def test_one_ballot_per_badge_whatever_the_device(store: Store) -> None:
    poll = await store.create_poll(badge_draft(), actor=ACTOR)
    codes = [new_badge_code() for _ in range(3)]
    await store.add_badges(poll.id, codes, actor=ACTOR)
    poll = await store.open_poll(poll.id, actor=ACTOR)
    a, b = poll.finalist_ids
    phones = [badge_token(poll, codes[0]) for _ in range(3)]  # one badge, three phones
    await asyncio.gather(*(cast(store, phone, [a]) for phone in phones))
    await cast(store, phones[2], [b])  # the last submission counts
    snapshot = await store.snapshot(poll.id)
    assert snapshot.counts == (((b,), 1),)
    badges = await store.list_badges(poll.id)
    assert [x.code for x in badges] == codes
    assert [x.used for x in badges] == [True, False, False]
    found = await store.find_badge(codes[0])
    assert found is not None and found.poll_id == poll.id and found.used
    assert await store.find_badge("AAAAA-AAAAA") is None


async def test_forged_and_foreign_badges_count_nothing(store: Store) -> None:
    poll = await store.create_poll(badge_draft(), actor=ACTOR)
    other = await store.create_poll(badge_draft(), actor=ACTOR)
    mine, theirs = new_badge_code(), new_badge_code()
    await store.add_badges(poll.id, [mine], actor=ACTOR)
    await store.add_badges(other.id, [theirs], actor=ACTOR)
    poll = await store.open_poll(poll.id, actor=ACTOR)
    a = poll.finalist_ids[0]
    for code in ("AAAAA-AAAAA", theirs):
        with pytest.raises(Forbidden):
            await cast(store, badge_token(poll, code), [a])
    with pytest.raises(Conflict):  # a code is unique across every poll
        await store.add_badges(poll.id, [theirs], actor=ACTOR)
    assert (await store.snapshot(poll.id)).counts == ()


async def test_revoking_a_badge_takes_its_ballot_out_while_open(store: Store) -> None:
    poll = await store.create_poll(badge_draft(), actor=ACTOR)
    keep, drop, unused = (new_badge_code() for _ in range(3))
    await store.add_badges(poll.id, [keep, drop, unused], actor=ACTOR)
    poll = await store.open_poll(poll.id, actor=ACTOR)
    a, b = poll.finalist_ids
    await cast(store, badge_token(poll, keep), [a])
    await cast(store, badge_token(poll, drop), [b])
    revoked = await store.revoke_badge(poll.id, drop, actor=ACTOR)
    assert revoked.revoked_at is not None and not revoked.used
    assert (await store.snapshot(poll.id)).counts == (((a,), 1),)
    with pytest.raises(Forbidden):
        await cast(store, badge_token(poll, drop), [b])
    with pytest.raises(AlreadyDone):
        await store.revoke_badge(poll.id, drop, actor=ACTOR)
    with pytest.raises(NotFound):
        await store.revoke_badge(poll.id, "AAAAA-AAAAA", actor=ACTOR)
    await store.close_poll(poll.id, actor=ACTOR)
    with pytest.raises(Conflict):
        await store.revoke_badge(poll.id, unused, actor=ACTOR)
    with pytest.raises(Conflict):
        await store.add_badges(poll.id, [new_badge_code()], actor=ACTOR)
    assert (await store.get_result(poll.id)).counts == (((a,), 1),)
    entries = [e for e in await store.list_audit() if e.subject == f"poll:{poll.id}"]
    revokes = [e for e in entries if e.action == "poll.badge_revoke"]
    assert [e.after for e in revokes] == [{"code": drop, "ballot_removed": True}]
    assert [e.after for e in entries if e.action == "poll.badges"] == [{"count": 3}]


async def test_revoking_races_with_voting_never_leaves_a_revoked_ballot(store: Store) -> None:
    poll = await store.create_poll(badge_draft(), actor=ACTOR)
    codes = [new_badge_code() for _ in range(20)]
    await store.add_badges(poll.id, codes, actor=ACTOR)
    poll = await store.open_poll(poll.id, actor=ACTOR)
    a = poll.finalist_ids[0]

    async def vote(code: str) -> None:
        with contextlib.suppress(Forbidden):
            await cast(store, badge_token(poll, code), [a])

    jobs = [vote(c) for c in codes] + [
        store.revoke_badge(poll.id, c, actor=ACTOR) for c in codes[::2]
    ]
    await asyncio.gather(*jobs)
    await store.close_poll(poll.id, actor=ACTOR)
    assert (await store.get_result(poll.id)).ballots == 10
    assert sum(b.used for b in await store.list_badges(poll.id)) == 10


async def test_flagged_ballots_are_excluded_by_a_recorded_decision(store: Store) -> None:
    poll = await open_poll(store)
    a, b = poll.finalist_ids[:2]
    await cast(store, voter(poll, "fair"), [a])
    for n in range(5):
        await cast(store, VoterToken(poll.id, f"stuffer{n}", flagged=True), [b])
    listed = await store.list_ballots(poll.id)
    assert sum(x.flagged for x in listed) == 5
    exclusion = await store.exclude_flagged(poll.id, "Stuffing from one address", actor=ACTOR)
    assert exclusion.ballots == 5 and exclusion.decided_by == ACTOR
    assert exclusion.note == "Stuffing from one address"
    assert (await store.snapshot(poll.id)).counts == (((a,), 1),)
    with pytest.raises(Forbidden):  # an excluded ballot stays out
        await cast(store, VoterToken(poll.id, "stuffer0", flagged=True), [a])
    with pytest.raises(Conflict):  # nothing flagged counts now
        await store.exclude_flagged(poll.id, "again", actor=ACTOR)
    await cast(store, VoterToken(poll.id, "late", flagged=True), [b])  # counts until decided
    second = await store.exclude_flagged(poll.id, "The late one too", actor=ACTOR)
    assert second.ballots == 1 and second.id != exclusion.id
    assert await store.list_exclusions(poll.id) == [exclusion, second]
    await store.close_poll(poll.id, actor=ACTOR)
    with pytest.raises(Conflict):
        await store.exclude_flagged(poll.id, "after", actor=ACTOR)
    locked = await store.get_result(poll.id)
    assert locked.counts == (((a,), 1),)
    ballots = await store.list_ballots(poll.id)
    assert [x.choices for x in ballots if x.excluded_by is None] == [(a,)]
    assert sorted(x.excluded_by or 0 for x in ballots if x.excluded_by) == [exclusion.id] * 5 + [
        second.id
    ]
    actions = [e.action for e in await store.list_audit() if e.subject == f"poll:{poll.id}"]
    assert actions.count("poll.exclude") == 2


async def test_the_ballot_list_recounts_to_the_locked_result(store: Store) -> None:
    poll = await open_poll(store, Method.RANKED)
    ids = poll.finalist_ids
    patterns = [[ids[0], ids[1]], [ids[1]], [ids[2], ids[0], ids[1]]]
    await asyncio.gather(*(
        cast(store, voter(poll, f"v{n}"), patterns[n % 3]) for n in range(60)
    ))  # fmt: skip
    await store.close_poll(poll.id, actor=ACTOR)
    counted: dict[tuple[int, ...], int] = {}
    for ballot in await store.list_ballots(poll.id):
        counted[ballot.choices] = counted.get(ballot.choices, 0) + 1
    assert tuple(sorted(counted.items())) == (await store.get_result(poll.id)).counts
    assert (await store.get_poll(poll.id)).status is PollStatus.CLOSED


async def test_hits_are_counted_per_window(store: Store) -> None:
    assert await store.count_hits("tokens:test") == 0
    for _ in range(3):
        await store.hit("tokens:test", 60, 1000)
    assert await store.count_hits("tokens:test") == 3
    await store.clear_hits("tokens:test")
    assert await store.count_hits("tokens:test") == 0


async def test_sqlite_migration_keeps_polls_and_their_ballots(tmp_path: Path) -> None:
    """A file made before badges existed keeps every poll, finalist and ballot."""
    path = tmp_path / "old.db"
    conn = connect(path)
    # Bring the file to version 5 only, then fill it as the old code did.
    scripts = sorted(
        item for item in resources.files("live.store").joinpath("migrations").iterdir()
        if item.name.endswith(".sql") and item.name < "0006"
    )  # fmt: skip
    conn.create_function("casefold", 1, str.casefold, deterministic=True)
    for number, item in enumerate(scripts, start=1):
        conn.executescript(item.read_text(encoding="utf-8"))
        conn.execute(f"PRAGMA user_version = {number:d}")
    conn.execute(
        "INSERT INTO polls (code, title, method, winners, created_at, status)"
        " VALUES ('ABC123', 'Old', 'ranked', 1, 'x', 'closed')"
    )
    conn.execute("INSERT INTO finalists (poll_id, position, name) VALUES (1, 0, 'A')")
    conn.execute(
        "INSERT INTO ballots (poll_id, voter_id, choices, cast_at, updated_at)"
        " VALUES (1, 'v', '1', 'x', 'x')"
    )
    conn.execute("INSERT INTO results (poll_id, counts, locked_at) VALUES (1, '[[[1], 1]]', 'x')")
    assert migrate(conn) == 6
    assert conn.execute("SELECT title, eligibility, tie_rule FROM polls").fetchall() == [
        ("Old", "open", "lots")
    ]
    assert conn.execute("SELECT COUNT(*) FROM finalists").fetchone() == (1,)
    assert conn.execute("SELECT flagged, excluded_by FROM ballots").fetchall() == [(0, None)]
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
    with pytest.raises(sqlite3.IntegrityError):  # the foreign keys still hold
        conn.execute("INSERT INTO finalists (poll_id, position, name) VALUES (9, 0, 'B')")
