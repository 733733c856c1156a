"""What the halves of the Redis store share: the key prefix, its errors and the guard."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from live import metrics
from live.errors import N_, Unavailable

log = logging.getLogger("live.store.redis")

P = "live:"


class CommandNotSent(RedisConnectionError):
    """No connection to Redis could be had: the command never left this process."""


class NotReplicated(RedisError):
    """A write ran on the primary, but too few replicas confirmed it in time.

    It is not acknowledged; running it again is safe (see `_redis_client`)."""


@contextlib.asynccontextmanager
async def guard() -> AsyncIterator[None]:
    """Turn any Redis failure into `Unavailable` (503): nothing is claimed as done."""
    try:
        yield
    except NotReplicated as error:
        metrics.REDIS_ERRORS.labels("not_replicated").inc()
        log.warning("a write was not confirmed by the replicas: %s", error)
        raise Unavailable(N_("The vote store cannot be reached. Try again in a moment.")) from None
    except (RedisConnectionError, RedisTimeoutError, OSError) as error:
        metrics.REDIS_ERRORS.labels("unreachable").inc()
        log.warning("Redis unreachable: %s", error)
        raise Unavailable(N_("The vote store cannot be reached. Try again in a moment.")) from None
    except RedisError as error:
        metrics.REDIS_ERRORS.labels("error").inc()
        log.error("Redis error: %s", error)
        raise Unavailable(N_("The vote store cannot be reached. Try again in a moment.")) from None
