"""The store contract (live/store/base.py), run against every real backend."""

from __future__ import annotations

import asyncio

import pytest

from live.errors import Conflict, NotFound
from live.store import Store, make_store
from live.store.base import StaleRecord
from live.store.models import (
    FinalistDraft,
    Poll,
    PollDraft,
    PollStatus,
    Record,
    Role,
    TieResolution,
    TieRule,
)
from live.tally import Method
from live.tokens import VoterToken

pytestmark = pytest.mark.asyncio

ACTOR = "org@example.no"  # who the audit log says made each change


def draft(method: Method = Method.SINGLE, names: tuple[str, ...] = ("A", "B", "C")) -> PollDraft:
    return PollDraft("Finale", method, 3, tuple(FinalistDraft(n) for n in names))


async def open_poll(store: Store, method: Method = Method.SINGLE) -> Poll:
    poll = await store.create_poll(draft(method), actor=ACTOR)
    return await store.open_poll(poll.id, actor=ACTOR)


def voter(poll: Poll, name: str) -> VoterToken:
    return VoterToken(poll.id, name)


async def test_create_and_read_a_poll(store: Store) -> None:
    poll = await store.create_poll(draft(), actor=ACTOR)
    assert poll.status is PollStatus.DRAFT and poll.version >= 1
    assert [f.name for f in poll.finalists] == ["A", "B", "C"]
    assert await store.get_poll(poll.id) == poll
    assert await store.find_poll(poll.code) == poll
    assert [p.id for p in await store.list_polls()] == [poll.id]
    other = await store.create_poll(draft(), actor=ACTOR)
    assert other.code != poll.code
    assert [p.id for p in await store.list_polls()] == [other.id, poll.id]


async def test_unknown_polls_are_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.get_poll(999)
    with pytest.raises(NotFound):
        await store.find_poll("NOPE42")


async def test_only_a_draft_can_be_edited(store: Store) -> None:
    poll = await store.create_poll(draft(), actor=ACTOR)
    edited = await store.update_poll(poll.id, draft(Method.RANKED, ("X", "Y")), actor=ACTOR)
    assert edited.method is Method.RANKED and [f.name for f in edited.finalists] == ["X", "Y"]
    assert edited.version > poll.version
    await store.open_poll(poll.id, actor=ACTOR)
    with pytest.raises(Conflict):
        await store.update_poll(poll.id, draft(), actor=ACTOR)


async def test_status_moves_only_forward(store: Store) -> None:
    poll = await store.create_poll(draft(), actor=ACTOR)
    with pytest.raises(Conflict):
        await store.close_poll(poll.id, actor=ACTOR)
    opened = await store.open_poll(poll.id, actor=ACTOR)
    assert opened.status is PollStatus.OPEN and opened.opened_at
    with pytest.raises(Conflict):
        await store.open_poll(poll.id, actor=ACTOR)
    closed = await store.close_poll(poll.id, actor=ACTOR)
    assert closed.status is PollStatus.CLOSED and closed.closed_at
    with pytest.raises(Conflict):
        await store.open_poll(poll.id, actor=ACTOR)


async def test_a_ballot_is_recorded_and_replaced_never_doubled(store: Store) -> None:
    poll = await open_poll(store)
    a, b = poll.finalist_ids[:2]
    first = await store.cast_ballot(voter(poll, "v1"), [a], None)
    assert (first.ballot.choices, first.replaced, first.stale) == ((a,), False, False)
    second = await store.cast_ballot(voter(poll, "v1"), [b], None)
    assert (second.ballot.choices, second.replaced, second.ballot.revision) == ((b,), True, 2)
    snapshot = await store.snapshot(poll.id)
    assert snapshot.counts == (((b,), 1),)
    assert (await store.get_ballot(poll.id, "v1")).choices == (b,)  # type: ignore[union-attr]
    assert await store.get_ballot(poll.id, "nobody") is None


