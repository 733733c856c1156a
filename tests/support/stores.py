"""A real store on every backend: the fixtures that run a test once on SQLite and once on
Redis (`store_url`, `store`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from live.store import Store, make_store

BACKENDS = ["sqlite", "redis"]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    url: str = request.getfixturevalue("redis_url")
    return url


@pytest_asyncio.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    backend = make_store(store_url)
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()
