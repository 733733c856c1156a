"""The service as users meet it: `python -m live serve` in its own process on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from tests.support.redis_server import free_port


class ServerProcess:
    def __init__(
        self, data_dir: Path, store_url: str | None = None, workers: int = 1, **env: str
    ) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.workers = workers
        self.env = {
            **os.environ,
            "LIVE_DATA_DIR": str(data_dir),
            "LIVE_LOG_LEVEL": "warning",
            **env,
        }
        self.env.pop("REDIS_URL", None)
        if store_url:
            self.env["LIVE_STORE_URL"] = store_url
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def live(self, *args: str, **env: str) -> str:
        """Run a `live` subcommand against the same data as the server."""
        done = subprocess.run(
            [sys.executable, "-m", "live", *args],
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout.strip()

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = self._spawn(log)
        self._wait_until_ready()

    def _spawn(self, log: IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "live",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not start: {self.log_path.read_text()[-2000:]}")

    def kill(self) -> None:
        """kill -9 of the whole process group: no shutdown hook runs."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            self.process = None

    def organiser_token(self, email: str = "org@example.no") -> str:
        self.live("create-user", email, "--role", "organiser", LIVE_PASSWORD="a long password")
        return self.live("api-token", email)


def cookieless_client(base_url: str, **options: Any) -> httpx.AsyncClient:
    """A client standing for many phones: it keeps no cookies, each request brings its own."""
    client = httpx.AsyncClient(base_url=base_url, **options)
    client.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return client


async def new_voter(http: httpx.AsyncClient, path: str) -> str:
    """A phone's first visit to a ballot: the voter token it is given."""
    return (await http.get(path)).cookies["live_voter"]


async def vote(http: httpx.AsyncClient, path: str, token: str, *choices: int) -> httpx.Response:
    """A vote with `token`, answered as JSON."""
    return await http.post(
        path,
        data={"choice": [str(choice) for choice in choices]},
        headers={"Accept": "application/json", "Cookie": f"live_voter={token}"},
    )


def open_new_poll(server: ServerProcess, token: str, **fields: Any) -> dict[str, Any]:
    """A poll with five finalists A to E, created and opened through the API."""
    body = {"title": "Finalen", "finalists": [{"name": n} for n in "ABCDE"], **fields}
    poll: dict[str, Any] = api(server, token, "POST", "/api/polls", json=body)
    api(server, token, "POST", f"/api/polls/{poll['id']}/open")
    return poll


def api(server: ServerProcess, token: str, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(
        method,
        server.url + path,
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
        **kwargs,
    )
    response.raise_for_status()
    return response.json()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path / "var")
    process.start()
    yield process
    process.stop()
