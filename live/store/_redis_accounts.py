"""Accounts, login sessions and API tokens in the Redis store."""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from live.errors import N_, Conflict, NotFound
from live.store import _redis_scripts as lua
from live.store._redis_common import P, guard
from live.store.models import Role, Session, User
from live.store.timestamps import now_iso


def _user(fields: Mapping[Any, Any]) -> User:
    return User(int(fields["id"]), fields["email"], Role(fields["role"]),
                fields["password_hash"] or None, fields["created_at"],
                fields.get("network_id") or None)  # fmt: skip


class RedisAccounts:
    """The account half of `RedisStore`; it shares the store's client."""

    _redis: aioredis.Redis

    @functools.cached_property
    def _create_user_script(self) -> AsyncScript:
        return self._redis.register_script(lua.CREATE_USER)

    async def create_user(
        self, email: str, role: Role, password_hash: str | None, network_id: str | None = None
    ) -> User:
        async with guard():
            user_id = int(await self._redis.incr(f"{P}seq:user"))
            created = await self._create_user_script(
                keys=[f"{P}user-email:{email.casefold()}", f"{P}user:{user_id}", f"{P}users"],
                args=[user_id, email, role.value, password_hash or "", now_iso(), network_id or ""],
            )
        if not created:
            raise Conflict(N_("An account for %(email)s exists already."), email=email)
        return await self.get_user(email)

    async def list_users(self) -> list[User]:
        async with guard():
            ids = sorted(int(user_id) for user_id in await self._redis.smembers(f"{P}users"))
            async with self._redis.pipeline(transaction=False) as pipe:
                for user_id in ids:
                    pipe.hgetall(f"{P}user:{user_id}")
                rows = await pipe.execute()
        return [_user(fields) for fields in rows if fields]

    async def set_password(self, user_id: int, password_hash: str) -> None:
        async with guard():
            await self._redis.hset(f"{P}user:{user_id}", "password_hash", password_hash)

    async def _user_by_id(self, user_id: str | bytes | None) -> User | None:
        if user_id is None:
            return None
        async with guard():
            fields = await self._redis.hgetall(f"{P}user:{user_id!s}")
        return _user(fields) if fields else None

    async def get_user(self, email: str) -> User:
        async with guard():
            user_id = await self._redis.get(f"{P}user-email:{email.casefold()}")
        user = await self._user_by_id(user_id)
        if user is None:
            raise NotFound(N_("There is no account for %(email)s."), email=email)
        return user

    async def create_session(
        self, user_id: int, token_digest: str, csrf: str, expires_at: float
    ) -> None:
        key = f"{P}session:{token_digest}"
        async with guard(), self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"user_id": user_id, "csrf": csrf, "expires_at": expires_at})
            pipe.expireat(key, int(expires_at) + 1)
            await pipe.execute()

    async def get_session(self, token_digest: str) -> Session | None:
        async with guard():
            fields = await self._redis.hgetall(f"{P}session:{token_digest}")
        if not fields or float(fields["expires_at"]) < time.time():
            return None
        user = await self._user_by_id(fields["user_id"])
        if user is None:
            return None
        return Session(user, str(fields["csrf"]), float(fields["expires_at"]))

    async def delete_session(self, token_digest: str) -> None:
        async with guard():
            await self._redis.delete(f"{P}session:{token_digest}")

    async def create_api_token(self, user_id: int, token_digest: str) -> None:
        async with guard():
            await self._redis.set(f"{P}api-token:{token_digest}", user_id)

    async def get_api_user(self, token_digest: str) -> User | None:
        async with guard():
            user_id = await self._redis.get(f"{P}api-token:{token_digest}")
        return await self._user_by_id(user_id)