async def test_a_late_retry_never_undoes_a_later_change(store: Store) -> None:
    poll = await open_poll(store)
    a, b = poll.finalist_ids[:2]
    await store.cast_ballot(voter(poll, "v1"), [a], 1000)
    await store.cast_ballot(voter(poll, "v1"), [b], 2000)
    late = await store.cast_ballot(voter(poll, "v1"), [a], 1000)
    assert late.stale and late.ballot.choices == (b,)
    same = await store.cast_ballot(voter(poll, "v1"), [b], 2000)
    assert same.stale and same.ballot.revision == 2
    assert (await store.snapshot(poll.id)).counts == (((b,), 1),)


async def test_fifty_concurrent_submissions_with_one_token_count_once(store: Store) -> None:
    poll = await open_poll(store)
    ids = poll.finalist_ids
    outcomes = await asyncio.gather(
        *(store.cast_ballot(voter(poll, "same"), [ids[n % 3]], None) for n in range(50))
    )
    assert sum(1 for o in outcomes if not o.replaced) == 1
    snapshot = await store.snapshot(poll.id)
    assert snapshot.ballots == 1
    recorded = await store.get_ballot(poll.id, "same")
    assert recorded is not None and recorded.revision == 50
    assert snapshot.counts == ((recorded.choices, 1),)


async def test_many_voters_at_once_are_all_counted(store: Store) -> None:
    poll = await open_poll(store, Method.RANKED)
    a, b, c = poll.finalist_ids
    await asyncio.gather(
        *(
            store.cast_ballot(voter(poll, f"v{n}"), [a, b] if n % 2 else [c], None)
            for n in range(300)
        )
    )
    snapshot = await store.snapshot(poll.id)
    assert dict(snapshot.counts) == {(a, b): 150, (c,): 150}


async def test_ballots_are_refused_unless_the_poll_is_open(store: Store) -> None:
    poll = await store.create_poll(draft(), actor=ACTOR)
    with pytest.raises(Conflict):
        await store.cast_ballot(voter(poll, "v1"), [poll.finalist_ids[0]], None)
    await store.open_poll(poll.id, actor=ACTOR)
    await store.close_poll(poll.id, actor=ACTOR)
    with pytest.raises(Conflict):
        await store.cast_ballot(voter(poll, "v1"), [poll.finalist_ids[0]], None)
    assert (await store.snapshot(poll.id)).ballots == 0


async def test_closing_locks_the_result_for_good(store: Store) -> None:
    poll = await open_poll(store)
    a, b, _ = poll.finalist_ids
    for n, choice in enumerate([a, a, b]):
        await store.cast_ballot(voter(poll, f"v{n}"), [choice], None)
    with pytest.raises(Conflict):
        await store.get_result(poll.id)
    racing = [store.cast_ballot(voter(poll, f"late{n}"), [b], None) for n in range(20)]
    results = await asyncio.gather(
        store.close_poll(poll.id, actor=ACTOR), *racing, return_exceptions=True
    )
    accepted = sum(1 for r in results[1:] if not isinstance(r, BaseException))
    assert all(isinstance(r, Conflict) for r in results[1:] if isinstance(r, BaseException))
    locked = await store.get_result(poll.id)
    assert locked.ballots == 3 + accepted
    assert (await store.snapshot(poll.id)).ballots == locked.ballots
    again = await store.get_result(poll.id)
    assert again == locked


async def test_versions_rise_with_every_change_and_listeners_hear_them(store: Store) -> None:
    heard: list[tuple[int, int, bool]] = []
    store.add_listener(lambda poll_id, version, changed: heard.append((poll_id, version, changed)))
    poll = await store.create_poll(draft(), actor=ACTOR)
    versions = [poll.version]
    versions.append((await store.open_poll(poll.id, actor=ACTOR)).version)
    await store.cast_ballot(voter(poll, "v1"), [poll.finalist_ids[0]], None)
    versions.append((await store.snapshot(poll.id)).poll.version)
    versions.append((await store.set_hide_counts(poll.id, True, actor=ACTOR)).version)
    versions.append((await store.close_poll(poll.id, actor=ACTOR)).version)
    assert versions == sorted(set(versions))
    for _ in range(100):
        if heard and heard[-1] == (poll.id, versions[-1], True):
            break
        await asyncio.sleep(0.02)
    assert heard[-1] == (poll.id, versions[-1], True)
    assert [v for _, v, _ in heard] == sorted(v for _, v, _ in heard)
    # Only the ballot's notice says the poll record itself is unchanged.
    assert [changed for _, v, changed in heard if v == versions[2]] == [False]
    assert all(changed for _, v, changed in heard if v != versions[2])


