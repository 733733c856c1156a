"""What voters meet: the join page, the ballot, the vote and its confirmation.

Each voter sees the finalists in an order of their own (`live.finale.order`). In an
open poll a voter is a device token, and new tokens are counted per address
(`live.finale.stuffing`); in a badge poll a voter is a badge, scanned (`?badge=`) or
typed, whatever the device. Every acknowledged vote shows the voter's receipt code.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from live import i18n
from live.errors import N_, BadRequest, Conflict, Forbidden, LiveError, TooManyRequests
from live.finale import stuffing, views
from live.finale.order import voter_order
from live.finale.polls import parse_choices
from live.store.codes import normalise_code
from live.store.models import Ballot, Eligibility, Poll, PollStatus
from live.tokens import TOKEN_KIND_BADGE, VoterToken, normalise_badge_code, receipt_code
from live.web import limits
from live.web.contest_finalists import finalists_path
from live.web.errors import wants_json
from live.web.services import services

VOTER_COOKIE = "live_voter"
VOTER_COOKIE_SECONDS = 30 * 24 * 3600
_FORM_LIMITS = {"max_fields": 40, "max_files": 0, "max_part_size": 4096}
# Wrong badge codes per address. A guess succeeds with odds of badges / 31**10 (2,000
# badges: 1 in 400 billion), so the limit can spare a hall behind one NAT address,
# where people mistype; it stops a script that tries codes in bulk.
BADGE_GUESSES = limits.Limit(
    "badge-address",
    200,
    10 * 60,
    N_("Too many wrong badge codes from your network. Wait %(minutes)s min and try again."),
)
BADGE_ONLY = N_(
    "Only badge holders can vote in this poll. Type the code on your badge on the ballot page."
)


async def _poll_for(request: Request) -> Poll:
    return await services(request).polls.find(normalise_code(request.path_params["code"]))


def _ballot_path(poll: Poll) -> str:
    return f"/p/{poll.code}"


async def _podium(request: Request, poll: Poll) -> list[dict[str, Any]]:
    """The places revealed so far, as the phones' stream has them (for a reload)."""
    if poll.status is not PollStatus.CLOSED or not poll.revealed:
        return []
    podium: list[dict[str, Any]] = views.phone_view(
        await services(request).store.snapshot(poll.id)
    )["podium"]
    return podium


def _set_voter_cookie(request: Request, response: Response, poll: Poll, value: str) -> None:
    response.set_cookie(
        VOTER_COOKIE, value, max_age=VOTER_COOKIE_SECONDS, path=_ballot_path(poll),
        httponly=True, samesite="lax", secure=services(request).is_https(request),
    )  # fmt: skip


def _choice_names(poll: Poll, ballot: Ballot | None) -> list[str]:
    if ballot is None:
        return []
    return [f.name for c in ballot.choices if (f := poll.finalist(c)) is not None]


async def home(request: Request) -> Response:
    return services(request).templates.render(request, "home.html", {"error": None, "code": ""})


async def join(request: Request) -> Response:
    """The code typed on the home page: straight to that poll's ballot, or a clear error."""
    typed = request.query_params.get("code", "")
    code = normalise_code(typed)
    try:
        if not code:
            raise BadRequest(N_("Type the code shown on the big screen."), field="code")
        poll = await services(request).polls.find(code)
    except LiveError as error:
        return services(request).templates.render(
            request, "home.html",
            {"error": i18n.gettext(error.message, **error.params), "code": typed},
            status_code=error.status,
        )  # fmt: skip
    return RedirectResponse(_ballot_path(poll), status_code=303)


def _read_token(request: Request, poll: Poll) -> VoterToken | None:
    """The voter's token for this poll, or None: none, a bad one, or (in a badge poll)
    one that is not a badge's."""
    cookie = request.cookies.get(VOTER_COOKIE)
    if not cookie:
        return None  # a first visit: no error to build and throw away
    try:
        token = services(request).voter_tokens.read(cookie, poll.id)
    except LiveError:
        return None
    if poll.eligibility is Eligibility.BADGE and token.kind != TOKEN_KIND_BADGE:
        return None
    return token


def _receipt(request: Request, poll: Poll, token: VoterToken) -> str:
    return receipt_code(services(request).settings.secret_key.reveal(), poll.id, token.voter_id)


