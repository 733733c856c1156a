"""Votes that arrive together go to Redis together.

Awaiting one Redis round trip per vote caps a process near a few thousand votes a second.
`ScriptBatcher` gathers the calls of one script made in the same event-loop tick and sends
them in one pipeline (not a transaction: each script is still its own atomic step, run in
arrival order). Every caller gets its own answer or its own error; when the connection
fails, or (with Sentinel) the replicas do not confirm the batch in time (the client's
pipeline ends with a WAIT, see `_redis_client`), every caller in the batch gets that
failure and none is told "recorded".
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

MAX_BATCH = 256

_Call = tuple[list[str], list[str | int | float], "asyncio.Future[Any]"]


class ScriptBatcher:
    def __init__(self, client: aioredis.Redis, script: AsyncScript) -> None:
        self._client = client
        self._script = script
        self._pending: list[_Call] = []
        self._scheduled = False

    async def call(self, keys: list[str], args: list[str | int | float]) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((keys, args, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._scheduled = False
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            task = asyncio.get_running_loop().create_task(self._send(batch))
            task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _send(self, batch: list[_Call]) -> None:
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for keys, args, _ in batch:
                    await self._script(keys=keys, args=args, client=pipe)
                answers = await pipe.execute(raise_on_error=False)
        except BaseException as error:
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(error)
            if isinstance(error, asyncio.CancelledError):
                raise
            return
        for (_, _, future), answer in zip(batch, answers, strict=True):
            if future.done():
                continue
            if isinstance(answer, Exception):
                future.set_exception(answer)
            else:
                future.set_result(answer)
