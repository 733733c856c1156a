"""A real redis-server (Debian's) on a free loopback port, started by the tests themselves;
and a Sentinel set-up of such servers (a primary, replicas, three sentinels), each
sentinel being the same binary run as `redis-server CONFIG --sentinel`."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import redis


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed; run ops/test.sh, which installs it")
    return binary


def ask(port: int, *command: str | int) -> Any:
    """One command to the server (or sentinel) on `port`, on a connection of its own."""
    with redis.Redis(port=port, decode_responses=True, socket_timeout=5) as client:
        return client.execute_command(*command)


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    """Poll `condition()` until it is true, or fail naming `what`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"gave up waiting for {what}")


class RedisServer:
    """One redis-server process, by default with append-only persistence and fsync on
    every write (what live's durability check asks for)."""

    def __init__(
        self, directory: Path, *, appendfsync: str = "always", extra: Sequence[str] = ()
    ) -> None:
        self.binary = redis_binary()
        self.directory = directory
        self.port = free_port()
        self.appendfsync = appendfsync
        self.extra = list(extra)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                self.appendfsync,
                "--save",
                "",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
                *self.extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """kill -9: whatever was acknowledged must already be on disk."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def ask(self, *command: str | int) -> Any:
        """One command, on a connection of its own."""
        return ask(self.port, *command)

    def flush(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
            conn.sendall(b"FLUSHALL SYNC\r\n")
            conn.recv(16)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.kill()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The shared server, emptied for this test."""
    redis_server.flush()
    return redis_server.url


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A server for this test alone, which it may kill and restart."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.kill()


class SentinelSetup:
    """A primary, `replicas` replicas and three sentinels (quorum 2) on loopback, with
    quick failover: a primary silent for a second is down. Every server persists as
    live asks (appendfsync always, min-replicas-to-write 1) unless told otherwise."""

    SERVICE = "live"

    def __init__(
        self, directory: Path, replicas: int = 2, replica_appendfsync: str = "always"
    ) -> None:
        self.directory = directory
        guard = ["--min-replicas-to-write", "1", "--min-replicas-max-lag", "10",
                 "--repl-diskless-sync-delay", "0"]  # fmt: skip
        self.primary = RedisServer(directory / "primary", extra=guard)
        follow = ["--replicaof", "127.0.0.1", str(self.primary.port)]
        self.replicas = [
            RedisServer(directory / f"replica{n}", appendfsync=replica_appendfsync,
                        extra=[*guard, *follow])
            for n in range(replicas)
        ]  # fmt: skip
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.sentinels: list[subprocess.Popen[bytes]] = []

    @property
    def servers(self) -> list[RedisServer]:
        return [self.primary, *self.replicas]

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{self.SERVICE}/0"

    def start(self) -> None:
        for server in self.servers:
            server.start()
        wanted = len(self.replicas)
        wait_for(
            lambda: all(
                server.ask("INFO", "replication").get("master_link_status") == "up"
                for server in self.replicas
            ),
            "the replicas to sync",
        )
        for n, port in enumerate(self.sentinel_ports):
            folder = self.directory / f"sentinel{n}"
            folder.mkdir(parents=True, exist_ok=True)
            config = folder / "sentinel.conf"
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
                f"logfile {folder / 'sentinel.log'}\n"
                f"sentinel monitor {self.SERVICE} 127.0.0.1 {self.primary.port} 2\n"
                f"sentinel down-after-milliseconds {self.SERVICE} 1000\n"
                f"sentinel failover-timeout {self.SERVICE} 3000\n"
                f"sentinel parallel-syncs {self.SERVICE} {max(1, wanted)}\n"
            )
            self.sentinels.append(
                subprocess.Popen(
                    [redis_binary(), str(config), "--sentinel"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )

        def sentinels_agree() -> bool:
            for port in self.sentinel_ports:
                state = ask(port, "SENTINEL", "MASTER", self.SERVICE)
                if int(state["num-slaves"]) < wanted or int(state["num-other-sentinels"]) < 2:
                    return False
            return True

        wait_for(sentinels_agree, "the sentinels to find the replicas and each other")

    def primary_port(self) -> int:
        return int(
            ask(self.sentinel_ports[0], "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.SERVICE)[1]
        )

    def server_on(self, port: int) -> RedisServer:
        return next(server for server in self.servers if server.port == port)

    def kill_primary(self) -> RedisServer:
        """kill -9 of the server the sentinels name as primary."""
        primary = self.server_on(self.primary_port())
        primary.kill()
        return primary

    def stop(self) -> None:
        for process in self.sentinels:
            process.kill()
            process.wait(timeout=10)
        self.sentinels.clear()
        for server in self.servers:
            server.kill()


@pytest.fixture
def redis_sentinel(tmp_path: Path) -> Iterator[SentinelSetup]:
    """A Sentinel set-up for this test alone: a primary, two replicas, three sentinels."""
    setup = SentinelSetup(tmp_path / "sentinel")
    try:
        setup.start()
        yield setup
    finally:
        setup.stop()