def _render_ballot(
    request: Request,
    poll: Poll,
    token: VoterToken | None,
    ballot: Ballot | None,
    podium: list[dict[str, Any]] | None = None,
    error: LiveError | None = None,
    badge_typed: str = "",
    finalists_url: str | None = None,
) -> Response:
    """The ballot page: the finalists in the voter's own order (the poll's order for a
    visitor without a token, who is asked for a badge code in a badge poll), and a link
    to the edition's finalist page when the poll is its published finale poll."""
    order = voter_order(poll.finalist_ids, token.voter_id) if token else poll.finalist_ids
    context = {
        "poll": poll,
        "finalists": [f for i in order if (f := poll.finalist(i)) is not None],
        "needs_badge": token is None,
        "ballot": ballot,
        "chosen": ballot.choices if ballot else (),
        "recorded": _choice_names(poll, ballot),
        "receipt": (ballot.receipt or _receipt(request, poll, token)) if ballot and token else "",
        "bulletin_url": _bulletin_path(poll),
        "error": i18n.gettext(error.message, **error.params) if error else None,
        "error_field": error.field if error else None,
        "badge_typed": badge_typed,
        "podium": podium or [],
        "finalists_url": finalists_url,
    }
    templates = services(request).templates
    if error is not None:
        response = templates.render(request, "ballot.html", context, status_code=error.status)
        if isinstance(error, TooManyRequests):
            response.headers["Retry-After"] = str(error.retry_after)
        return response
    if ballot is None:  # the same page for every voter with this order who has not voted
        key = (poll.id, poll.version, order, token is None, finalists_url)
        return templates.render_shared(request, key, "ballot.html", context)
    return templates.render(request, "ballot.html", context)


def _bulletin_path(poll: Poll) -> str:
    return f"{_ballot_path(poll)}/bulletin"


async def ballot_page(request: Request) -> Response:
    poll = await _poll_for(request)
    if request.path_params["code"] != poll.code:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(_ballot_path(poll) + query, status_code=301)
    typed_badge = request.query_params.get("badge")
    if typed_badge is not None and poll.eligibility is Eligibility.BADGE:
        return await _enter_badge(request, poll, typed_badge)
    token = _read_token(request, poll)
    fresh_cookie = None
    ballot = None
    if token is None and poll.eligibility is Eligibility.OPEN:
        store, settings = services(request).store, services(request).settings
        flagged = await stuffing.admit_new_token(
            store, settings, poll.id, limits.address_of(request)
        )
        token, fresh_cookie = services(request).voter_tokens.issue(poll.id, flagged=flagged)
    elif token is not None:
        ballot = await services(request).store.get_ballot(poll.id, token.voter_id)
    finalists_url = await finalists_path(request, poll)  # cached: no store read per page
    response = _render_ballot(
        request, poll, token, ballot, await _podium(request, poll), finalists_url=finalists_url
    )
    if fresh_cookie is not None:
        _set_voter_cookie(request, response, poll, fresh_cookie)
    return response


async def enter_badge(request: Request) -> Response:
    """A badge code typed on the ballot page (the QR code's link does the same)."""
    poll = await _poll_for(request)
    form = await request.form(**_FORM_LIMITS)
    typed = form.get("badge")
    return await _enter_badge(request, poll, typed if isinstance(typed, str) else "")


async def _enter_badge(request: Request, poll: Poll, typed: str) -> Response:
    """Check a badge code for this poll; valid: its token in the cookie and on to the
    ballot, else the ballot page again with the reason (or the JSON error)."""
    if poll.eligibility is not Eligibility.BADGE:
        return RedirectResponse(_ballot_path(poll), status_code=303)
    try:
        code = await _check_badge(request, poll, typed)
    except LiveError as error:
        if wants_json(request):
            raise
        return _render_ballot(request, poll, None, None, error=error, badge_typed=typed[:40])
    _, cookie = services(request).voter_tokens.issue_badge(poll.id, code)
    response = RedirectResponse(_ballot_path(poll), status_code=303)
    _set_voter_cookie(request, response, poll, cookie)
    return response


async def _check_badge(request: Request, poll: Poll, typed: str) -> str:
    """The badge code in `typed`, checked to be a live badge of `poll`. Wrong codes count
    against the address's guesses; over the limit every code is refused for a while."""
    store = services(request).store
    address = limits.address_of(request)
    await limits.check(store, BADGE_GUESSES, address, cost=0)
    code = normalise_badge_code(typed)
    if code is None:
        raise BadRequest(
            N_("A badge code has ten letters and digits, like ABCDE-FGHJK. Check what you typed."),
            field="badge",
        )
    badge = await store.find_badge(code)
    if badge is None or badge.poll_id != poll.id:
        await limits.check(store, BADGE_GUESSES, address)
        if badge is None:
            raise Forbidden(
                N_("No badge has the code %(code)s. Check what you typed, or ask the organisers."),
                field="badge",
                code=code,
            )
        raise Forbidden(N_("This badge belongs to another poll."), field="badge")
    if badge.revoked_at is not None:
        raise Forbidden(
            N_("This badge has been revoked. Ask the organisers for a new one."), field="badge"
        )
    return code


