"""The connection to Redis: a pool that never writes into a dead socket, and a client
that waits for replicas before a write counts as done.

When a retry is safe
--------------------
A connection can fail at three moments: while the pool hands it out (connecting, or
finding that the server has closed it), while a command is written, or while the
answer is read. Only in the first is it certain that Redis has not seen the command.
Once bytes have left, Redis may have run it (a vote counted, a poll created, an audit
entry added) and only the answer is lost; running it again blindly could create a second
poll or a second audit entry. Hence:

* redis-py never retries a command (`Retry(NoBackoff(), 0)`). A command that fails after
  it was sent ends in 503 "try again", and whoever retries knows what they are retrying.
* The pool checks a connection before handing it out: a socket the server has closed
  (Redis restarted, or a failover killed the primary) is reconnected, and one idle for
  longer than `HEALTH_CHECK_SECONDS` must answer a PING first. When no working
  connection can be had, the pool tries again for up to `CONNECT_RETRY_SECONDS` (a
  restart or a Sentinel failover in progress) and then gives up with `CommandNotSent`.
  That retry is safe for every command, as none was sent. redis-py 8 skips the
  closed-socket check while "maintenance notifications" (a Redis Enterprise feature) are
  on, and turns them on by default: that is why every idle pooled connection used to
  fail once after a Redis restart. They are off here, and the check is our own.
* What a caller's retry does: every store write is one script that checks before it
  writes. A vote sent again with the same `sent_at` finds itself and answers "stale"
  with the stored ballot; a vote without `sent_at` replaces itself with the same choice.
  Either way it is counted once.

Waiting for replicas
--------------------
With Sentinel, a write counts only when it is on the primary's disk (`appendfsync
always`: Redis fsyncs before it answers) and confirmed by `WaitPolicy.replicas` replicas.
After every round trip that may write (a command not known to be read-only, a script,
a pipeline or transaction holding one), the same connection sends `SET live:fence` and
`WAIT replicas timeout` (`WAITAOF 1 replicas timeout` on Redis 7.2+, which also waits
for the replicas' fsync). The fence matters: since Redis 7.2, WAIT waits only up to the
connection's own last write, and a script that found its work done (a retried vote)
writes nothing, so without the fence WAIT could confirm a vote that only the primary
holds. (Redis 7.0 moves that mark after every command, reads too.) Too few confirmations
raise `NotReplicated`: the write is not acknowledged (503), and a retry is safe as above.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.asyncio.connection import AbstractConnection, BlockingConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.maint_notifications import MaintNotificationsConfig

from live.store._redis_common import CommandNotSent, NotReplicated, P

MAX_CONNECTIONS = 64
HEALTH_CHECK_SECONDS = 10
CONNECT_RETRY_SECONDS = 2.0
WAIT_TIMEOUT_MS = 2000
FENCE = f"{P}fence"

# Options for every pooled connection to a Redis server (not to the sentinels).
CONNECTION_OPTIONS: dict[str, Any] = {
    "decode_responses": True,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,  # longer than WAIT_TIMEOUT_MS
    "health_check_interval": HEALTH_CHECK_SECONDS,
    "retry": Retry(NoBackoff(), 0),
    "maint_notifications_config": MaintNotificationsConfig(enabled=False),
    # A bounded pool: a burst of votes waits for a connection instead of opening
    # hundreds of sockets at once.
    "max_connections": MAX_CONNECTIONS,
    "timeout": 5,
}

# Commands that never change data: no WAIT after them. Anything else (a command added
# later included) is taken to write, which costs a WAIT and is never unsafe.
_READ_ONLY_NAMES = (
    "GET MGET GETRANGE STRLEN EXISTS TYPE TTL PTTL EXPIRETIME PEXPIRETIME KEYS SCAN DBSIZE "
    "HGET HMGET HGETALL HKEYS HVALS HLEN HEXISTS HSTRLEN HSCAN HRANDFIELD "
    "LRANGE LLEN LINDEX LPOS SMEMBERS SISMEMBER SMISMEMBER SCARD SSCAN SRANDMEMBER "
    "SINTER SUNION SDIFF SINTERCARD ZRANGE ZRANGEBYSCORE ZREVRANGE ZREVRANGEBYSCORE "
    "ZRANGEBYLEX ZREVRANGEBYLEX ZSCORE ZMSCORE ZCARD ZCOUNT ZLEXCOUNT ZRANK ZREVRANK ZSCAN "
    "XRANGE XREVRANGE XLEN BITCOUNT GETBIT BITPOS PFCOUNT DUMP OBJECT MEMORY "
    "EVAL_RO EVALSHA_RO FCALL_RO PING ECHO TIME INFO CONFIG COMMAND CLIENT SCRIPT ROLE "
    "LASTSAVE SELECT HELLO AUTH WATCH UNWATCH WAIT WAITAOF PUBLISH SENTINEL"
)
READ_ONLY = frozenset(_READ_ONLY_NAMES.split())

_Command = tuple[tuple[Any, ...], dict[str, Any]]


def may_write(command_name: Any) -> bool:
    return str(command_name).split(" ", 1)[0].upper() not in READ_ONLY


def _writes(commands: Sequence[_Command]) -> bool:
    return any(may_write(args[0]) for args, _ in commands)


@dataclass(frozen=True)
class WaitPolicy:
    """What a write waits for before it counts: `replicas` confirmations, and with
    `waitaof` (Redis 7.2+) their fsync (and `local`, the primary's own)."""

    replicas: int
    waitaof: bool = False
    local: int = 1
    timeout_ms: int = WAIT_TIMEOUT_MS

    def commands(self) -> list[_Command]:
        if self.waitaof:
            wait: tuple[Any, ...] = ("WAITAOF", self.local, self.replicas, self.timeout_ms)
        else:
            wait = ("WAIT", self.replicas, self.timeout_ms)
        return [(("SET", FENCE, "1"), {}), (wait, {})]

    def check(self, fenced: Any, confirmed: Any) -> None:
        """Raise unless the fence was written and enough replicas confirmed it."""
        for answer in (fenced, confirmed):
            if isinstance(answer, Exception):
                raise answer
        if self.waitaof:
            local, replicas = (int(n) for n in confirmed)
        else:
            local, replicas = self.local, int(confirmed)
        if local < self.local or replicas < self.replicas:
            raise NotReplicated(
                f"{replicas} of {self.replicas} replica(s) confirmed the write "
                f"within {self.timeout_ms} ms"
            )


class CheckedPool(BlockingConnectionPool):
    """Hands out only connections that are open and answering (see the module's doc)."""

    async def get_connection(
        self, command_name: Any = None, *keys: Any, **options: Any
    ) -> AbstractConnection:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONNECT_RETRY_SECONDS
        pause = 0.05
        while True:
            try:
                connection: AbstractConnection = await super().get_connection()  # type: ignore[no-untyped-call]
                return connection
            except (RedisConnectionError, RedisTimeoutError, OSError) as error:
                if loop.time() + pause > deadline:
                    raise CommandNotSent(f"no connection to Redis: {error}") from error
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.4)

    async def ensure_connection(self, connection: AbstractConnection) -> None:
        link: Any = connection  # redis-py leaves these untyped
        await link.connect()
        if await link.can_read():  # closed by the server, or an answer left unread
            await link.disconnect()
            await link.connect()
        await link.check_health()  # a PING, when idle for HEALTH_CHECK_SECONDS