async def test_hide_counts_and_reveal(store: Store) -> None:
    poll = await open_poll(store)
    hidden = await store.set_hide_counts(poll.id, True, actor=ACTOR)
    assert hidden.hide_counts
    with pytest.raises(Conflict):
        await store.reveal_to(poll.id, 1, 3, actor=ACTOR)
    await store.close_poll(poll.id, actor=ACTOR)
    with pytest.raises(Conflict):  # place 2 of 2 before place 1 of 2 is shown
        await store.reveal_to(poll.id, 2, 2, actor=ACTOR)
    assert (await store.reveal_to(poll.id, 1, 2, actor=ACTOR)).revealed == 1
    shown = await store.reveal_to(poll.id, 1, 2, actor=ACTOR)  # the same intent again: no change
    assert shown.revealed == 1 and shown.version == (await store.get_poll(poll.id)).version
    assert (await store.reveal_to(poll.id, 2, 2, actor=ACTOR)).revealed == 2
    with pytest.raises(Conflict):
        await store.reveal_to(poll.id, 3, 2, actor=ACTOR)


async def test_a_tie_is_resolved_once_and_recorded(store: Store) -> None:
    poll = await open_poll(store)
    a, b, c = poll.finalist_ids
    await store.close_poll(poll.id, actor=ACTOR)
    resolution = TieResolution((b, a, c), TieRule.LOTS, "seed1", "", "org@example.no", "2026")
    locked = await store.resolve_tie(poll.id, resolution)
    assert locked.resolutions == (resolution,)
    with pytest.raises(Conflict):
        await store.resolve_tie(poll.id, resolution)
    snapshot = await store.snapshot(poll.id)
    assert snapshot.resolutions == (resolution,)


async def test_accounts_sessions_and_api_tokens(store: Store) -> None:
    user = await store.create_user("Org@Example.no", Role.ORGANISER, "hash")
    assert (await store.get_user("org@example.no")).id == user.id
    with pytest.raises(Conflict):
        await store.create_user("ORG@example.no", Role.HOST, None)
    with pytest.raises(NotFound):
        await store.get_user("nobody@example.no")
    await store.set_password(user.id, "hash2")
    assert (await store.get_user("org@example.no")).password_hash == "hash2"
    import time

    await store.create_session(user.id, "digest1", "csrf1", time.time() + 60)
    session = await store.get_session("digest1")
    assert session is not None and session.user.id == user.id and session.csrf == "csrf1"
    await store.delete_session("digest1")
    assert await store.get_session("digest1") is None
    await store.create_session(user.id, "expired", "csrf", time.time() - 1)
    assert await store.get_session("expired") is None
    await store.create_api_token(user.id, "tokendigest")
    api_user = await store.get_api_user("tokendigest")
    assert api_user is not None and api_user.email == "Org@Example.no"
    assert await store.get_api_user("other") is None


async def test_users_carry_their_network_and_are_listed_in_order(store: Store) -> None:
    organiser = await store.create_user("org@example.no", Role.ORGANISER, "hash")
    coordinator = await store.create_user(
        "coord@example.no", Role.COORDINATOR, None, network_id="digi-rogaland"
    )
    juror = await store.create_user("jury@example.no", Role.JURY, "hash3")
    assert organiser.network_id is None and coordinator.network_id == "digi-rogaland"
    assert (await store.get_user("COORD@example.no")) == coordinator
    assert coordinator.role is Role.COORDINATOR and coordinator.password_hash is None
    assert await store.list_users() == [organiser, coordinator, juror]
    import time

    await store.create_session(coordinator.id, "digest", "csrf", time.time() + 60)
    session = await store.get_session("digest")
    assert session is not None and session.user == coordinator and session.csrf == "csrf"


