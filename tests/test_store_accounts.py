"""The store contract for credentials and abuse limits, on SQLite and on a real Redis:
sessions that slide and end, API tokens with names, ends, lists and revocation, a new
password that cuts off every old credential, and counters shared by every process."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from live.errors import NotFound
from live.store import Store, make_store
from live.store._sqlite_engine import _statements
from live.store.models import Role

pytestmark = pytest.mark.asyncio


async def test_a_new_password_ends_every_session_and_token_of_that_account_only(
    store: Store,
) -> None:
    user = await store.create_user("org@example.no", Role.ORGANISER, "hash")
    other = await store.create_user("host@example.no", Role.HOST, "hash")
    for name, owner in (("a1", user), ("a2", user), ("b1", other)):
        await store.create_session(owner.id, f"session-{name}", "csrf", time.time() + 600)
        await store.create_api_token(owner.id, f"token-{name}", name)
    await store.set_password(user.id, "hash2", actor="command line")
    assert (await store.get_user("org@example.no")).password_hash == "hash2"
    for name in ("a1", "a2"):
        assert await store.get_session(f"session-{name}") is None
        assert await store.get_api_user(f"token-{name}") is None
    assert await store.list_api_tokens(user.id) == []
    assert (await store.get_session("session-b1")) is not None
    assert (await store.get_api_user("token-b1")) is not None
    [entry] = [e for e in await store.list_audit() if e.action == "account.password"]
    assert entry.actor == "command line" and entry.subject == f"user:{user.id}"
    assert entry.after == {"sessions_ended": 2, "api_tokens_revoked": 2}
    # A session made after the change works as usual.
    await store.create_session(user.id, "session-new", "csrf", time.time() + 600)
    assert await store.get_session("session-new") is not None


async def test_a_session_slides_but_an_ended_one_never_comes_back(store: Store) -> None:
    user = await store.create_user("host@example.no", Role.HOST, "hash")
    before = time.time()
    await store.create_session(user.id, "live", "csrf", before + 60)
    session = await store.get_session("live")
    assert session is not None and before - 1 <= session.created_at <= time.time() + 1
    await store.touch_session("live", before + 3600)
    moved = await store.get_session("live")
    assert moved is not None and moved.expires_at == pytest.approx(before + 3600)
    assert moved.created_at == pytest.approx(session.created_at)
    await store.delete_session("live")
    await store.touch_session("live", before + 7200)  # logged out: stays out
    assert await store.get_session("live") is None
    await store.create_session(user.id, "old", "csrf", before - 5)  # expired already
    await store.touch_session("old", before + 7200)
    assert await store.get_session("old") is None


async def test_api_tokens_are_named_listed_ended_and_revoked(store: Store) -> None:
    org = await store.create_user("org@example.no", Role.ORGANISER, "hash")
    host = await store.create_user("host@example.no", Role.HOST, "hash")
    script = await store.create_api_token(org.id, "d-script", "results script", actor="boss")
    ending = await store.create_api_token(org.id, "d-ending", "", time.time() + 600)
    ended = await store.create_api_token(host.id, "d-ended", "old", time.time() - 1)
    assert len({script.id, ending.id, ended.id}) == 3
    assert script.name == "results script" and script.expires_at is None
    assert [t.id for t in await store.list_api_tokens(org.id)] == [script.id, ending.id]
    assert [t.id for t in await store.list_api_tokens()] == [script.id, ending.id, ended.id]
    listed = (await store.list_api_tokens(host.id))[0]
    assert listed.expired(time.time()) and listed.name == "old"
    assert (await store.get_api_user("d-ending")) is not None
    assert await store.get_api_user("d-ended") is None  # past its end: refused, still listed

    revoked = await store.revoke_api_token(script.id, actor="org@example.no")
    assert revoked.id == script.id and revoked.name == "results script"
    assert await store.get_api_user("d-script") is None
    with pytest.raises(NotFound):
        await store.revoke_api_token(script.id)
    assert [t.id for t in await store.list_api_tokens()] == [ending.id, ended.id]
    newest = await store.revoke_api_token(ended.id)
    again = await store.create_api_token(host.id, "d-again")
    assert again.id > newest.id  # an id is never handed out twice

    audit = [(e.actor, e.action, e.subject) for e in await store.list_audit()]
    assert ("boss", "api_token.create", f"api_token:{script.id}") in audit
    assert ("org@example.no", "api_token.create", f"api_token:{ending.id}") in audit
    assert ("org@example.no", "api_token.revoke", f"api_token:{script.id}") in audit
    assert ("host@example.no", "api_token.revoke", f"api_token:{ended.id}") in audit
    entries = [e for e in await store.list_audit() if e.action.startswith("api_token.")]
    assert all("d-" not in str(e.before) + str(e.after) for e in entries)  # no digest kept


async def test_hits_count_in_a_window_and_only_asking_counts_nothing(store: Store) -> None:
    assert await store.hit("k", 60, 2, cost=0) is None
    assert await store.hit("k", 60, 2) is None
    assert await store.hit("k", 60, 2) is None
    wait = await store.hit("k", 60, 2)
    assert wait is not None and 0 < wait <= 60
    asked = await store.hit("k", 60, 2, cost=0)
    assert asked is not None and asked <= wait
    assert await store.hit("other", 60, 2) is None  # keys are counted apart
    await store.clear_hits("k")
    assert await store.hit("k", 60, 2) is None


async def test_a_window_ends_and_counting_starts_again(store: Store) -> None:
    assert await store.hit("short", 1, 1) is None
    assert await store.hit("short", 1, 1) is not None
    deadline = time.monotonic() + 10
    while await store.hit("short", 1, 1, cost=0) is not None:
        assert time.monotonic() < deadline, "the window never ended"
        await asyncio.sleep(0.1)
    assert await store.hit("short", 1, 1) is None


async def test_hits_at_once_are_all_counted(store: Store) -> None:
    answers = await asyncio.gather(*(store.hit("burst", 60, 10) for _ in range(50)))
    assert sum(wait is None for wait in answers) == 10


async def test_redis_upgrades_tokens_and_sessions_kept_before_the_indexes(
    redis_url: str,
) -> None:
    first = make_store(redis_url)
    await first.open()
    try:
        user = await first.create_user("org@example.no", Role.ORGANISER, "hash")
    finally:
        await first.close()
    raw = aioredis.Redis.from_url(redis_url, decode_responses=True)
    async with raw:
        # As the store kept them before: a token as a plain user id, a session without
        # created_at and in no index, and no mark that the upgrade ran.
        await raw.set("live:api-token:legacy", str(user.id))
        legacy = {"user_id": user.id, "csrf": "c", "expires_at": time.time() + 600}
        await raw.hset("live:session:legacy", mapping=legacy)
        await raw.delete("live:schema:accounts")
    store = make_store(redis_url)
    await store.open()
    try:
        assert (await store.get_api_user("legacy")) is not None
        [token] = await store.list_api_tokens(user.id)
        assert token.name == "" and token.expires_at is None
        session = await store.get_session("legacy")
        assert session is not None and session.created_at > 0
        await store.set_password(user.id, "hash2")
        assert await store.get_api_user("legacy") is None
        assert await store.get_session("legacy") is None
    finally:
        await store.close()


def _old_database(path: Path) -> None:
    """A database as the store kept it before migration 0004, with a token and a session."""
    migrations = Path(__file__).resolve().parent.parent / "live" / "store" / "migrations"
    names = ["0001_initial.sql", "0002_contest.sql", "0003_live_show.sql"]
    with sqlite3.connect(path) as conn:
        for number, name in enumerate(names, start=1):
            for statement in _statements((migrations / name).read_text(encoding="utf-8")):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
        conn.execute(
            "INSERT INTO users (email, role, password_hash, created_at)"
            " VALUES ('org@example.no', 'organiser', 'h', '2025-01-01')"
        )
        conn.execute("INSERT INTO api_tokens VALUES ('old-token', 1, '2025-01-01T00:00:00')")
        conn.execute("INSERT INTO sessions VALUES ('old-session', 1, 'c', ?)", (time.time() + 60,))


async def test_sqlite_keeps_tokens_and_sessions_made_before_the_migration(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    _old_database(path)
    store = make_store(f"sqlite:///{path}")
    await store.open()
    try:
        assert (await store.get_api_user("old-token")) is not None
        [token] = await store.list_api_tokens()
        assert token.id == 1 and token.created_at == "2025-01-01T00:00:00"
        session = await store.get_session("old-session")
        assert session is not None and session.created_at > 0
        newer = await store.create_api_token(1, "new-token")
        assert newer.id == 2
    finally:
        await store.close()
