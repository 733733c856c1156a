"""Who is asking: organiser and host logins, CSRF checks, and API bearer tokens.

Passwords are hashed with argon2 (in a thread: hashing is deliberately slow and takes
64 MiB, so a process runs at most `ARGON2_SLOTS` at once and turns callers away beyond a
short queue). A login creates a server-side session; the cookie holds a random secret
whose digest the store keeps, so sessions can be ended and are shared by every worker.
A session ends `SESSION_IDLE_SECONDS` after its last use, and never later than
`SESSION_MAX_SECONDS` after the login. Each session has its own CSRF secret that every
admin form carries back. Logins are limited per account and per address (`limits`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.datastructures import FormData
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp

from live.errors import N_, Forbidden, NotFound, Unauthorized, Unavailable
from live.store import Store
from live.store.models import Role, Session, User
from live.tokens import digest, new_secret
from live.web import limits
from live.web.services import services

T = TypeVar("T")

SESSION_COOKIE = "live_session"
SESSION_IDLE_SECONDS = 12 * 3600  # a session unused this long has ended
SESSION_MAX_SECONDS = 7 * 24 * 3600  # and none lives longer, however busy
SESSION_TOUCH_SECONDS = 300  # use moves the end on at most this often (one write)
MIN_PASSWORD_LENGTH = 10
ARGON2_SLOTS = 2  # argon2 runs at once per process: at most 2 x 64 MiB
ARGON2_QUEUE = 30  # callers waiting beyond these get 503 at once
BUSY = N_("Many people are logging in at this moment. Try again in a few seconds.")

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")

EVERYONE: frozenset[Role] = frozenset(Role)
ORGANISERS: frozenset[Role] = frozenset({Role.ORGANISER})
STAGE_CREW: frozenset[Role] = frozenset({Role.ORGANISER, Role.HOST})  # run the finale


class _Argon2Pool:
    """Runs argon2 on `ARGON2_SLOTS` threads of its own, so at most that many run at once
    in this process, whatever the callers do (one who goes away leaves its work to finish
    in its slot), and refuses a caller at once when `ARGON2_QUEUE` are waiting already."""

    def __init__(self) -> None:
        self._threads = ThreadPoolExecutor(ARGON2_SLOTS, thread_name_prefix="live-argon2")
        self._lock = threading.Lock()
        self._pending = 0  # submitted and not yet finished, on any event loop

    async def run(self, work: Callable[[], T]) -> T:
        with self._lock:
            if self._pending >= ARGON2_SLOTS + ARGON2_QUEUE:
                raise Unavailable(BUSY)
            self._pending += 1
        job = self._threads.submit(work)
        job.add_done_callback(self._finished)
        return await asyncio.wrap_future(job)

    def _finished(self, _: Future[Any]) -> None:
        with self._lock:
            self._pending -= 1


_argon2 = _Argon2Pool()


async def hash_password(password: str) -> str:
    return await _argon2.run(lambda: _hasher.hash(password))


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await _argon2.run(verify)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


async def log_in(store: Store, email: str, password: str, address: str) -> str:
    """A new session's cookie value; Unauthorized for a wrong e-mail or password, and
    TooManyRequests past the limits for the account or the caller's `address`.

    Every attempt counts against the account (a success forgets them), so that even
    many attempts at once cannot get past the limit to the slow password check."""
    account = limits.account_subject(email)
    await limits.check(store, limits.LOGIN_PER_ADDRESS, address)
    await limits.check(store, limits.LOGIN_PER_ACCOUNT, account)
    try:
        user: User | None = await store.get_user(email.strip())
    except NotFound:
        user = None
    if not await verify_password(user.password_hash if user else None, password) or not user:
        raise Unauthorized(N_("The e-mail address or the password is wrong."))
    await limits.forget(store, limits.LOGIN_PER_ACCOUNT, account)
    return await start_session(store, user.id)


async def start_session(store: Store, user_id: int) -> str:
    """A new session for the account; the cookie value that opens it."""
    secret = new_secret()
    expires_at = time.time() + SESSION_IDLE_SECONDS
    await store.create_session(user_id, digest(secret), new_secret(), expires_at)
    return secret


def set_session_cookie(request: Request, response: Response, secret: str) -> None:
    """The session cookie lives as long as a session may; the store ends it sooner
    when it goes unused."""
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=SESSION_MAX_SECONDS,
        httponly=True,
        samesite="lax",
        secure=services(request).is_https(request),
        path="/",
    )


async def current_session(connection: HTTPConnection) -> Session | None:
    """The caller's login session, looked up once per request; use moves its end on."""
    if "session" in connection.scope.get("state", {}):
        cached: Session | None = connection.state.session
        return cached
    cookie = connection.cookies.get(SESSION_COOKIE)
    store = services(connection).store
    session = await store.get_session(digest(cookie)) if cookie else None
    if session is not None and cookie:
        now = time.time()
        target = min(now + SESSION_IDLE_SECONDS, session.created_at + SESSION_MAX_SECONDS)
        if target - session.expires_at >= SESSION_TOUCH_SECONDS:
            await store.touch_session(digest(cookie), target)
            session = dataclasses.replace(session, expires_at=target)
    connection.state.session = session
    return session


def login_url(request: Request) -> str:
    """The login page, coming back afterwards to where the caller was (`return_path`).
    For a form that was sent, `expired=1` tells the page that it was not carried out."""
    sent = request.method not in ("GET", "HEAD")
    return f"/admin/login?next={quote(return_path(request), safe='/')}" + (
        "&expired=1" if sent else ""
    )


def return_path(request: Request) -> str:
    """Where to come back to after logging in: this page; for a form that was sent, the
    page it was on (its same-site Referer), else the nearest page above the form's
    address that can be opened. The form itself is never sent again."""
    if request.method in ("GET", "HEAD"):
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.headers.get("host") and can_open(request.app, referer.path):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return openable_path(request.app, request.url.path)


def openable_path(app: ASGIApp, path: str) -> str:
    """`path` when a browser can open it (GET), else the nearest such path above it;
    `/admin` when there is none (or `path` is not on this site)."""
    if not path.startswith("/") or path.startswith("//"):
        return "/admin"
    while path not in ("", "/"):
        if can_open(app, path):
            return path
        path = path.rsplit("/", 1)[0]
    return "/admin"


def can_open(app: ASGIApp, path: str) -> bool:
    """Whether a GET of `path` reaches a page (not a 404 or a 405)."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    for route in getattr(app, "routes", ()):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return True
    return False


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
