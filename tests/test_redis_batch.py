"""Batched script calls: one pipeline, but every caller gets its own answer or error."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from live.store._redis_batch import ScriptBatcher
from tests.support.redis_server import free_port

pytestmark = pytest.mark.asyncio

ECHO_OR_FAIL = """
if ARGV[1] == 'bad' then return redis.error_reply('refused ' .. ARGV[1]) end
redis.call('RPUSH', KEYS[1], ARGV[1])
return ARGV[1]
"""


async def test_a_batch_answers_each_caller_in_order(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        batcher = ScriptBatcher(client, client.register_script(ECHO_OR_FAIL))
        calls = [batcher.call(["log"], [str(n) if n != 7 else "bad"]) for n in range(20)]
        answers = await asyncio.gather(*calls, return_exceptions=True)
        assert isinstance(answers[7], ResponseError) and "refused bad" in str(answers[7])
        assert [a for n, a in enumerate(answers) if n != 7] == [str(n) for n in range(20) if n != 7]
        assert await client.lrange("log", 0, -1) == [str(n) for n in range(20) if n != 7]
    finally:
        await client.aclose()


async def test_a_lost_connection_fails_every_caller() -> None:
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    try:
        batcher = ScriptBatcher(client, client.register_script(ECHO_OR_FAIL))
        answers = await asyncio.gather(
            *(batcher.call(["log"], [str(n)]) for n in range(5)), return_exceptions=True
        )
        assert all(isinstance(a, (RedisConnectionError, OSError)) for a in answers)
    finally:
        await client.aclose()
