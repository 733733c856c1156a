"""The `live` command as an organiser uses it, in its own process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import log_in_sync
from tests.support.process import ServerProcess


def run(
    data_dir: Path, *args: str, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "LIVE_DATA_DIR": str(data_dir)}
    if password is not None:
        env["LIVE_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "live", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_accounts_passwords_and_tokens(tmp_path: Path) -> None:
    data = tmp_path / "var"
    created = run(
        data, "create-user", "org@example.no", "--role", "organiser", password="first password"
    )
    assert created.returncode == 0, created.stderr
    twice = run(data, "create-user", "ORG@example.no", password="first password")
    assert twice.returncode == 1 and "exists already" in twice.stderr
    short = run(data, "set-password", "org@example.no", password="short")
    assert short.returncode == 1 and "at least 10" in short.stderr
    no_tty = run(data, "set-password", "org@example.no")
    assert no_tty.returncode == 1 and "LIVE_PASSWORD" in no_tty.stderr
    assert run(data, "set-password", "org@example.no", password="second password").returncode == 0
    unknown = run(data, "api-token", "who@example.no")
    assert unknown.returncode == 1 and "who@example.no" in unknown.stderr
    token = run(data, "api-token", "org@example.no").stdout.strip()
    assert len(token) > 30

    server = ServerProcess(data)
    server.start()
    try:
        with httpx.Client(base_url=server.url) as http:
            old = log_in_sync(http, "org@example.no", "first password")
            assert old.status_code == 401
            new = log_in_sync(http, "org@example.no", "second password")
            assert new.status_code == 303
        listed = httpx.get(f"{server.url}/api/polls", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200
    finally:
        server.stop()


def test_a_bad_setting_stops_the_command_naming_it(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "LIVE_DATA_DIR": str(tmp_path), "LIVE_UPDATE_INTERVAL": "x"}
    done = subprocess.run(
        [sys.executable, "-m", "live", "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "LIVE_UPDATE_INTERVAL" in done.stderr and "'x'" in done.stderr


def test_sqlite_refuses_several_workers(tmp_path: Path) -> None:
    done = run(tmp_path, "serve", "--workers", "2")
    assert done.returncode == 2 and "redis://" in done.stderr