async def test_a_store_without_users_lists_none(store: Store) -> None:
    assert await store.list_users() == []


async def test_sequences_count_from_one_each_on_its_own(store: Store) -> None:
    assert [await store.next_id("idea") for _ in range(3)] == [1, 2, 3]
    assert await store.next_id("edition") == 1
    assert await store.next_id("idea") == 4


async def test_fifty_concurrent_next_ids_are_all_different(store: Store) -> None:
    numbers = await asyncio.gather(*(store.next_id("idea") for _ in range(50)))
    assert sorted(numbers) == list(range(1, 51))


async def test_a_record_is_created_then_updated_version_by_version(store: Store) -> None:
    assert await store.get_record("idea", "7") is None
    data = {"title": "Fellesløsning for KI", "tags": [], "votes": 2**53 + 1, "nested": {}}
    created = await store.put_record(
        "idea", "7", data, expected_version=0, actor="org@example.no", action="idea.create"
    )
    assert (created.kind, created.key, created.version, created.data) == ("idea", "7", 1, data)
    assert created.updated_at
    assert await store.get_record("idea", "7") == created
    changed = {**data, "title": "Ny tittel"}
    updated = await store.put_record(
        "idea", "7", changed, expected_version=1, actor="coord@example.no", action="idea.edit"
    )
    assert updated.version == 2 and updated.data == changed
    assert updated.updated_at >= created.updated_at
    assert await store.get_record("idea", "7") == updated
    entries = await store.list_audit()
    assert [(e.actor, e.action, e.subject) for e in entries] == [
        ("org@example.no", "idea.create", "idea:7"),
        ("coord@example.no", "idea.edit", "idea:7"),
    ]
    assert (entries[0].before, entries[0].after) == (None, data)
    assert (entries[1].before, entries[1].after) == (data, changed)
    assert [e.id for e in entries] == [1, 2] and entries[1].at == updated.updated_at


async def test_a_stale_write_changes_nothing_and_leaves_no_audit_entry(store: Store) -> None:
    first = await store.put_record("idea", "1", {"n": 1}, expected_version=0, actor="a", action="x")
    await store.put_record("idea", "1", {"n": 2}, expected_version=1, actor="a", action="x")
    with pytest.raises(StaleRecord):
        await store.put_record("idea", "1", {"n": 3}, expected_version=1, actor="b", action="x")
    with pytest.raises(StaleRecord):
        await store.put_record("idea", "1", {"n": 3}, expected_version=5, actor="b", action="x")
    with pytest.raises(StaleRecord):
        await store.put_record("idea", "1", {"n": 3}, expected_version=0, actor="b", action="x")
    with pytest.raises(StaleRecord):
        await store.put_record("idea", "2", {"n": 3}, expected_version=1, actor="b", action="x")
    record = await store.get_record("idea", "1")
    assert record is not None and (record.version, record.data) == (2, {"n": 2})
    assert record.updated_at >= first.updated_at
    assert await store.get_record("idea", "2") is None
    assert [e.actor for e in await store.list_audit()] == ["a", "a"]


async def test_creating_a_record_twice_fails_the_second_time(store: Store) -> None:
    await store.put_record("network", "n1", {"a": 1}, expected_version=0, actor="a", action="x")
    with pytest.raises(StaleRecord):
        await store.put_record("network", "n1", {"b": 2}, expected_version=0, actor="b", action="x")
    record = await store.get_record("network", "n1")
    assert record is not None and record.data == {"a": 1}


async def test_records_are_listed_by_kind(store: Store) -> None:
    assert await store.list_records("idea") == []
    written = [
        await store.put_record("idea", key, {"key": key}, expected_version=0, actor="a", action="x")
        for key in ("b", "a", "c")
    ]
    await store.put_record(
        "edition", "2026", {"year": 2026}, expected_version=0, actor="a", action="x"
    )
    written[0] = await store.put_record(
        "idea", "b", {"key": "b", "more": True}, expected_version=1, actor="a", action="x"
    )
    listed = await store.list_records("idea")
    assert sorted(listed, key=lambda r: r.key) == sorted(written, key=lambda r: r.key)
    assert [r.key for r in await store.list_records("edition")] == ["2026"]


