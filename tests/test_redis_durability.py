"""The Redis store checks, when it opens, that Redis keeps what it acknowledges: refused
(LIVE_REDIS_DURABILITY=strict, the default) or logged loudly (warn) when it does not."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from live.config import SettingsError, load_settings
from live.store import make_store
from live.store._redis_durability import DurabilityError
from live.store._redis_sentinel import parse_sentinel_url
from live.store.models import Role
from tests.support.process import ServerProcess
from tests.support.redis_server import RedisServer, SentinelSetup

WARNING = "DURABILITY: acknowledged votes can be lost"


@pytest.fixture
def everysec_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """The usual hosted Redis: append-only, but fsync once a second."""
    server = RedisServer(tmp_path / "everysec", appendfsync="everysec")
    server.start()
    yield server
    server.kill()


async def open_and_close(url: str, durability: str = "strict") -> None:
    store = make_store(url, redis_durability=durability)
    try:
        await store.open()
        await store.create_user("org@example.no", Role.ORGANISER, None)  # a write
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_strict_refuses_a_redis_that_fsyncs_once_a_second(
    everysec_redis: RedisServer,
) -> None:
    with pytest.raises(DurabilityError) as refused:
        await open_and_close(everysec_redis.url)
    message = str(refused.value)
    assert "appendfsync 'everysec'" in message and "appendfsync always" in message
    assert "LIVE_REDIS_DURABILITY=warn" in message


@pytest.mark.asyncio
async def test_warn_opens_it_and_says_so_loudly(
    everysec_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="live.store.redis"):
        await open_and_close(everysec_redis.url, "warn")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(WARNING in w and "appendfsync 'everysec'" in w for w in warnings), warnings


@pytest.mark.asyncio
async def test_a_redis_without_append_only_file_is_refused(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "plain", extra=["--appendonly", "no"])
    server.start()
    try:
        with pytest.raises(DurabilityError, match="appendonly 'no'"):
            await open_and_close(server.url)
    finally:
        server.kill()


@pytest.mark.asyncio
async def test_a_redis_that_hides_its_config_cannot_be_vouched_for(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Hosting providers often disable CONFIG; the message says so."""
    server = RedisServer(tmp_path / "hosted", extra=["--rename-command", "CONFIG", ""])
    server.start()
    try:
        with pytest.raises(DurabilityError, match="does not allow CONFIG GET"):
            await open_and_close(server.url)
        with caplog.at_level(logging.WARNING, logger="live.store.redis"):
            await open_and_close(server.url, "warn")
        assert any("hosting providers often disable" in r.getMessage() for r in caplog.records)
    finally:
        server.kill()


@pytest.mark.asyncio
async def test_sentinel_mode_checks_the_replicas_and_min_replicas_to_write(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    setup = SentinelSetup(tmp_path / "sentinel", replicas=1, replica_appendfsync="everysec")
    try:
        setup.start()
        setup.primary.ask("CONFIG", "SET", "min-replicas-to-write", "0")
        with pytest.raises(DurabilityError) as refused:
            await open_and_close(setup.url)
        message = str(refused.value)
        replica = setup.replicas[0]
        assert f"replica 127.0.0.1:{replica.port} runs with appendfsync 'everysec'" in message
        assert "min-replicas-to-write 0" in message
        with caplog.at_level(logging.WARNING, logger="live.store.redis"):
            await open_and_close(setup.url, "warn")  # writes still wait for one replica
        assert sum(WARNING in r.getMessage() for r in caplog.records) == 2
    finally:
        setup.stop()


def test_the_command_line_refuses_too_and_names_the_way_out(everysec_redis: RedisServer) -> None:
    env = {**os.environ, "LIVE_STORE_URL": everysec_redis.url, "LIVE_PASSWORD": "a long password"}
    env.pop("REDIS_URL", None)
    command = [sys.executable, "-m", "live", "create-user", "org@example.no"]
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert "appendfsync 'everysec'" in refused.stderr
    assert "LIVE_REDIS_DURABILITY=warn" in refused.stderr
    warned = subprocess.run(
        command, env={**env, "LIVE_REDIS_DURABILITY": "warn"}, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert warned.returncode == 0, warned.stderr
    assert WARNING in warned.stderr


def test_the_service_does_not_start_on_a_weak_redis(
    tmp_path: Path, everysec_redis: RedisServer
) -> None:
    server = ServerProcess(tmp_path / "app", store_url=everysec_redis.url)
    with pytest.raises(RuntimeError, match="appendfsync 'everysec'"):
        server.start()  # "server exited early", with the end of its log
    assert server.process is not None and server.process.poll() not in (None, 0)


def test_the_setting_takes_strict_or_warn_only(tmp_path: Path) -> None:
    environ = {"LIVE_DATA_DIR": str(tmp_path)}
    assert load_settings(environ).redis_durability == "strict"
    assert load_settings({**environ, "LIVE_REDIS_DURABILITY": "WARN"}).redis_durability == "warn"
    with pytest.raises(SettingsError, match=r"LIVE_REDIS_DURABILITY .*'lax'"):
        load_settings({**environ, "LIVE_REDIS_DURABILITY": "lax"})


def test_a_sentinel_store_url_is_checked_at_start_up(tmp_path: Path) -> None:
    environ = {"LIVE_DATA_DIR": str(tmp_path)}
    good = "redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/live/0"
    assert load_settings({**environ, "LIVE_STORE_URL": good}).store_url == good
    for bad in ("redis+sentinel://10.0.0.1/live", "redis+sentinel://:secret@h:1/"):
        with pytest.raises(SettingsError, match="LIVE_STORE_URL") as refused:
            load_settings({**environ, "LIVE_STORE_URL": bad})
        assert "secret" not in str(refused.value)


def test_a_sentinel_url_names_its_sentinels_service_and_database() -> None:
    address = parse_sentinel_url("redis+sentinel://:pw@10.0.0.1:26379,[::1]:26380/live/2")
    assert address.sentinels == (("10.0.0.1", 26379), ("::1", 26380))
    assert (address.service, address.db, address.password) == ("live", 2, "pw")
    assert parse_sentinel_url("redis+sentinel://h:1/svc").db == 0
    for bad in ("redis+sentinel://h/live", "redis+sentinel://h:1/", "redis+sentinel://h:1/a/b/c",
                "redis+sentinel://h:x/live", "redis+sentinel://h:1/live/x"):  # fmt: skip
        with pytest.raises(ValueError):
            parse_sentinel_url(bad)
