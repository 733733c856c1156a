"""Accounts, login sessions, API tokens and abuse-limit counters in the Redis store.

Keys (under `live:`): `session:{digest}` (hash, expiring with the session) and
`user-sessions:{user id}` (set of digests); `api-token:{digest}` (hash: id, user_id,
name, created_at, expires_at), `api-token-id:{id}` (-> digest), `user-api-tokens:{user
id}` and `api-tokens` (sets of ids); `rate:{key}` (a counter that expires with its
window). `schema:accounts` records that tokens and sessions from before these indexes
were upgraded, so that `set_password` reaches them too.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Mapping
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from live.errors import N_, Conflict, NotFound
from live.store import _redis_scripts as lua
from live.store._redis_common import P, guard
from live.store._redis_records import AUDIT_KEYS
from live.store.models import ApiToken, Role, Session, User, audit_data
from live.store.timestamps import now_iso

_SCHEMA = "2"

# KEYS: session, user-sessions   ARGV: digest, user id, csrf, expires_at, created_at
_CREATE_SESSION = """
redis.call('HSET', KEYS[1], 'user_id', ARGV[2], 'csrf', ARGV[3], 'expires_at', ARGV[4],
  'created_at', ARGV[5])
redis.call('EXPIREAT', KEYS[1], math.floor(tonumber(ARGV[4])) + 1)
redis.call('SADD', KEYS[2], ARGV[1])
"""

# KEYS: session   ARGV: expires_at. An ended session is never brought back.
_TOUCH_SESSION = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'expires_at', ARGV[1])
redis.call('EXPIREAT', KEYS[1], math.floor(tonumber(ARGV[1])) + 1)
return 1
"""

# The audit entry's actor: the one named, else the account itself ('' asks for that).
_ACTOR = """
local function actor_or_owner(actor, user_key)
  if actor ~= '' then return actor end
  return redis.call('HGET', user_key, 'email') or ''
end
"""

# KEYS: user, user-sessions, user-api-tokens, api-tokens, audit, audit seq
# ARGV: password hash, prefix, at, actor, subject. The session and token keys follow
# from the indexes (a single Redis, not a cluster).
_SET_PASSWORD = (
    lua.AUDIT_FUNCTION
    + _ACTOR
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'password_hash', ARGV[1])
local sessions, tokens = 0, 0
for _, digest in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  sessions = sessions + redis.call('DEL', ARGV[2] .. 'session:' .. digest)
end
redis.call('DEL', KEYS[2])
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local digest = redis.call('GET', ARGV[2] .. 'api-token-id:' .. id)
  if digest then tokens = tokens + redis.call('DEL', ARGV[2] .. 'api-token:' .. digest) end
  redis.call('DEL', ARGV[2] .. 'api-token-id:' .. id)
  redis.call('SREM', KEYS[4], id)
end
redis.call('DEL', KEYS[3])
audit(KEYS[5], KEYS[6], ARGV[3], actor_or_owner(ARGV[4], KEYS[1]), 'account.password',
  ARGV[5], 'null', '{"sessions_ended":' .. sessions .. ',"api_tokens_revoked":' .. tokens .. '}')
return 1
"""
)

# KEYS: api-token, api-token-id, user-api-tokens, api-tokens, user, audit, audit seq
# ARGV: id, digest, user id, name, created_at, expires_at ('' for none), actor,
#       subject, audit data JSON
_CREATE_API_TOKEN = (
    lua.AUDIT_FUNCTION
    + _ACTOR
    + """
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'user_id', ARGV[3], 'name', ARGV[4],
  'created_at', ARGV[5], 'expires_at', ARGV[6])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[1])
audit(KEYS[6], KEYS[7], ARGV[5], actor_or_owner(ARGV[7], KEYS[5]), 'api_token.create',
  ARGV[8], 'null', ARGV[9])
"""
)

# KEYS: api-token-id, api-token, user-api-tokens, api-tokens, user, audit, audit seq
# ARGV: id, digest, at, actor, subject, audit data JSON
_REVOKE_API_TOKEN = (
    lua.AUDIT_FUNCTION
    + _ACTOR
    + """
if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
audit(KEYS[6], KEYS[7], ARGV[3], actor_or_owner(ARGV[4], KEYS[5]), 'api_token.revoke',
  ARGV[5], ARGV[6], 'null')
return 1
"""
)

# KEYS: legacy api-token (a plain user id), api-token-id, user-api-tokens, api-tokens
# ARGV: id, digest, created_at
_UPGRADE_LEGACY_BEARER = """
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then return 0 end
local user_id = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'user_id', user_id, 'name', '',
  'created_at', ARGV[3], 'expires_at', '')
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3] .. user_id, ARGV[1])
redis.call('SADD', KEYS[4], ARGV[1])
return 1
"""

# KEYS: counter   ARGV: cost, window ms, limit. The window starts with the first hit.
# Returns the milliseconds left in the window when it holds more than `limit`, else -1.
_HIT = """
local hits
if tonumber(ARGV[1]) > 0 then
  hits = redis.call('INCRBY', KEYS[1], ARGV[1])
  if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
