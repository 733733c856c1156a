"""Does Redis keep what live acknowledges? Checked once, when the store opens.

The promise (an acknowledged vote survives kill -9 and power loss) needs `appendonly yes`
and `appendfsync always` on the primary. With Sentinel it also needs replicas that confirm
each write (`WAIT`, see `_redis_client`): `min-replicas-to-write` of at least 1 on the
primary (the number of replicas a write waits for), and replicas that persist the same
way (on Redis 7.0 `WAIT` says nothing about a replica's disk, so they need `appendfsync
always` too; 7.2's `WAITAOF` waits for their fsync itself). `LIVE_REDIS_DURABILITY`
says what a shortfall does: `strict` (the default) refuses to start, `warn` logs it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Literal

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from live.store._redis_client import WaitPolicy
from live.store._redis_sentinel import SentinelLink

log = logging.getLogger("live.store.redis")

Durability = Literal["strict", "warn"]
MODES: tuple[Durability, ...] = ("strict", "warn")
WAITAOF_SINCE = (7, 2)


class DurabilityError(ValueError):
    """Redis keeps less than live promises, and LIVE_REDIS_DURABILITY is strict."""


def _version(raw: object) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in str(raw).split(".")[:2])
    except ValueError:
        return (0,)


async def _settings(
    client: aioredis.Redis, names: tuple[str, ...], where: str, problems: list[str]
) -> dict[str, str] | None:
    """CONFIG GET of `names`, or None (and a problem said) when Redis does not allow it."""
    found: dict[str, str] = {}
    try:
        for name in names:
            found.update({str(k): str(v) for k, v in (await client.config_get(name)).items()})
    except ResponseError as error:
        problems.append(
            f"{where} does not allow CONFIG GET ({error}); hosting providers often disable "
            f"or rename it. live cannot check that it writes every change to disk before "
            f"answering (appendonly yes, appendfsync always)"
        )
        return None
    return found


def _persistence(found: Mapping[str, str], where: str, fsync_needed: bool) -> list[str]:
    problems = []
    if found.get("appendonly") != "yes":
        problems.append(
            f"{where} runs with appendonly {found.get('appendonly')!r}: nothing is written "
            f"to the append-only file, so a restart loses the votes (needs appendonly yes)"
        )
    elif fsync_needed and found.get("appendfsync") != "always":
        problems.append(
            f"{where} runs with appendfsync {found.get('appendfsync')!r}: it answers before "
            f"the vote is on disk, so a crash can lose acknowledged votes (up to a second "
            f"with everysec; needs appendfsync always)"
        )
    return problems


async def _check_replicas(link: SentinelLink, fsync_needed: bool, problems: list[str]) -> None:
    """Add each replica's persistence shortfall to `problems`. A replica that is missing
    or unreachable right now is only logged: that is an outage, which the replica's
    return mends by itself (meanwhile writes are refused, 503), not a weaker promise."""
    service = link.address.service
    try:
        replicas = await link.replicas()
    except RedisError as error:
        log.warning("the sentinels could not list the replicas of %r: %s", service, error)
        return
    if not replicas:
        log.warning(
            "the sentinels know no healthy replica of %r: no vote can be confirmed by a "
            "replica, so votes are refused until one is back",
            service,
        )
    for host, port in replicas:
        where = f"replica {host}:{port}"
        client = link.server(host, port)
        try:
            found = await _settings(client, ("appendonly", "appendfsync"), where, problems)
            if found is not None:
                problems += _persistence(found, where, fsync_needed)
        except RedisError as error:
            log.warning("%s cannot be reached to check its persistence: %s", where, error)
        finally:
            await client.aclose()


async def check_durability(
    client: aioredis.Redis, mode: Durability, sentinel: SentinelLink | None
) -> WaitPolicy | None:
    """Check Redis against the promise; return what writes must wait for (None: only the
    primary's own fsync). Raise DurabilityError when `mode` is strict and it falls short."""
    where = "Redis" if sentinel is None else f"the primary of {sentinel.address.service!r}"
    names = ("appendonly", "appendfsync", "min-replicas-to-write")
    problems: list[str] = []
    found = await _settings(client, names, where, problems)
    if found is not None:
        problems += _persistence(found, where, fsync_needed=True)
    policy = None
    if sentinel is not None:
        try:
            version = _version((await client.info("server")).get("redis_version"))
        except ResponseError:  # INFO disabled: WAIT, which every version has
            version = (0,)
        waitaof = version >= WAITAOF_SINCE
        replicas = int((found or {}).get("min-replicas-to-write") or 0)
        if found is not None and replicas < 1:
            problems.append(
                f"{where} runs with min-replicas-to-write {replicas}: set it to the number "
                f"of replicas that must confirm each vote (at least 1)"
            )
        local = 1 if (found or {}).get("appendonly", "yes") == "yes" else 0
        policy = WaitPolicy(max(1, replicas), waitaof=waitaof, local=local)
        await _check_replicas(sentinel, not waitaof, problems)
    if problems and mode == "strict":
        raise DurabilityError(
            "Redis keeps votes less safely than live promises:\n- "
            + "\n- ".join(problems)
            + "\nFix Redis (see ops/redis.conf and ops/DEPLOY.md), or set "
            "LIVE_REDIS_DURABILITY=warn to start anyway."
        )
    for problem in problems:
        log.warning("DURABILITY: acknowledged votes can be lost: %s", problem)
    return policy
