"""What both halves of the Redis store share: the key prefix and the error guard."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from live.errors import N_, Unavailable

log = logging.getLogger("live.store.redis")

P = "live:"


@contextlib.asynccontextmanager
async def guard() -> AsyncIterator[None]:
    """Turn any Redis failure into `Unavailable` (503): nothing is claimed as done."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, OSError) as error:
        log.warning("Redis unreachable: %s", error)
        raise Unavailable(N_("The vote store cannot be reached. Try again in a moment.")) from None
    except RedisError as error:
        log.error("Redis error: %s", error)
        raise Unavailable(N_("The vote store cannot be reached. Try again in a moment.")) from None