else
  hits = tonumber(redis.call('GET', KEYS[1]) or '0')
end
if hits > tonumber(ARGV[3]) then
  local left = redis.call('PTTL', KEYS[1])
  if left > 0 then return left end
end
return -1
"""


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
        self,
        email: str,
        role: Role,
        password_hash: str | None,
        network_id: str | None = None,
        *,
        actor: str | None = None,
    ) -> User:
        after = json.dumps(
            {"email": email, "role": role.value, "network_id": network_id}, ensure_ascii=False
        )
        async with guard():
            user_id = int(await self._redis.incr(f"{P}seq:user"))
            created = await self._create_user_script(
                keys=[
                    f"{P}user-email:{email.casefold()}",
                    f"{P}user:{user_id}",
                    f"{P}users",
                    *AUDIT_KEYS,
                ],
                args=[
                    user_id,
                    email,
                    role.value,
                    password_hash or "",
                    now_iso(),
                    network_id or "",
                    actor or email,
                    f"user:{user_id}",
                    after,
                ],
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

    @functools.cached_property
    def _account_scripts(self) -> dict[str, AsyncScript]:
        return {
            name: self._redis.register_script(source)
            for name, source in (
                ("create_session", _CREATE_SESSION),
                ("touch_session", _TOUCH_SESSION),
                ("set_password", _SET_PASSWORD),
                ("create_api_token", _CREATE_API_TOKEN),
                ("revoke_api_token", _REVOKE_API_TOKEN),
                ("upgrade_api_token", _UPGRADE_LEGACY_BEARER),
                ("hit", _HIT),
            )
        }

    async def _upgrade_accounts(self) -> None:
        """Index API tokens and sessions kept before the indexes existed; once per store,
        harmless when several processes start at once."""
        async with guard():
            if await self._redis.get(f"{P}schema:accounts") == _SCHEMA:
                return
            legacy = self._redis.scan_iter(match=f"{P}api-token:*", count=500, _type="string")
            async for key in legacy:
                token_digest = str(key).removeprefix(f"{P}api-token:")
                token_id = int(await self._redis.incr(f"{P}seq:api-token"))
                await self._account_scripts["upgrade_api_token"](
                    keys=[
                        key,
                        f"{P}api-token-id:{token_id}",
                        f"{P}user-api-tokens:",
                        f"{P}api-tokens",
                    ],
                    args=[token_id, token_digest, now_iso()],
                )
            sessions = self._redis.scan_iter(match=f"{P}session:*", count=500, _type="hash")
            async for key in sessions:
                user_id = await self._redis.hget(key, "user_id")
                if user_id is not None:
                    token_digest = str(key).removeprefix(f"{P}session:")
                    await self._redis.sadd(f"{P}user-sessions:{user_id!s}", token_digest)
            await self._redis.set(f"{P}schema:accounts", _SCHEMA)

    async def set_password(
        self, user_id: int, password_hash: str, *, actor: str | None = None
    ) -> None:
        async with guard():
            await self._account_scripts["set_password"](
                keys=[
                    f"{P}user:{user_id}",
                    f"{P}user-sessions:{user_id}",
                    f"{P}user-api-tokens:{user_id}",
                    f"{P}api-tokens",
                    *AUDIT_KEYS,
                ],
                args=[password_hash, P, now_iso(), actor or "", f"user:{user_id}"],
            )

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
        index = f"{P}user-sessions:{user_id}"
        async with guard():
            await self._account_scripts["create_session"](
                keys=[f"{P}session:{token_digest}", index],
                args=[token_digest, user_id, csrf, expires_at, time.time()],
            )
            # Forget sessions that have expired since, so the index stays small.
            known = list(await self._redis.smembers(index))
            async with self._redis.pipeline(transaction=False) as pipe:
                for member in known:
                    pipe.exists(f"{P}session:{member!s}")
                alive = await pipe.execute()
            gone = [member for member, exists in zip(known, alive, strict=True) if not exists]
            if gone:
                await self._redis.srem(index, *gone)

    async def get_session(self, token_digest: str) -> Session | None:
        async with guard():
            fields = await self._redis.hgetall(f"{P}session:{token_digest}")
        if not fields or float(fields["expires_at"]) < time.time():
            return None
        user = await self._user_by_id(fields["user_id"])
        if user is None:
            return None
        expires_at = float(fields["expires_at"])
        created_at = float(fields.get("created_at") or expires_at - 12 * 3600)
        return Session(user, str(fields["csrf"]), expires_at, created_at)

    async def touch_session(self, token_digest: str, expires_at: float) -> None:
        async with guard():
            await self._account_scripts["touch_session"](
                keys=[f"{P}session:{token_digest}"], args=[expires_at]
            )

    async def delete_session(self, token_digest: str) -> None:
        key = f"{P}session:{token_digest}"
        async with guard():
            user_id = await self._redis.hget(key, "user_id")
            await self._redis.delete(key)
            if user_id is not None:
                await self._redis.srem(f"{P}user-sessions:{user_id!s}", token_digest)

    async def create_api_token(
        self,
        user_id: int,
        token_digest: str,
        name: str = "",
        expires_at: float | None = None,
        *,
        actor: str | None = None,
    ) -> ApiToken:
        created_at = now_iso()
        async with guard():
            token_id = int(await self._redis.incr(f"{P}seq:api-token"))
            token = ApiToken(token_id, user_id, name, created_at, expires_at)
            await self._account_scripts["create_api_token"](
                keys=[
                    f"{P}api-token:{token_digest}",
                    f"{P}api-token-id:{token_id}",
                    f"{P}user-api-tokens:{user_id}",
                    f"{P}api-tokens",
                    f"{P}user:{user_id}",
                    *AUDIT_KEYS,
                ],
                args=[
                    token_id,
                    token_digest,
                    user_id,
                    name,
                    created_at,
                    "" if expires_at is None else repr(expires_at),
                    actor or "",
                    f"api_token:{token_id}",
                    _json(audit_data(token)),
                ],
            )
        return token

    async def get_api_user(self, token_digest: str) -> User | None:
        async with guard():
            fields = await self._redis.hgetall(f"{P}api-token:{token_digest}")
        if not fields or _api_token(fields).expired(time.time()):
            return None
        return await self._user_by_id(fields["user_id"])

    async def list_api_tokens(self, user_id: int | None = None) -> list[ApiToken]:
        index = f"{P}api-tokens" if user_id is None else f"{P}user-api-tokens:{user_id}"
        async with guard():
            ids = sorted(int(token_id) for token_id in await self._redis.smembers(index))
            async with self._redis.pipeline(transaction=False) as pipe:
                for token_id in ids:
                    pipe.get(f"{P}api-token-id:{token_id}")
                digests = await pipe.execute()
            async with self._redis.pipeline(transaction=False) as pipe:
                for token_digest in digests:
                    pipe.hgetall(f"{P}api-token:{token_digest}")
                rows = await pipe.execute()
        return [_api_token(fields) for fields in rows if fields]

    async def revoke_api_token(self, token_id: int, *, actor: str | None = None) -> ApiToken:
        async with guard():
            token_digest = await self._redis.get(f"{P}api-token-id:{token_id}")
            fields = await self._redis.hgetall(f"{P}api-token:{token_digest!s}")
            if not fields:
                raise NotFound(N_("There is no API token %(id)s."), id=token_id)
            token = _api_token(fields)
            revoked = await self._account_scripts["revoke_api_token"](
                keys=[
                    f"{P}api-token-id:{token_id}",
                    f"{P}api-token:{token_digest!s}",
                    f"{P}user-api-tokens:{token.user_id}",
                    f"{P}api-tokens",
                    f"{P}user:{token.user_id}",
                    *AUDIT_KEYS,
                ],
                args=[
                    token_id,
                    str(token_digest),
                    now_iso(),
                    actor or "",
                    f"api_token:{token_id}",
                    _json(audit_data(token)),
                ],
            )
        if not revoked:
            raise NotFound(N_("There is no API token %(id)s."), id=token_id)
        return token

    # Abuse limits --------------------------------------------------------------
    async def hit(self, key: str, window_seconds: int, limit: int, cost: int = 1) -> float | None:
        async with guard():
            left_ms = int(
                await self._account_scripts["hit"](
                    keys=[f"{P}rate:{key}"], args=[cost, window_seconds * 1000, limit]
                )
            )
        return None if left_ms < 0 else left_ms / 1000

    async def clear_hits(self, key: str) -> None:
        async with guard():
            await self._redis.delete(f"{P}rate:{key}")

    async def count_hits(self, key: str) -> int:
        async with guard():
            hits = await self._redis.get(f"{P}rate:{key}")
        return int(hits or 0)  # the key expires with its window


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def _api_token(fields: Mapping[Any, Any]) -> ApiToken:
    expires_at = fields.get("expires_at") or None
    return ApiToken(
        int(fields["id"]),
        int(fields["user_id"]),
        str(fields.get("name", "")),
        str(fields["created_at"]),
        None if expires_at is None else float(expires_at),
    )