class DurableRedis(aioredis.Redis):
    """A client whose writes wait for replicas when `wait_policy` says so."""

    wait_policy: WaitPolicy | None = None

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        return DurablePipeline(
            self.connection_pool, self.response_callbacks, transaction, shard_hint, self
        )

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        if self.wait_policy is None or not may_write(args[0]):
            return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        async with self.pipeline(transaction=False) as pipe:
            pipe.execute_command(*args, **options)
            (answer,) = await pipe.execute()
        return answer


class DurablePipeline(Pipeline):
    """A pipeline or transaction that ends with fence + WAIT when it may have written."""

    def __init__(
        self,
        connection_pool: Any,
        response_callbacks: Any,
        transaction: bool,
        shard_hint: str | None,
        owner: DurableRedis,
    ) -> None:
        super().__init__(connection_pool, response_callbacks, transaction, shard_hint)
        self._owner = owner

    async def _execute_pipeline(
        self, connection: Any, commands: Any, raise_on_error: bool
    ) -> list[Any]:
        policy = self._owner.wait_policy
        if policy is None or not _writes(commands):
            answers: list[Any] = await super()._execute_pipeline(
                connection, commands, raise_on_error
            )
            return answers
        *answers, fenced, confirmed = await super()._execute_pipeline(
            connection, [*commands, *policy.commands()], False
        )
        policy.check(fenced, confirmed)
        if raise_on_error:
            self.raise_first_error(commands, answers)
        return answers

    async def _execute_transaction(
        self, connection: Any, commands: Any, raise_on_error: bool
    ) -> list[Any]:
        answers: list[Any] = await super()._execute_transaction(
            connection, commands, raise_on_error
        )
        policy = self._owner.wait_policy
        if policy is not None and _writes(commands):
            # WAIT inside MULTI would not block: it follows EXEC, on the same connection.
            extra = policy.commands()
            await connection.send_packed_command(
                connection.pack_commands([args for args, _ in extra])
            )
            replies: list[Any] = []
            for args, _ in extra:
                try:
                    replies.append(await self.parse_response(connection, args[0]))
                except ResponseError as error:
                    replies.append(error)
            policy.check(*replies)
        return answers
