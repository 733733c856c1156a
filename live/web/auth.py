"""Who is asking: organiser and host logins, CSRF checks, and API bearer tokens.

Passwords are hashed with argon2 (in a thread: hashing is deliberately slow). A login
creates a server-side session; the cookie holds a random secret whose digest the store
keeps, so sessions can be ended and are shared by every worker. Each session has its
own CSRF secret that every admin form carries back.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Collection

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.datastructures import FormData
from starlette.requests import HTTPConnection, Request

from live.errors import N_, Forbidden, NotFound, Unauthorized
from live.store import Store
from live.store.models import Role, Session, User
from live.tokens import digest, new_secret
from live.web.services import services

SESSION_COOKIE = "live_session"
SESSION_SECONDS = 12 * 3600
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")

EVERYONE: frozenset[Role] = frozenset(Role)
ORGANISERS: frozenset[Role] = frozenset({Role.ORGANISER})
STAGE_CREW: frozenset[Role] = frozenset({Role.ORGANISER, Role.HOST})  # run the finale


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


async def log_in(store: Store, email: str, password: str) -> str:
    """A new session's cookie value, or Unauthorized for a wrong e-mail or password."""
    try:
        user: User | None = await store.get_user(email.strip())
    except NotFound:
        user = None
    if not await verify_password(user.password_hash if user else None, password) or not user:
        raise Unauthorized(N_("The e-mail address or the password is wrong."))
    secret = new_secret()
    await store.create_session(user.id, digest(secret), new_secret(), time.time() + SESSION_SECONDS)
    return secret


async def current_session(connection: HTTPConnection) -> Session | None:
    """The caller's login session, looked up once per request."""
    if "session" in connection.scope.get("state", {}):
        cached: Session | None = connection.state.session
        return cached
    cookie = connection.cookies.get(SESSION_COOKIE)
    store = services(connection).store
    session = await store.get_session(digest(cookie)) if cookie else None
    connection.state.session = session
    return session


async def require_session(request: Request, roles: Collection[Role] = EVERYONE) -> Session:
    session = await current_session(request)
    if session is None:
        raise Unauthorized(N_("Log in to continue."))
    if session.user.role not in roles:
        raise Forbidden(N_("Your account may not do this."))
    return session


FORM_EXPIRED = N_("The form has expired. Reload the page and try again.")


def check_csrf(session: Session, form: FormData) -> None:
    sent = form.get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, session.csrf):
        raise Forbidden(FORM_EXPIRED)


async def require_api_user(request: Request, roles: Collection[Role] = EVERYONE) -> User:
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthorized(N_("Send an API token as: Authorization: Bearer TOKEN."))
    store = services(request).store
    user = await store.get_api_user(digest(credential.strip()))
    if user is None:
        raise Unauthorized(N_("The API token is not valid."))
    if user.role not in roles:
        raise Forbidden(N_("Your account may not do this."))
    return user