async def test_thirty_concurrent_writers_of_one_version_one_wins(store: Store) -> None:
    await store.put_record("network", "n1", {"by": None}, expected_version=0, actor="a", action="x")
    results = await asyncio.gather(
        *(
            store.put_record(
                "network", "n1", {"by": n}, expected_version=1, actor=f"w{n}", action="x"
            )
            for n in range(30)
        ),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, Record)]
    assert len(winners) == 1
    assert all(isinstance(r, StaleRecord) for r in results if not isinstance(r, Record))
    assert await store.get_record("network", "n1") == winners[0]
    assert winners[0].version == 2
    assert len(await store.list_audit()) == 2


async def test_a_limit_across_one_record_holds_under_concurrency(store: Store) -> None:
    """Twenty writers each add a nomination while fewer than three are there."""

    async def nominate(n: int) -> bool:
        while True:
            record = await store.get_record("nominations", "n1")
            items = [] if record is None else list(record.data["items"])
            if len(items) >= 3:
                return False
            version = 0 if record is None else record.version
            try:
                await store.put_record(
                    "nominations",
                    "n1",
                    {"items": [*items, n]},
                    expected_version=version,
                    actor=f"coordinator{n}",
                    action="nominate",
                )
            except StaleRecord:
                continue
            return True

    added = await asyncio.gather(*(nominate(n) for n in range(20)))
    assert added.count(True) == 3
    record = await store.get_record("nominations", "n1")
    assert record is not None and len(record.data["items"]) == 3 and record.version == 3
    entries = [e for e in await store.list_audit() if e.subject == "nominations:n1"]
    assert len(entries) == 3
    assert entries[-1].after == record.data


async def test_the_audit_log_is_appended_and_read_in_order(store: Store) -> None:
    first = await store.append_audit("org@example.no", "poll.open", "poll:1")
    second = await store.append_audit(
        "org@example.no", "user.invite", "user:2", before=None, after={"role": "jury"}
    )
    third = await store.append_audit("system", "note", "x", before=[1, "å"], after="text")
    assert [first.id, second.id, third.id] == [1, 2, 3]
    assert (first.before, first.after, second.after) == (None, None, {"role": "jury"})
    assert first.at <= second.at <= third.at
    assert await store.list_audit() == [first, second, third]
    assert await store.list_audit(after_id=1) == [second, third]
    assert await store.list_audit(after_id=1, limit=1) == [second]
    assert await store.list_audit(after_id=3) == []
    record = await store.put_record("idea", "1", {}, expected_version=0, actor="a", action="x")
    entries = await store.list_audit(after_id=3)
    assert [(e.id, e.subject, e.after, e.at) for e in entries] == [
        (4, "idea:1", {}, record.updated_at)
    ]


async def test_records_and_audit_survive_closing_and_reopening(store_url: str) -> None:
    first = make_store(store_url)
    await first.open()
    try:
        record = await first.put_record(
            "edition", "2026", {"year": 2026}, expected_version=0, actor="a", action="x"
        )
        entry = await first.append_audit("a", "y", "z", after={"ok": True})
        number = await first.next_id("idea")
        user = await first.create_user("c@example.no", Role.COORDINATOR, None, "digi-vestfold")
    finally:
        await first.close()
    again = make_store(store_url)
    await again.open()
    try:
        assert await again.get_record("edition", "2026") == record
        assert await again.list_records("edition") == [record]
        kept = await again.list_audit()
        assert len(kept) == 3 and kept[1] == entry  # the record's entry, this one, the account's
        assert kept[2].action == "account.create" and kept[2].subject == f"user:{user.id}"
        assert await again.next_id("idea") == number + 1
        assert await again.list_users() == [user]
    finally:
        await again.close()
