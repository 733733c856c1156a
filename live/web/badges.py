"""Badges for badge polls: organisers make, list and revoke them (API and pages), print
them on A4 sheets with their QR codes, and export them as CSV.

A badge is a one-time credential: its code (`live.tokens.new_badge_code`, about 49 bits
from a CSPRNG) opens the ballot of one poll and holds one ballot there, whatever device
uses it. The store keeps badges and their ballots (`Store.add_badges` and the rest).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import qrcode
import qrcode.constants
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from live import i18n, inputs
from live.contest.editions import format_local
from live.contest.exports import to_csv
from live.errors import N_, BadRequest, Conflict, LiveError, NotFound
from live.store import Store
from live.store.base import AlreadyDone
from live.store.models import Badge, Eligibility, Poll, PollStatus, Session
from live.tokens import new_badge_code, normalise_badge_code
from live.web.admin import FORM_LIMITS, render_admin
from live.web.auth import ORGANISERS, check_csrf, require_api_user, require_session
from live.web.services import services

MAX_BADGES = 10_000  # made by one request; more may be asked for again
PER_SHEET = 24  # 3 x 8 on an A4 sheet
PRINT_SHEETS = 25  # sheets on one print page (600 badges); further parts follow
_MAKE_ATTEMPTS = 3  # a batch is made again when one of its codes was taken already


def _poll_id(request: Request) -> int:
    poll_id: int = request.path_params["poll_id"]
    return poll_id


def badge_url(request: Request, poll: Poll, code: str) -> str:
    """The address on a badge's QR code: the poll's ballot, which takes the badge."""
    return services(request).absolute(request, f"/p/{poll.code}?badge={code}")


def check_count(value: object) -> int:
    """How many badges to make: a JSON number (a form's digits read by `parse_whole`)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BADGES:
        raise BadRequest(
            N_("Make from %(min)s to %(max)s badges at a time."),
            field="count",
            min=1,
            max=MAX_BADGES,
        )
    return value


async def make_badges(store: Store, poll: Poll, count: int, actor: str) -> list[str]:
    """`count` new badges for a badge poll that is not closed; their codes in order."""
    if poll.status is PollStatus.CLOSED:
        raise Conflict(N_("Badges cannot be added once the poll is closed."))
    if poll.eligibility is not Eligibility.BADGE:
        raise Conflict(N_('This poll is open to every device. Set "who may vote" to badges first.'))
    for attempt in range(1, _MAKE_ATTEMPTS + 1):
        fresh: set[str] = set()
        while len(fresh) < count:
            fresh.add(new_badge_code())
        codes = list(fresh)
        try:
            await store.add_badges(poll.id, codes, actor=actor)
        except Conflict:  # a code taken already (1 in 10^11 a code), or closed meanwhile
            if attempt == _MAKE_ATTEMPTS:
                raise
            continue
        return codes
    raise AssertionError("unreachable")


async def revoke(store: Store, poll_id: int, typed: str, actor: str) -> Badge:
    """Revoke a badge of the poll; a repeat changes nothing and answers the badge."""
    code = normalise_badge_code(typed)
    if code is None:
        raise NotFound(N_("This poll has no badge with the code %(code)s."), code=typed[:40])
    with contextlib.suppress(AlreadyDone):
        return await store.revoke_badge(poll_id, code, actor=actor)
    badge = await store.find_badge(code)
    assert badge is not None
    return badge


def _counts(badges: list[Badge]) -> dict[str, int]:
    return {
        "made": len(badges),
        "used": sum(1 for b in badges if b.used),
        "revoked": sum(1 for b in badges if b.revoked_at is not None),
    }


# --- the API ------------------------------------------------------------------------------


def _badge_view(request: Request, poll: Poll, badge: Badge) -> dict[str, Any]:
    return {
        "code": badge.code,
        "url": badge_url(request, poll, badge.code),
        "used": badge.used,
        "revoked": badge.revoked_at is not None,
        "created_at": badge.created_at,
        "revoked_at": badge.revoked_at,
    }


async def api_make(request: Request) -> Response:
    user = await require_api_user(request, ORGANISERS)
    body = inputs.json_document(await request.body() or b"{}")
    if not isinstance(body, dict):
        raise BadRequest(N_("The request body must be a JSON object."))
    count = check_count(body.get("count"))
    store = services(request).store
    poll = await store.get_poll(_poll_id(request))
    codes = await make_badges(store, poll, count, user.email)
    made = [{"code": code, "url": badge_url(request, poll, code)} for code in codes]
    return JSONResponse({"badges": made}, status_code=201)


async def api_list(request: Request) -> Response:
    await require_api_user(request, ORGANISERS)
    store = services(request).store
    poll = await store.get_poll(_poll_id(request))
    badges = await store.list_badges(poll.id)
    views = [_badge_view(request, poll, badge) for badge in badges]
    return JSONResponse({"badges": views, **_counts(badges)})


async def api_revoke(request: Request) -> Response:
    """Revoke one badge; its ballot leaves the count. A repeat is a harmless 200."""
    user = await require_api_user(request, ORGANISERS)
    store = services(request).store
    poll = await store.get_poll(_poll_id(request))
    badge = await revoke(store, poll.id, request.path_params["code"], user.email)
    return JSONResponse(_badge_view(request, poll, badge))


# --- the organisers' pages ----------------------------------------------------------------


async def badges_page(request: Request) -> Response:
    """The poll's badges; `?revoke=CODE` shows the second step of revoking one."""
    session = await require_session(request, ORGANISERS)
    return await _badges_page(request, session)


async def _badges_page(
    request: Request, session: Session, error: LiveError | None = None, count: str = ""
) -> Response:
    store = services(request).store
    poll = await store.get_poll(_poll_id(request))
    badges = await store.list_badges(poll.id)
    asked = normalise_badge_code(request.query_params.get("revoke", ""))
    confirming = next((b for b in badges if b.code == asked and b.revoked_at is None), None)
    if poll.status is PollStatus.CLOSED:
        confirming = None  # the result is locked: nothing can be revoked
    return render_admin(
        request,
        "admin/badges.html",
        session,
        status_code=error.status if error else 200,
        poll=poll,
        badges=badges,
        counts=_counts(badges),
        revoked_at={b.code: _local(b.revoked_at) for b in badges if b.revoked_at},
        can_make=poll.status is not PollStatus.CLOSED and poll.eligibility is Eligibility.BADGE,
        confirming=None if error else confirming,
        made=inputs.parse_whole(request.query_params.get("made", ""), max_digits=5),
        revoked=normalise_badge_code(request.query_params.get("revoked", "")),
        error=i18n.gettext(error.message, **error.params) if error else None,
        error_field=error.field if error else None,
        values={"count": count},
    )


def _local(iso: str) -> str:
    return format_local(datetime.fromisoformat(iso))


def _badges_path(request: Request, poll_id: int) -> str:
    return str(request.app.url_path_for("poll_badges", poll_id=poll_id))


async def make_from_form(request: Request) -> Response:
    session = await require_session(request, ORGANISERS)
    async with request.form(**FORM_LIMITS) as form:
        check_csrf(session, form)
        typed = str(form.get("count", ""))[:20]
    store = services(request).store
    try:
        count = check_count(inputs.parse_whole(typed, max_digits=5))
        poll = await store.get_poll(_poll_id(request))
        await make_badges(store, poll, count, session.user.email)
    except (BadRequest, Conflict) as error:
        return await _badges_page(request, session, error, typed)
    return RedirectResponse(f"{_badges_path(request, poll.id)}?made={count}", status_code=303)


async def revoke_from_form(request: Request) -> Response:
    """The second step of revoking a badge (the first is `?revoke=CODE` on the page)."""
    session = await require_session(request, ORGANISERS)
    async with request.form(**FORM_LIMITS) as form:
        check_csrf(session, form)
    store = services(request).store
    poll_id = _poll_id(request)
    try:
        badge = await revoke(store, poll_id, request.path_params["code"], session.user.email)
    except Conflict as error:
        return await _badges_page(request, session, error)
    path = _badges_path(request, poll_id)
    return RedirectResponse(f"{path}?revoked={badge.code}", status_code=303)


@dataclass(frozen=True)
class QrCode:
    """A QR code as one SVG path: `size` modules square, quiet zone included."""

    size: int
    path: str


@functools.lru_cache(maxsize=2048)
def qr_code(text: str) -> QrCode:
    """The QR code of `text`, drawn as one path of horizontal runs (a few KB, not the
    tens a path per module takes on a sheet of 24)."""
    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    runs = []
    for y, row in enumerate(code.get_matrix()):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    return QrCode(len(code.get_matrix()), "".join(runs))


def _sheets(cards: list[tuple[str, QrCode]]) -> list[list[tuple[str, QrCode]]]:
    return [cards[n : n + PER_SHEET] for n in range(0, len(cards), PER_SHEET)]


async def print_page(request: Request) -> Response:
    """A4 sheets of the badges not revoked (`?unused=1`: only those not used), 24 a
    sheet, `PRINT_SHEETS` sheets a page (`?part=N` for the next ones)."""
    session = await require_session(request, ORGANISERS)
    store = services(request).store
    poll = await store.get_poll(_poll_id(request))
    unused = request.query_params.get("unused") == "1"
    badges = [
        b
        for b in await store.list_badges(poll.id)
        if b.revoked_at is None and not (unused and b.used)
    ]
    per_part = PER_SHEET * PRINT_SHEETS
    parts = max(1, -(-len(badges) // per_part))
    part = inputs.parse_whole(request.query_params.get("part", ""), max_digits=5) or 1
    if part > parts:
        raise NotFound(N_("There is no part %(part)s of these sheets."), part=part)
    chosen = badges[(part - 1) * per_part : part * per_part]
    codes = [b.code for b in chosen]
    urls = [badge_url(request, poll, code) for code in codes]
    qrs = await asyncio.to_thread(lambda: [qr_code(url) for url in urls])
    ballot = urlsplit(services(request).absolute(request, f"/p/{poll.code}"))
    return render_admin(
        request,
        "admin/badges_print.html",
        session,
        poll=poll,
        sheets=_sheets(list(zip(codes, qrs, strict=True))),
        count=len(chosen),
        total=len(badges),
        unused=unused,
        part=part,
        parts=parts,
        first=(part - 1) * per_part + 1,
        address=ballot.netloc + ballot.path,
    )


async def csv_export(request: Request) -> Response:
    await require_session(request, ORGANISERS)
    store = services(request).store
    poll = await store.get_poll(_poll_id(request))
    badges = await store.list_badges(poll.id)
    text = to_csv(
        ["code", "url", "used", "revoked"],
        (
            [
                b.code,
                badge_url(request, poll, b.code),
                "yes" if b.used else "no",
                "yes" if b.revoked_at else "no",
            ]
            for b in badges
        ),
    )
    disposition = f'attachment; filename="badges-{poll.code}.csv"'
    return Response(
        text, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition}
    )


_BADGES = "/polls/{poll_id:id}/badges"

routes = [
    Route(f"/api{_BADGES}", api_make, methods=["POST"]),
    Route(f"/api{_BADGES}", api_list, methods=["GET"]),
    Route(f"/api{_BADGES}/{{code}}/revoke", api_revoke, methods=["POST"]),
    Route(f"/admin{_BADGES}", badges_page, methods=["GET"], name="poll_badges"),
    Route(f"/admin{_BADGES}/make", make_from_form, methods=["POST"], name="make_badges"),
    Route(f"/admin{_BADGES}/print", print_page, name="print_badges"),
    Route(f"/admin{_BADGES}.csv", csv_export, name="badges_csv"),
    Route(
        f"/admin{_BADGES}/{{code}}/revoke", revoke_from_form, methods=["POST"], name="revoke_badge"
    ),
]
