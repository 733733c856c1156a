"""Redis behind Sentinel: `redis+sentinel://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT…]/SERVICE[/DB]`.

The sentinels are asked where the primary of SERVICE is whenever a connection is made,
so after a failover the pool's next connection goes to the new primary (the old
connections fail their check in `CheckedPool` and reconnect). Credentials in the URL are
for the Redis servers; the sentinels are asked without (keep them on a private network).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

from live.store._redis_client import CONNECTION_OPTIONS, CheckedPool

SCHEME = "redis+sentinel"
_SENTINEL_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}


@dataclass(frozen=True)
class SentinelAddress:
    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int
    username: str | None
    password: str | None


def parse_sentinel_url(url: str) -> SentinelAddress:
    """The parts of a `redis+sentinel://` URL; ValueError names what is wrong."""
    parts = urlsplit(url)
    if parts.scheme != SCHEME:
        raise ValueError(f"a Sentinel URL starts with {SCHEME}://")
    credentials, _, hosts = parts.netloc.rpartition("@")
    sentinels = []
    for address in hosts.split(","):
        host, _, port = address.strip().rpartition(":")
        host = host.strip("[]")
        if not host or not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"each sentinel must be HOST:PORT, got {address!r}")
        sentinels.append((host, int(port)))
    path = [unquote(part) for part in parts.path.split("/")[1:] if part]
    if not 1 <= len(path) <= 2:
        raise ValueError("the path must be /SERVICE or /SERVICE/DB")
    db = path[1] if len(path) == 2 else "0"
    if not db.isascii() or not db.isdigit():
        raise ValueError(f"the database must be a number, got {db!r}")
    username, _, password = credentials.partition(":")
    return SentinelAddress(
        tuple(sentinels),
        path[0],
        int(db),
        unquote(username) or None,
        unquote(password) if credentials else None,
    )


class CheckedSentinelPool(SentinelConnectionPool, CheckedPool):
    """Sentinel's pool for the primary, bounded and checked like `CheckedPool`."""


class SentinelLink:
    """The sentinels of one service, and pools and clients for its servers."""

    def __init__(self, url: str) -> None:
        self.address = parse_sentinel_url(url)
        self.sentinel = Sentinel(  # type: ignore[no-untyped-call]
            list(self.address.sentinels), sentinel_kwargs=_SENTINEL_OPTIONS
        )

    @property
    def _credentials(self) -> dict[str, Any]:
        return {"username": self.address.username, "password": self.address.password}

    def primary_pool(self) -> CheckedSentinelPool:
        return CheckedSentinelPool(  # type: ignore[no-untyped-call]
            self.address.service,
            self.sentinel,
            db=self.address.db,
            **self._credentials,
            **CONNECTION_OPTIONS,
        )

    async def replicas(self) -> list[tuple[str, int]]:
        """The replicas the sentinels hold for healthy (not down)."""
        found = await self.sentinel.discover_replicas(self.address.service)
        return [(str(host), int(port)) for host, port in found]

    def server(self, host: str, port: int) -> aioredis.Redis:
        """A short-lived client for one server (a replica, to read its settings)."""
        return aioredis.Redis(
            host=host,
            port=port,
            decode_responses=True,
            socket_connect_timeout=2,
            socket_timeout=2,
            **self._credentials,
        )

    async def aclose(self) -> None:
        await self.sentinel.aclose()