def _voter_token(request: Request, poll: Poll) -> VoterToken:
    """The token a vote is cast with; Forbidden (nothing counted) without a valid one, or
    without a badge's in a badge poll."""
    if poll.eligibility is Eligibility.BADGE:
        token = _read_token(request, poll)
        if token is None:
            raise Forbidden(BADGE_ONLY)
        return token
    return services(request).voter_tokens.read(request.cookies.get(VOTER_COOKIE), poll.id)


async def cast_vote(request: Request) -> Response:
    poll = await _poll_for(request)
    form = await request.form(**_FORM_LIMITS)
    token = _voter_token(request, poll)
    try:
        if poll.status is not PollStatus.OPEN:
            return await _not_open(request, poll, token)
        choices = parse_choices(poll, [str(v) for v in form.getlist("choice")])
        # Phones' clocks differ, and a badge may be used on several: arrival order counts.
        sent_at = None if token.kind == TOKEN_KIND_BADGE else _sent_at(form.get("sent_at"))
    except BadRequest as error:
        if wants_json(request):
            raise
        return _render_ballot(request, poll, token, None, error=error)
    store = services(request).store
    receipt = _receipt(request, poll, token)
    try:
        outcome = await store.cast_ballot(token, choices, sent_at, receipt)
    except Conflict:  # closed meanwhile (by the host, or its closing time passed)
        return await _not_open(request, await store.get_poll(poll.id), token)
    except Forbidden as error:  # the badge was revoked, or the ballot excluded, meanwhile
        if wants_json(request):
            raise
        return _render_ballot(request, poll, token, None, error=error)
    if wants_json(request):
        body: dict[str, Any] = {
            "status": "recorded",
            "choices": list(outcome.ballot.choices),
            "names": _choice_names(poll, outcome.ballot),
            "replaced": outcome.replaced,
            "stale": outcome.stale,
            "revision": outcome.ballot.revision,
            "receipt": outcome.ballot.receipt or receipt,
            "message": i18n.gettext(N_("Your vote is recorded.")),
        }
        return JSONResponse(body)
    return RedirectResponse(f"{_ballot_path(poll)}/kvittering", status_code=303)


async def _not_open(request: Request, poll: Poll, token: VoterToken) -> Response:
    """409 with the reason: not open yet, or closed (its closing time may have passed
    while the poll still says open: the store has refused the vote)."""
    if poll.status is PollStatus.DRAFT:
        error = Conflict(N_("Voting has not opened yet. Wait for the host to open it."))
    else:
        error = Conflict(N_("Voting has closed. Thank you for taking part!"))
    if wants_json(request):
        raise error
    ballot = await services(request).store.get_ballot(poll.id, token.voter_id)
    return _render_ballot(request, poll, token, ballot, error=error)


def _sent_at(raw: object) -> int | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(N_("The field sent_at must be a whole number."), field="sent_at") from None
    if not 0 < value < 2**53:
        raise BadRequest(N_("The field sent_at must be a whole number."), field="sent_at")
    return value


async def receipt(request: Request) -> Response:
    poll = await _poll_for(request)
    token = _voter_token(request, poll)
    ballot = await services(request).store.get_ballot(poll.id, token.voter_id)
    if ballot is None:
        return RedirectResponse(_ballot_path(poll), status_code=303)
    context = {
        "poll": poll,
        "recorded": _choice_names(poll, ballot),
        "receipt": ballot.receipt or _receipt(request, poll, token),
        "bulletin_url": _bulletin_path(poll),
    }
    return services(request).templates.render(request, "receipt.html", context)


async def choose_language(request: Request) -> Response:
    """Remember the language picked from the switcher, then go back where the user was."""
    language = i18n.pick_language(request.query_params.get("lang"), None)
    target = request.query_params.get("next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    response = RedirectResponse(quote(target, safe="/?=&"), status_code=303)
    response.set_cookie(
        i18n.LANGUAGE_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        samesite="lax",
        httponly=True,
        secure=services(request).is_https(request),
    )
    return response


routes = [
    Route("/", home, name="home"),
    Route("/join", join, name="join"),
    Route("/lang", choose_language, name="choose_language"),
    Route("/p/{code}", ballot_page, methods=["GET"], name="ballot"),
    Route("/p/{code}", cast_vote, methods=["POST"], name="cast_vote"),
    Route("/p/{code}/kvittering", receipt, name="receipt"),
    Route("/p/{code}/badge", enter_badge, methods=["POST"], name="enter_badge"),
]
