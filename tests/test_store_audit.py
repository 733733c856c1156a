"""The audit log's part of the store contract, on every real backend: every change to a
poll writes its entry in the same atomic step (a failing audit write leaves the change
undone), records written together, the log read a page at a time, and e-mail addresses
compared case-folded."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import redis

from live.errors import Conflict, Unavailable
from live.store import Store, make_store
from live.store.base import AlreadyDone, StaleRecord
from live.store.models import AuditEntry, Poll, RecordWrite, Role, TieResolution, TieRule
from live.store.timestamps import now_ms
from live.tally import Method
from tests.test_store_contract import ACTOR, draft

pytestmark = pytest.mark.asyncio

INJECTED = (sqlite3.Error, Unavailable)  # what a failing audit write surfaces as


@contextlib.contextmanager
def failing_audit(store_url: str) -> Iterator[None]:
    """Every audit write fails while inside: a trigger on SQLite, a key of the wrong type
    on Redis (the log is a sorted set). What was logged before is kept."""
    if store_url.startswith("sqlite"):
        conn = sqlite3.connect(store_url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute(
            "CREATE TRIGGER inject_audit_failure BEFORE INSERT ON audit"
            " BEGIN SELECT RAISE(ABORT, 'injected audit failure'); END"
        )
        try:
            yield
        finally:
            conn.execute("DROP TRIGGER inject_audit_failure")
            conn.close()
        return
    client = redis.Redis.from_url(store_url)
    kept = bool(client.exists("live:audit"))
    if kept:
        client.rename("live:audit", "live:audit-kept")
    client.set("live:audit", "not a sorted set")
    try:
        yield
    finally:
        client.delete("live:audit")
        if kept:
            client.rename("live:audit-kept", "live:audit")
        client.close()


class AuditedSteps:
    """Runs each change three ways: with the audit write failing (nothing may change),
    then for real (exactly one entry), then again where a repeat changes nothing."""

    def __init__(self, store: Store, store_url: str) -> None:
        self.store, self.store_url, self.faults = store, store_url, 0

    async def state(self) -> tuple[list[Poll], list[AuditEntry]]:
        return await self.store.list_polls(), await self.store.list_audit()

    async def step(
        self, call: Callable[[], Awaitable[Any]], action: str, actor: str = ACTOR
    ) -> AuditEntry:
        before = await self.state()
        with failing_audit(self.store_url), pytest.raises(INJECTED):
            await call()
        self.faults += 1
        assert await self.state() == before, f"{action} changed something without its entry"
        await call()
        entries = await self.store.list_audit(after_id=before[1][-1].id if before[1] else 0)
        assert [(e.actor, e.action) for e in entries] == [(actor, action)]
        return entries[0]

    async def repeat(self, call: Callable[[], Awaitable[Any]]) -> None:
        """A repeated intent: harmless, and not written down again."""
        before = await self.state()
        with contextlib.suppress(AlreadyDone):
            await call()
        assert await self.state() == before


async def test_every_poll_change_writes_one_entry_in_the_same_step(
    store: Store, store_url: str
) -> None:
    steps = AuditedSteps(store, store_url)
    polls_before = await store.list_polls()
    await steps.step(lambda: store.create_poll(draft(), actor=ACTOR), "poll.create")
    (poll,) = [p for p in await store.list_polls() if p not in polls_before]
    subject = f"poll:{poll.id}"
    created = (await store.list_audit())[-1]
    assert created.subject == subject and created.before is None
    assert created.after == {"title": "Finale", "method": "single", "winners": 3,
                             "finalists": ["A", "B", "C"], "eligibility": "open",
                             "max_choices": None, "tie_rule": "lots",
                             "expected_voters": None}  # fmt: skip

    ranked = draft(Method.RANKED, ("Ærlig", "B/2"))
    updated = await steps.step(
        lambda: store.update_poll(poll.id, ranked, actor=ACTOR), "poll.update"
    )
    assert (updated.subject, updated.before) == (subject, created.after)
    assert updated.after == {"title": "Finale", "method": "ranked", "winners": 3,
                             "finalists": ["Ærlig", "B/2"], "eligibility": "open",
                             "max_choices": None, "tie_rule": "lots",
                             "expected_voters": None}  # fmt: skip

    await steps.step(lambda: store.open_poll(poll.id, actor=ACTOR), "poll.open")
    await steps.repeat(lambda: store.open_poll(poll.id, actor=ACTOR))
    timed = await steps.step(
        lambda: store.set_countdown(poll.id, 600, actor=ACTOR), "poll.countdown"
    )
    assert timed.after == {"seconds": 600}
    await steps.step(lambda: store.set_hide_counts(poll.id, True, actor=ACTOR), "poll.hide")
    await steps.repeat(lambda: store.set_hide_counts(poll.id, True, actor=ACTOR))
    await steps.step(lambda: store.set_hide_counts(poll.id, False, actor=ACTOR), "poll.show")
    await steps.step(lambda: store.close_poll(poll.id, actor=ACTOR), "poll.close")
    await steps.repeat(lambda: store.close_poll(poll.id, actor=ACTOR))

    a, b = (await store.get_poll(poll.id)).finalist_ids
    lots = TieResolution((b, a), TieRule.LOTS, "seed", "", "host@example.no", "2026-06-01")
    tie = await steps.step(lambda: store.resolve_tie(poll.id, lots), "poll.tie", "host@example.no")
    assert tie.after == {"rule": "lots", "order": [b, a], "seed": "seed", "note": ""}
    await steps.repeat(lambda: store.resolve_tie(poll.id, lots))
    reveal = await steps.step(lambda: store.reveal_to(poll.id, 1, 2, actor=ACTOR), "poll.reveal")
    assert (reveal.before, reveal.after) == ({"revealed": 0}, {"revealed": 1})
    await steps.repeat(lambda: store.reveal_to(poll.id, 1, 2, actor=ACTOR))
    shown = await steps.step(
        lambda: store.set_show_results(poll.id, True, actor=ACTOR), "poll.results"
    )
    assert shown.after == {"shown": True}
    await steps.repeat(lambda: store.set_show_results(poll.id, True, actor=ACTOR))
    assert {e.subject for e in await store.list_audit()} == {subject}

    # The server's own close at the closing time, audited as the countdown.
    timed_poll = await store.create_poll(draft(), actor=ACTOR)
    await store.open_poll(timed_poll.id, actor=ACTOR)
    due = (await store.set_countdown(timed_poll.id, 0, actor=ACTOR)).closes_at_ms
    assert due is not None
    await asyncio.sleep(max(0.0, (due - now_ms()) / 1000) + 0.05)
    closed = await steps.step(
        lambda: store.close_if_due(timed_poll.id, due, actor="countdown"), "poll.close",
        "countdown",
    )  # fmt: skip
    assert (closed.subject, closed.after) == (f"poll:{timed_poll.id}", {"closes_at_ms": due})
    await steps.repeat(lambda: store.close_if_due(timed_poll.id, due, actor="countdown"))
    assert steps.faults == 11  # create, update, open, countdown, hide, show, close, tie,
    # reveal, results and the close when due: each refused whole while its entry fails


async def test_a_poll_made_with_records_is_made_with_them_or_not_at_all(
    store: Store, store_url: str
) -> None:
    edition = await store.put_record(
        "edition", "2030", {"poll_id": None}, expected_version=0, actor="a", action="x"
    )
    chosen = await store.put_record(
        "finalists", "2030", {"idea_ids": [1, 2]}, expected_version=0, actor="a", action="x"
    )
    pointer = RecordWrite(
        "edition", "2030", edition.version, {"poll_id": None, "title": "Finale"},
        "edition.update", poll_field="poll_id",
    )  # fmt: skip
    finalists = RecordWrite("finalists", "2030", chosen.version)  # only checked
    for stale in (
        [pointer, RecordWrite("finalists", "2030", chosen.version + 1)],
        [RecordWrite("edition", "2030", 0, {"poll_id": None}, "x", poll_field="poll_id")],
    ):
        with pytest.raises(StaleRecord):
            await store.create_poll(draft(), actor=ACTOR, records=stale)
    with failing_audit(store_url), pytest.raises(INJECTED):
        await store.create_poll(draft(), actor=ACTOR, records=[pointer, finalists])
    assert await store.list_polls() == []
    assert await store.get_record("edition", "2030") == edition
    assert len(await store.list_audit()) == 2

    poll = await store.create_poll(draft(), actor=ACTOR, records=[pointer, finalists])
    record = await store.get_record("edition", "2030")
    assert record is not None and record.version == 2
    assert record.data == {"poll_id": poll.id, "title": "Finale"}
    assert await store.get_record("finalists", "2030") == chosen
    entries = (await store.list_audit())[2:]
    assert [(e.actor, e.action, e.subject) for e in entries] == [
        (ACTOR, "poll.create", f"poll:{poll.id}"),
        (ACTOR, "edition.update", "edition:2030"),
    ]
    assert entries[1].after == record.data and entries[1].before == {"poll_id": None}
    with pytest.raises(StaleRecord):  # a second click: the edition moved on
        await store.create_poll(draft(), actor=ACTOR, records=[pointer, finalists])
    assert [p.id for p in await store.list_polls()] == [poll.id]


async def test_records_are_written_together_or_not_at_all(store: Store, store_url: str) -> None:
    await store.put_record("idea", "1", {"n": 1}, expected_version=0, actor="a", action="x")
    await store.put_record("nominations", "n", {"ids": []}, expected_version=0, actor="a",
                           action="x")  # fmt: skip
    both = [
        RecordWrite("idea", "1", 1, {"n": 2}, "idea.move", change=({"n": 1}, {"n": 2})),
        RecordWrite("sheet", "s", 0, {"score": 3}, "jury.score"),
        RecordWrite("nominations", "n", 1),  # a rule read from it; checked, not written
    ]
    for stale in (1, 2):
        moved = [RecordWrite(w.kind, w.key, w.expected_version + (i == stale), w.data, w.action)
                 for i, w in enumerate(both)]  # fmt: skip
        with pytest.raises(StaleRecord):
            await store.put_records(moved, actor="org")
    with failing_audit(store_url), pytest.raises(INJECTED):
        await store.put_records(both, actor="org")
    assert (await store.get_record("idea", "1")).data == {"n": 1}  # type: ignore[union-attr]
    assert await store.get_record("sheet", "s") is None
    assert len(await store.list_audit()) == 2

    written = await store.put_records(both, actor="org")
    assert [(r.kind, r.version, r.data) for r in written] == [
        ("idea", 2, {"n": 2}), ("sheet", 1, {"score": 3})
    ]  # fmt: skip
    assert await store.get_record("sheet", "s") == written[1]
    assert (await store.get_record("nominations", "n")).version == 1  # type: ignore[union-attr]
    entries = (await store.list_audit())[2:]
    assert [(e.actor, e.action, e.subject, e.before, e.after) for e in entries] == [
        ("org", "idea.move", "idea:1", {"n": 1}, {"n": 2}),
        ("org", "jury.score", "sheet:s", None, {"score": 3}),
    ]
    assert entries[0].at == entries[1].at == written[0].updated_at


async def test_the_audit_log_is_read_newest_first_one_page_at_a_time(store: Store) -> None:
    for n in range(25):
        await store.append_audit("org@example.no", "note", f"n:{n}")
    newest = await store.list_audit_before(limit=10)
    assert [e.id for e in newest] == list(range(25, 15, -1))
    assert [e.id for e in await store.list_audit_before(16, limit=10)] == list(range(15, 5, -1))
    assert [e.id for e in await store.list_audit_before(6, limit=10)] == [5, 4, 3, 2, 1]
    assert await store.list_audit_before(1) == []
    assert newest[0] == (await store.list_audit())[-1]


@pytest.mark.parametrize(
    ("first", "same", "other"),
    [
        ("ÆRLIG@Example.no", "ærlig@example.NO", "aerlig@example.no"),
        ("Øystein@kommune.no", "ØYSTEIN@KOMMUNE.NO", "oystein@kommune.no"),
        ("Straße@example.de", "STRASSE@example.de", "strase@example.de"),
    ],
)
async def test_an_address_is_one_account_in_any_case(
    store: Store, first: str, same: str, other: str
) -> None:
    user = await store.create_user(first, Role.JURY, None)
    assert (await store.get_user(same)).id == user.id
    assert (await store.get_user(first.lower())).id == user.id
    with pytest.raises(Conflict):
        await store.create_user(same, Role.HOST, None)
    assert (await store.create_user(other, Role.HOST, None)).id != user.id
    assert len(await store.list_users()) == 2


async def test_addresses_from_before_are_found_case_folded(tmp_path: Path) -> None:
    """A file from before the case-folded key: accounts that NOCASE told apart stay two,
    the first keeps the address, and every one is found in any case."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    scripts = sorted(
        item for item in resources.files("live.store").joinpath("migrations").iterdir()
        if item.name.endswith(".sql") and item.name < "0005"
    )  # fmt: skip
    for script in scripts:
        conn.executescript(script.read_text(encoding="utf-8"))
    conn.execute(f"PRAGMA user_version = {len(scripts)}")
    for email in ("ÆRLIG@ks.no", "ærlig@ks.no", "Ola@KS.no"):
        conn.execute(
            "INSERT INTO users (email, role, created_at) VALUES (?, 'jury', '2022')", (email,)
        )
    conn.close()
    store = make_store(f"sqlite:///{path}")
    await store.open()
    try:
        assert (await store.get_user("ærlig@KS.NO")).email == "ÆRLIG@ks.no"
        assert (await store.get_user("ola@ks.no")).email == "Ola@KS.no"
        assert [u.email for u in await store.list_users()] == ["ÆRLIG@ks.no", "ærlig@ks.no",
                                                               "Ola@KS.no"]  # fmt: skip
        with pytest.raises(Conflict):
            await store.create_user("Ærlig@ks.no", Role.HOST, None)
    finally:
        await store.close()


async def test_an_account_is_made_with_its_audit_entry(store: Store) -> None:
    before = await store.list_audit()
    user = await store.create_user("ny@example.no", Role.JURY, None, actor="org@example.no")
    entries = await store.list_audit(after_id=before[-1].id if before else 0)
    assert [(e.actor, e.action, e.subject) for e in entries] == [
        ("org@example.no", "account.create", f"user:{user.id}")
    ]
    assert entries[0].after == {"email": "ny@example.no", "role": "jury", "network_id": None}
    with pytest.raises(Conflict):
        await store.create_user("NY@example.no", Role.JURY, None, actor="org@example.no")
    assert len(await store.list_audit()) == len(before) + 1  # a refused account: no entry
