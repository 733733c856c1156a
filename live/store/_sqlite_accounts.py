"""Accounts, login sessions and API tokens in the SQLite store."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from live.errors import N_, Conflict, NotFound
from live.store._sqlite_engine import SQLiteEngine, Tx
from live.store.models import Role, Session, User
from live.store.timestamps import now_iso


class SQLiteAccounts:
    """The account half of `SQLiteStore`; it shares the store's engine."""

    _engine: SQLiteEngine

    async def create_user(
        self, email: str, role: Role, password_hash: str | None, network_id: str | None = None
    ) -> User:
        def create(tx: Tx) -> None:
            try:
                tx.conn.execute(
                    "INSERT INTO users (email, role, password_hash, created_at, network_id)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (email, role.value, password_hash, now_iso(), network_id),
                )
            except sqlite3.IntegrityError:
                raise Conflict(
                    N_("An account for %(email)s exists already."), email=email
                ) from None

        await self._engine.write(create)
        return await self.get_user(email)

    async def list_users(self) -> list[User]:
        def list_all(conn: sqlite3.Connection) -> list[User]:
            return [
                _user(row) for row in conn.execute(f"{_USER_COLUMNS} FROM users u ORDER BY u.id")
            ]

        return await self._engine.read(list_all)

    async def set_password(self, user_id: int, password_hash: str) -> None:
        def update(tx: Tx) -> None:
            tx.conn.execute(
                "UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id)
            )

        await self._engine.write(update)

    async def get_user(self, email: str) -> User:
        def get(conn: sqlite3.Connection) -> User:
            row = conn.execute(
                f"{_USER_COLUMNS} FROM users u WHERE u.email = ?", (email,)
            ).fetchone()
            if row is None:
                raise NotFound(N_("There is no account for %(email)s."), email=email)
            return _user(row)

        return await self._engine.read(get)

    async def create_session(
        self, user_id: int, token_digest: str, csrf: str, expires_at: float
    ) -> None:
        def create(tx: Tx) -> None:
            tx.conn.execute("DELETE FROM sessions WHERE expires_at < ?", (time.time(),))
            tx.conn.execute(
                "INSERT INTO sessions (token_digest, user_id, csrf, expires_at)"
                " VALUES (?, ?, ?, ?)",
                (token_digest, user_id, csrf, expires_at),
            )

        await self._engine.write(create)

    async def get_session(self, token_digest: str) -> Session | None:
        def get(conn: sqlite3.Connection) -> Session | None:
            row = conn.execute(
                f"{_USER_COLUMNS}, s.csrf, s.expires_at FROM sessions s"
                " JOIN users u ON u.id = s.user_id WHERE s.token_digest = ?",
                (token_digest,),
            ).fetchone()
            if row is None or row[7] < time.time():
                return None
            return Session(_user(row[:6]), row[6], row[7])

        return await self._engine.read(get)

    async def delete_session(self, token_digest: str) -> None:
        def delete(tx: Tx) -> None:
            tx.conn.execute("DELETE FROM sessions WHERE token_digest = ?", (token_digest,))

        await self._engine.write(delete)

    async def create_api_token(self, user_id: int, token_digest: str) -> None:
        def create(tx: Tx) -> None:
            tx.conn.execute(
                "INSERT INTO api_tokens (token_digest, user_id, created_at) VALUES (?, ?, ?)",
                (token_digest, user_id, now_iso()),
            )

        await self._engine.write(create)

    async def get_api_user(self, token_digest: str) -> User | None:
        def get(conn: sqlite3.Connection) -> User | None:
            row = conn.execute(
                f"{_USER_COLUMNS} FROM users u JOIN api_tokens t ON t.user_id = u.id"
                " WHERE t.token_digest = ?",
                (token_digest,),
            ).fetchone()
            return None if row is None else _user(row)

        return await self._engine.read(get)


_USER_COLUMNS = "SELECT u.id, u.email, u.role, u.password_hash, u.created_at, u.network_id"


def _user(row: Sequence[object]) -> User:
    return User(
        int(str(row[0])),
        str(row[1]),
        Role(str(row[2])),
        None if row[3] is None else str(row[3]),
        str(row[4]),
        None if row[5] is None else str(row[5]),
    )
