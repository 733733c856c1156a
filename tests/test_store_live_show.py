"""The store contract's live-show part, on every real backend: countdowns judged by the
store's clock, closing when due (once, whoever asks), repeated intents, the full result."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from live.errors import Conflict
from live.store import Store
from live.store.base import AlreadyDone
from live.store.models import PollStatus
from live.store.timestamps import now_ms
from tests.test_store_contract import ACTOR, draft, open_poll, voter

pytestmark = pytest.mark.asyncio


async def wait_until_past(closes_at_ms: int) -> None:
    await asyncio.sleep(max(0.0, (closes_at_ms - now_ms()) / 1000) + 0.05)


async def test_a_countdown_runs_only_while_open_and_can_move_or_stop(store: Store) -> None:
    poll = await store.create_poll(draft(), actor=ACTOR)
    with pytest.raises(Conflict):
        await store.set_countdown(poll.id, 60, actor=ACTOR)
    await store.open_poll(poll.id, actor=ACTOR)
    before = now_ms()
    set_once = await store.set_countdown(poll.id, 60, actor=ACTOR)
    assert set_once.closes_at_ms is not None
    assert before + 59_000 <= set_once.closes_at_ms <= now_ms() + 61_000
    assert set_once.closes_at is not None
    assert datetime.fromisoformat(set_once.closes_at).utcoffset() is not None
    moved = await store.set_countdown(poll.id, 600, actor=ACTOR)
    assert moved.closes_at_ms is not None and moved.closes_at_ms > set_once.closes_at_ms
    assert moved.version > set_once.version
    stopped = await store.set_countdown(poll.id, None, actor=ACTOR)
    assert stopped.closes_at_ms is None and stopped.status is PollStatus.OPEN


async def test_no_vote_counts_after_the_closing_time_even_before_the_close(store: Store) -> None:
    poll = await open_poll(store)
    a, b = poll.finalist_ids[:2]
    await store.cast_ballot(voter(poll, "early"), [a], None)
    timed = await store.set_countdown(poll.id, 1, actor=ACTOR)
    assert timed.closes_at_ms is not None
    await wait_until_past(timed.closes_at_ms)
    assert (await store.get_poll(poll.id)).status is PollStatus.OPEN  # nobody closed it yet
    with pytest.raises(Conflict):
        await store.cast_ballot(voter(poll, "late"), [b], None)
    with pytest.raises(Conflict):
        await store.cast_ballot(voter(poll, "early"), [b], None)  # no change of mind either
    with pytest.raises(Conflict):
        await store.set_countdown(poll.id, 60, actor=ACTOR)  # too late to extend
    assert await store.close_if_due(poll.id, timed.closes_at_ms, actor=ACTOR)
    closed = await store.get_poll(poll.id)
    assert closed.status is PollStatus.CLOSED and closed.closed_at == timed.closes_at
    locked = await store.get_result(poll.id)
    assert locked.counts == (((a,), 1),) and locked.locked_at == timed.closes_at


async def test_close_if_due_closes_once_and_never_early_or_after_a_move(store: Store) -> None:
    poll = await open_poll(store)
    timed = await store.set_countdown(poll.id, 1, actor=ACTOR)
    assert timed.closes_at_ms is not None
    assert not await store.close_if_due(poll.id, timed.closes_at_ms, actor=ACTOR)  # not yet
    moved = await store.set_countdown(poll.id, 120, actor=ACTOR)
    await wait_until_past(timed.closes_at_ms)
    assert not await store.close_if_due(poll.id, timed.closes_at_ms, actor=ACTOR)  # moved meanwhile
    assert (await store.get_poll(poll.id)).status is PollStatus.OPEN
    assert moved.closes_at_ms is not None
    short = await store.set_countdown(poll.id, 0, actor=ACTOR)
    assert short.closes_at_ms is not None
    await wait_until_past(short.closes_at_ms)
    answers = await asyncio.gather(
        *(store.close_if_due(poll.id, short.closes_at_ms, actor=ACTOR) for _ in range(8))
    )
    assert answers.count(True) == 1
    assert not await store.close_if_due(poll.id, short.closes_at_ms, actor=ACTOR)
    draft_poll = await store.create_poll(draft(), actor=ACTOR)
    assert not await store.close_if_due(draft_poll.id, now_ms() - 1000, actor=ACTOR)


async def test_a_hosts_close_drops_the_countdown(store: Store) -> None:
    poll = await open_poll(store)
    await store.set_countdown(poll.id, 60, actor=ACTOR)
    closed = await store.close_poll(poll.id, actor=ACTOR)
    assert closed.status is PollStatus.CLOSED and closed.closes_at_ms is None


async def test_repeated_status_intents_say_already_done(store: Store) -> None:
    poll = await open_poll(store)
    with pytest.raises(AlreadyDone):
        await store.open_poll(poll.id, actor=ACTOR)
    await store.close_poll(poll.id, actor=ACTOR)
    with pytest.raises(AlreadyDone):
        await store.close_poll(poll.id, actor=ACTOR)
    with pytest.raises(Conflict) as reopened:
        await store.open_poll(poll.id, actor=ACTOR)
    assert not isinstance(reopened.value, AlreadyDone)  # a closed poll is not "open already"


async def test_the_full_result_is_shown_only_after_closing(store: Store) -> None:
    poll = await open_poll(store)
    with pytest.raises(Conflict):
        await store.set_show_results(poll.id, True, actor=ACTOR)
    await store.close_poll(poll.id, actor=ACTOR)
    shown = await store.set_show_results(poll.id, True, actor=ACTOR)
    assert shown.show_results
    assert not (await store.set_show_results(poll.id, False, actor=ACTOR)).show_results
