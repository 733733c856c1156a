"""`live backup FILE` and `live restore FILE` in real processes, on SQLite and on Redis.

Each round trip backs up a running server in the middle of a stream of votes, restores
into an empty store, starts a server on it and checks that votes, polls, accounts (an old
API token still works), contest records and the audit log all came back, and that the
copy is one consistent instant (ballots, counts and versions agree).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import redis

from live.store import make_store
from tests.support.process import (
    ServerProcess,
    api,
    cookieless_client,
    new_voter,
    open_new_poll,
    vote,
)
from tests.support.redis_server import RedisServer

SECRET = "a-shared-secret-key-for-both-servers-0123456789"
START = 100  # votes before the backup starts
MAX_VOTES = 5_000


def live(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """A `live` command against the server's store, its failure kept (not raised)."""
    return subprocess.run(
        [sys.executable, "-m", "live", *args],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def put_contest_record(store_url: str) -> None:
    """A contest record and its audit entry, written straight into the store."""
    store = make_store(store_url)
    await store.open()
    try:
        await store.put_record("edition", "2031", {"year": 2031, "title": "Idékonkurransen"},
                               expected_version=0, actor="org@example.no",
                               action="edition.create")  # fmt: skip
    finally:
        await store.close()


async def read_back(store_url: str) -> tuple[Any, list[Any]]:
    store = make_store(store_url)
    await store.open()
    try:
        return await store.get_record("edition", "2031"), await store.list_audit()
    finally:
        await store.close()


def vote_while_backing_up(
    server: ServerProcess, poll: dict[str, Any], backup: Path
) -> tuple[int, int]:
    """New voters vote one after another; `live backup` starts after `START` votes, and
    voting goes on until 20 votes after it has finished. The numbers of votes
    acknowledged before the backup started, and in all."""
    start, finished = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def run_backup() -> None:
        start.wait(60)
        outcome["backup"] = live(server, "backup", str(backup))
        finished.set()

    async def burst() -> tuple[int, int]:
        acknowledged, before_backup, after_backup = 0, 0, 0
        path = f"/p/{poll['code']}"
        ids = [f["id"] for f in poll["finalists"]]
        async with cookieless_client(server.url, timeout=10) as http:
            while after_backup < 20 and acknowledged < MAX_VOTES:
                answer = await vote(http, path, await new_voter(http, path), ids[acknowledged % 5])
                assert answer.status_code == 200, answer.text
                acknowledged += 1
                if acknowledged == START:
                    before_backup = acknowledged
                    start.set()
                after_backup += finished.is_set()
        return before_backup, acknowledged

    backer = threading.Thread(target=run_backup)
    backer.start()
    before, total = asyncio.run(burst())
    backer.join(120)
    result = outcome["backup"]
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("backed up ")
    assert total < MAX_VOTES, "the backup did not finish while votes came in"
    return before, total


async def one_more_vote(server: ServerProcess, poll: dict[str, Any]) -> int:
    path = f"/p/{poll['code']}"
    async with cookieless_client(server.url) as http:
        answer = await vote(http, path, await new_voter(http, path), poll["finalists"][0]["id"])
        return answer.status_code


def check_restored(
    server: ServerProcess, token: str, poll: dict[str, Any], before: int, total: int
) -> int:
    """The restored server has the poll, the votes (a consistent instant), the account."""
    results = api(server, token, "GET", f"/api/polls/{poll['id']}/results")  # old token works
    ballots = int(results["ballots"])
    print(f"backup taken mid-burst: {before} votes before it began, {ballots} in it, "
          f"{total} in all")  # fmt: skip
    assert before <= ballots < total
    assert sum(row["score"] for row in results["tally"]) == ballots
    restored_poll = api(server, token, "GET", f"/api/polls/{poll['id']}")
    assert restored_poll["code"] == poll["code"] and restored_poll["status"] == "open"
    return ballots


def test_sqlite_backup_of_a_running_server_restores_into_an_empty_store(tmp_path: Path) -> None:
    source = ServerProcess(tmp_path / "source", LIVE_SECRET_KEY=SECRET)
    source.start()
    backup = tmp_path / "live-backup.sqlite3"
    try:
        token = source.organiser_token()
        poll = open_new_poll(source, token)
        asyncio.run(put_contest_record(f"sqlite:///{source.data_dir / 'live.sqlite3'}"))
        before, total = vote_while_backing_up(source, poll, backup)
        version_then = api(source, token, "GET", f"/api/polls/{poll['id']}")["version"]
    finally:
        source.stop()

    target = ServerProcess(tmp_path / "target", LIVE_SECRET_KEY=SECRET)
    target.data_dir.mkdir(parents=True)
    restored = live(target, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert "restored" in restored.stdout and "polls" in restored.stdout
    target.start()
    try:
        ballots = check_restored(target, token, poll, before, total)
        version = api(target, token, "GET", f"/api/polls/{poll['id']}")["version"]
        assert version == version_then - (total - ballots)  # one version per vote
        assert asyncio.run(one_more_vote(target, poll)) == 200
    finally:
        target.stop()
    record, audit = asyncio.run(read_back(f"sqlite:///{target.data_dir / 'live.sqlite3'}"))
    assert record is not None and record.data["title"] == "Idékonkurransen"
    assert any(entry.action == "edition.create" for entry in audit)

    # A store with data in it is never overwritten by mistake; --force replaces it.
    again = live(source, "restore", str(backup))
    assert again.returncode == 1 and "not empty" in again.stderr and "--force" in again.stderr
    forced = live(source, "restore", str(backup), "--force")
    assert forced.returncode == 0, forced.stderr
    onto_itself = live(source, "backup", str(source.data_dir / "live.sqlite3"))
    assert onto_itself.returncode == 1 and "is the store itself" in onto_itself.stderr


def test_redis_backup_of_a_running_server_restores_into_an_empty_database(
    tmp_path: Path, own_redis: RedisServer
) -> None:
    first = f"redis://127.0.0.1:{own_redis.port}/0"
    second = f"redis://127.0.0.1:{own_redis.port}/1"
    source = ServerProcess(tmp_path / "source", store_url=first, LIVE_SECRET_KEY=SECRET)
    source.start()
    backup = tmp_path / "live-backup.redis"
    try:
        token = source.organiser_token()
        poll = open_new_poll(source, token)
        asyncio.run(put_contest_record(first))
        before, total = vote_while_backing_up(source, poll, backup)
    finally:
        source.stop()
    header = backup.read_text().splitlines()[0]
    assert '"store": "redis"' in header

    target = ServerProcess(tmp_path / "target", store_url=second, LIVE_SECRET_KEY=SECRET)
    target.data_dir.mkdir(parents=True)
    restored = live(target, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    target.start()
    try:
        ballots = check_restored(target, token, poll, before, total)
    finally:
        target.stop()
    with redis.Redis(port=own_redis.port, db=1, decode_responses=True) as db:
        counted = sum(int(n) for n in db.hgetall(f"live:counts:{poll['id']}").values())
        assert db.hlen(f"live:ballots:{poll['id']}") == counted == ballots  # one instant
    record, audit = asyncio.run(read_back(second))
    assert record is not None and record.data["year"] == 2031
    assert any(entry.action == "edition.create" for entry in audit)

    again = live(source, "restore", str(backup))
    assert again.returncode == 1 and "not empty" in again.stderr
    sqlite_file = tmp_path / "other.sqlite3"
    sqlite_file.write_bytes(b"SQLite format 3\x00" + bytes(100))
    wrong_kind = live(target, "restore", str(sqlite_file), "--force")
    assert wrong_kind.returncode == 1 and "is a sqlite backup" in wrong_kind.stderr


def test_a_file_that_is_no_backup_is_refused(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "var")
    server.data_dir.mkdir(parents=True)
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\n")
    refused = live(server, "restore", str(junk))
    assert refused.returncode == 1 and "not a backup made by `live backup`" in refused.stderr
    missing = live(server, "backup", str(tmp_path / "copy"))
    assert missing.returncode == 1 and "there is no SQLite store" in missing.stderr


@pytest.mark.parametrize("cut", [0.5, 0.99])
def test_a_truncated_redis_backup_is_refused(tmp_path: Path, cut: float) -> None:
    backup = tmp_path / "cut.redis"
    lines = ['{"format": "live-backup", "version": 1, "store": "redis", "keys": 3}']
    lines += ['{"k": "bGl2ZTp4", "expires_at_ms": 0, "v": "AAAA"}'] * 3
    text = "\n".join(lines) + "\n"
    backup.write_text(text[: int(len(text) * cut)])
    server = ServerProcess(tmp_path / "var", store_url="redis://127.0.0.1:1/0")
    refused = live(server, "restore", str(backup))
    assert refused.returncode == 1
    assert "incomplete" in refused.stderr or "not a key of a backup" in refused.stderr
