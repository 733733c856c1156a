"""Accounts, login sessions and API tokens in the SQLite store."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from live.errors import N_, Conflict, NotFound
from live.store._sqlite_engine import SQLiteEngine, Tx
from live.store._sqlite_records import insert_audit, to_json
from live.store.models import ApiToken, Role, Session, User, audit_data
from live.store.timestamps import now_iso


class SQLiteAccounts:
    """The account half of `SQLiteStore`; it shares the store's engine."""

    _engine: SQLiteEngine

    async def create_user(
        self,
        email: str,
        role: Role,
        password_hash: str | None,
        network_id: str | None = None,
        *,
        actor: str | None = None,
    ) -> User:
        def create(tx: Tx) -> None:
            stamp = now_iso()
            try:
                cursor = tx.conn.execute(
                    "INSERT INTO users (email, email_key, role, password_hash, created_at,"
                    " network_id) VALUES (?, ?, ?, ?, ?, ?)",
                    (email, email.casefold(), role.value, password_hash, stamp, network_id),
                )
            except sqlite3.IntegrityError:
                raise Conflict(
                    N_("An account for %(email)s exists already."), email=email
                ) from None
            after = {"email": email, "role": role.value, "network_id": network_id}
            subject = f"user:{cursor.lastrowid}"
            insert_audit(
                tx.conn, stamp, actor or email, "account.create", subject, None, to_json(after)
            )

        await self._engine.write(create)
        return await self.get_user(email)

    async def list_users(self) -> list[User]:
        def list_all(conn: sqlite3.Connection) -> list[User]:
            return [
                _user(row) for row in conn.execute(f"{_USER_COLUMNS} FROM users u ORDER BY u.id")
            ]

        return await self._engine.read(list_all)

    async def set_password(
        self, user_id: int, password_hash: str, *, actor: str | None = None
    ) -> None:
        def update(tx: Tx) -> None:
            email = _email_of(tx.conn, user_id)
            if email is None:
                return
            tx.conn.execute(
                "UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id)
            )
            sessions = tx.conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
            tokens = tx.conn.execute("DELETE FROM api_tokens WHERE user_id = ?", (user_id,))
            ended = {"sessions_ended": sessions.rowcount, "api_tokens_revoked": tokens.rowcount}
            insert_audit(
                tx.conn,
                now_iso(),
                actor or email,
                "account.password",
                f"user:{user_id}",
                None,
                to_json(ended),
            )

        await self._engine.write(update)

    async def get_user(self, email: str) -> User:
        def get(conn: sqlite3.Connection) -> User:
            # Case-folded as Redis does: SQLite's NOCASE folds only ASCII letters.
            row = conn.execute(
                f"{_USER_COLUMNS} FROM users u WHERE u.email_key = ?", (email.casefold(),)
            ).fetchone()
            if row is None:
                raise NotFound(N_("There is no account for %(email)s."), email=email)
            return _user(row)

        return await self._engine.read(get)

    async def create_session(
        self, user_id: int, token_digest: str, csrf: str, expires_at: float
    ) -> None:
        def create(tx: Tx) -> None:
            now = time.time()
            tx.conn.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
            tx.conn.execute(
                "INSERT INTO sessions (token_digest, user_id, csrf, expires_at, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (token_digest, user_id, csrf, expires_at, now),
            )

        await self._engine.write(create)

    async def get_session(self, token_digest: str) -> Session | None:
        def get(conn: sqlite3.Connection) -> Session | None:
            row = conn.execute(
                f"{_USER_COLUMNS}, s.csrf, s.expires_at, s.created_at FROM sessions s"
                " JOIN users u ON u.id = s.user_id WHERE s.token_digest = ?",
                (token_digest,),
            ).fetchone()
            if row is None or row[7] < time.time():
                return None
            return Session(_user(row[:6]), row[6], row[7], row[8])

        return await self._engine.read(get)

    async def touch_session(self, token_digest: str, expires_at: float) -> None:
        def touch(tx: Tx) -> None:
            tx.conn.execute(
                "UPDATE sessions SET expires_at = ? WHERE token_digest = ? AND expires_at >= ?",
                (expires_at, token_digest, time.time()),
            )

        await self._engine.write(touch)

    async def delete_session(self, token_digest: str) -> None:
        def delete(tx: Tx) -> None:
            tx.conn.execute("DELETE FROM sessions WHERE token_digest = ?", (token_digest,))

        await self._engine.write(delete)

    async def create_api_token(
        self,
        user_id: int,
        token_digest: str,
        name: str = "",
        expires_at: float | None = None,
        *,
        actor: str | None = None,
    ) -> ApiToken:
        def create(tx: Tx) -> ApiToken:
            created_at = now_iso()
            cursor = tx.conn.execute(
                "INSERT INTO api_tokens (token_digest, user_id, name, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (token_digest, user_id, name, created_at, expires_at),
            )
            token = ApiToken(int(cursor.lastrowid or 0), user_id, name, created_at, expires_at)
            insert_audit(
                tx.conn,
                created_at,
                actor or _email_of(tx.conn, user_id) or "",
                "api_token.create",
                f"api_token:{token.id}",
                None,
                to_json(audit_data(token)),
            )
            return token

        return await self._engine.write(create)

    async def get_api_user(self, token_digest: str) -> User | None:
        def get(conn: sqlite3.Connection) -> User | None:
            row = conn.execute(
                f"{_USER_COLUMNS} FROM users u JOIN api_tokens t ON t.user_id = u.id"
                " WHERE t.token_digest = ? AND (t.expires_at IS NULL OR t.expires_at > ?)",
                (token_digest, time.time()),
            ).fetchone()
            return None if row is None else _user(row)

        return await self._engine.read(get)

    async def list_api_tokens(self, user_id: int | None = None) -> list[ApiToken]:
        def list_them(conn: sqlite3.Connection) -> list[ApiToken]:
            rows = conn.execute(
                f"{_BEARER_COLUMNS} WHERE ? IS NULL OR user_id = ? ORDER BY id", (user_id, user_id)
            )
            return [_api_token(row) for row in rows]

        return await self._engine.read(list_them)

    async def revoke_api_token(self, token_id: int, *, actor: str | None = None) -> ApiToken:
        def revoke(tx: Tx) -> ApiToken:
            row = tx.conn.execute(f"{_BEARER_COLUMNS} WHERE id = ?", (token_id,)).fetchone()
            if row is None:
                raise NotFound(N_("There is no API token %(id)s."), id=token_id)
            token = _api_token(row)
            tx.conn.execute("DELETE FROM api_tokens WHERE id = ?", (token_id,))
            insert_audit(
                tx.conn,
                now_iso(),
                actor or _email_of(tx.conn, token.user_id) or "",
                "api_token.revoke",
                f"api_token:{token_id}",
                to_json(audit_data(token)),
                None,
            )
            return token

        return await self._engine.write(revoke)

    # Abuse limits --------------------------------------------------------------
    async def hit(self, key: str, window_seconds: int, limit: int, cost: int = 1) -> float | None:
        if cost == 0:  # only asking: a read, no write

            def ask(conn: sqlite3.Connection) -> float | None:
                row = conn.execute(
                    "SELECT hits, window_ends FROM rate_limits WHERE key = ?", (key,)
                ).fetchone()
                return None if row is None else _over(row[0], row[1], limit, time.time())

            return await self._engine.read(ask)

        def count(tx: Tx) -> float | None:
            now = time.time()
            row = tx.conn.execute(
                "SELECT hits, window_ends FROM rate_limits WHERE key = ?", (key,)
            ).fetchone()
            if row is None or row[1] <= now:
                hits, ends = cost, now + window_seconds
                # A new window: a chance to drop a few finished ones, so the table stays small.
                tx.conn.execute(
                    "DELETE FROM rate_limits WHERE key IN (SELECT key FROM rate_limits"
                    " WHERE window_ends <= ? LIMIT 64)",
                    (now,),
                )
            else:
                hits, ends = row[0] + cost, row[1]
            tx.conn.execute(
                "INSERT INTO rate_limits (key, hits, window_ends) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET hits = excluded.hits,"
                " window_ends = excluded.window_ends",
                (key, hits, ends),
            )
            return _over(hits, ends, limit, now)

        return await self._engine.write(count)

    async def clear_hits(self, key: str) -> None:
        def clear(tx: Tx) -> None:
            tx.conn.execute("DELETE FROM rate_limits WHERE key = ?", (key,))

        await self._engine.write(clear)

    async def count_hits(self, key: str) -> int:
        def count(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT hits, window_ends FROM rate_limits WHERE key = ?", (key,)
            ).fetchone()
            return 0 if row is None or row[1] <= time.time() else int(row[0])

        return await self._engine.read(count)


_USER_COLUMNS = "SELECT u.id, u.email, u.role, u.password_hash, u.created_at, u.network_id"
_BEARER_COLUMNS = "SELECT id, user_id, name, created_at, expires_at FROM api_tokens"


def _email_of(conn: sqlite3.Connection, user_id: int) -> str | None:
    row = conn.execute("SELECT email FROM users WHERE id = ?", (user_id,)).fetchone()
    return None if row is None else str(row[0])


def _over(hits: int, window_ends: float, limit: int, now: float) -> float | None:
    """The seconds to wait when a window holds more than `limit` hits, else None."""
    return max(window_ends - now, 0.001) if hits > limit and window_ends > now else None


def _api_token(row: Sequence[object]) -> ApiToken:
    expires_at = row[4]
    return ApiToken(
        int(str(row[0])),
        int(str(row[1])),
        str(row[2]),
        str(row[3]),
        None if expires_at is None else float(str(expires_at)),
    )


def _user(row: Sequence[object]) -> User:
    return User(
        int(str(row[0])),
        str(row[1]),
        Role(str(row[2])),
        None if row[3] is None else str(row[3]),
        str(row[4]),
        None if row[5] is None else str(row[5]),
    )
