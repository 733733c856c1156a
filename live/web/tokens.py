"""API tokens on an organiser's page: every account's tokens, a new one, revoking any.

A new token is shown once, on the page that made it, and never again: the store keeps
only its digest. Tokens have a name (what they are for) and may end after some days;
`live api-token EMAIL --list` and `--revoke ID` do the same from the command line.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import i18n
from live.contest.editions import format_local
from live.errors import N_, BadRequest
from live.store.models import ApiToken
from live.tokens import digest, new_secret
from live.web.admin import FORM_LIMITS, render_admin
from live.web.auth import ORGANISERS, check_csrf, require_session
from live.web.services import services

NAME_MAX = 100  # characters
EXPIRES_DAYS_MAX = 3650


def check_token_request(name: object, expires_days: object) -> tuple[str, float | None]:
    """A new token's name and end (epoch seconds, None: until revoked), from a form or
    the command line; BadRequest naming the field otherwise."""
    text = name.strip() if isinstance(name, str) else ""
    if len(text) > NAME_MAX:
        raise BadRequest(N_("Write at most %(limit)s characters."), "name", limit=NAME_MAX)
    days = expires_days.strip() if isinstance(expires_days, str) else ""
    if not days:
        return text, None
    if not (days.isascii() and days.isdecimal() and len(days) <= 4) or not (
        1 <= int(days) <= EXPIRES_DAYS_MAX
    ):
        raise BadRequest(
            N_(
                "Give the number of days as a whole number from 1 to %(limit)s, or leave it "
                "empty for a token that lasts until it is revoked."
            ),
            "expires_days",
            limit=EXPIRES_DAYS_MAX,
        )
    return text, time.time() + int(days) * 24 * 3600


def describe_token(token: ApiToken) -> str:
    """One line for the command line: id, made, ends, name."""
    ends = "never" if token.expires_at is None else _local(token.expires_at)
    made = format_local(datetime.fromisoformat(token.created_at))
    expired = " (expired)" if token.expired(time.time()) else ""
    return f"{token.id}\tmade {made}\tends {ends}{expired}\t{token.name or '-'}"


def _local(epoch: float) -> str:
    return format_local(datetime.fromtimestamp(epoch, UTC))


async def tokens_page(request: Request) -> Response:
    """Every account's API tokens; a POST makes a new one for the organiser and shows it."""
    session = await require_session(request, ORGANISERS)
    store = services(request).store
    values = {"name": "", "expires_days": ""}
    new_token, error, field, status = None, None, None, 200
    if request.method == "POST":
        async with request.form(**FORM_LIMITS) as form:
            check_csrf(session, form)
            values = {key: str(form.get(key, "")) for key in values}
        try:
            name, expires_at = check_token_request(values["name"], values["expires_days"])
        except BadRequest as problem:
            error, field = i18n.gettext(problem.message, **problem.params), problem.field
            status = problem.status
        else:
            new_token = new_secret()
            await store.create_api_token(
                session.user.id, digest(new_token), name, expires_at, actor=session.user.email
            )
            values = {"name": "", "expires_days": ""}
    owners = {user.id: user.email for user in await store.list_users()}
    now = time.time()
    rows = [
        {
            "token": token,
            "owner": owners.get(token.user_id, "?"),
            "expired": token.expired(now),
            "made": format_local(datetime.fromisoformat(token.created_at)),
            "ends": None if token.expires_at is None else _local(token.expires_at),
        }
        for token in await store.list_api_tokens()
    ]
    return render_admin(
        request,
        "admin/tokens.html",
        session,
        status_code=status,
        rows=rows,
        values=values,
        new_token=new_token,
        error=error,
        error_field=field,
        name_max=NAME_MAX,
        revoked=_revoked(request),
    )


def _revoked(request: Request) -> str | None:
    shown = request.query_params.get("revoked", "")
    return shown if shown.isascii() and shown.isdecimal() and len(shown) < 12 else None


async def revoke_token(request: Request) -> Response:
    session = await require_session(request, ORGANISERS)
    async with request.form(**FORM_LIMITS) as form:
        check_csrf(session, form)
    token_id: int = request.path_params["token_id"]
    await services(request).store.revoke_api_token(token_id, actor=session.user.email)
    url = request.app.url_path_for("api_tokens")
    return RedirectResponse(f"{url}?revoked={token_id}", status_code=303)


routes = [
    Route("/admin/tokens", tokens_page, methods=["GET", "POST"], name="api_tokens"),
    Route(
        "/admin/tokens/{token_id:id}/revoke",
        revoke_token,
        methods=["POST"],
        name="revoke_api_token",
    ),
]
