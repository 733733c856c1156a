"""The poll cache: kept across votes, dropped when the poll itself changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from live.finale.poll_cache import PollCache
from live.store import Store, make_store
from live.store.models import FinalistDraft, PollDraft, PollStatus
from live.tally import Method
from live.tokens import VoterToken

pytestmark = pytest.mark.asyncio


class CountingStore:
    """The real SQLite store, counting how often the cache asks it for a poll."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lookups = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    async def find_poll(self, code: str) -> object:
        self.lookups += 1
        return await self.store.find_poll(code)


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    backend = make_store(f"sqlite:///{tmp_path / 'cache.sqlite3'}")
    await backend.open()
    yield backend
    await backend.close()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0.01)


async def test_votes_keep_the_cache_and_status_changes_drop_it(store: Store) -> None:
    counting = CountingStore(store)
    cache = PollCache(counting)  # type: ignore[arg-type]
    draft = PollDraft("T", Method.SINGLE, 1, (FinalistDraft("A"), FinalistDraft("B")))
    created = await store.create_poll(draft, actor="org@example.no")
    poll = await store.open_poll(created.id, actor="org@example.no")
    await settle()
    assert (await cache.find(poll.code)).status is PollStatus.OPEN
    for n in range(20):
        await store.cast_ballot(VoterToken(poll.id, f"v{n}"), [poll.finalist_ids[0]], None)
    await settle()
    await cache.find(poll.code)
    assert counting.lookups == 1
    await store.close_poll(poll.id, actor="org@example.no")
    await settle()
    assert (await cache.find(poll.code)).status is PollStatus.CLOSED
    assert counting.lookups == 2
