"""What voters meet: the join page, the ballot, the vote and its confirmation."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from live import i18n
from live.errors import N_, BadRequest, Conflict, LiveError
from live.finale import views
from live.finale.polls import parse_choices
from live.store.codes import normalise_code
from live.store.models import Ballot, Poll, PollStatus
from live.tokens import VoterToken
from live.web.errors import wants_json
from live.web.services import services

VOTER_COOKIE = "live_voter"
VOTER_COOKIE_SECONDS = 30 * 24 * 3600
_FORM_LIMITS = {"max_fields": 40, "max_files": 0, "max_part_size": 4096}


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


async def ballot_page(request: Request) -> Response:
    poll = await _poll_for(request)
    if request.path_params["code"] != poll.code:
        return RedirectResponse(_ballot_path(poll), status_code=301)
    tokens = services(request).voter_tokens
    cookie = request.cookies.get(VOTER_COOKIE)
    token: VoterToken | None
    try:
        token = tokens.read(cookie, poll.id)
    except LiveError:
        token = None
    fresh_cookie = None
    if token is None:
        token, fresh_cookie = tokens.issue(poll.id)
        ballot = None
    else:
        ballot = await services(request).store.get_ballot(poll.id, token.voter_id)
    templates = services(request).templates
    context = {
        "poll": poll,
        "ballot": ballot,
        "chosen": ballot.choices if ballot else (),
        "recorded": _choice_names(poll, ballot),
        "error": None,
        "podium": await _podium(request, poll),
    }
    if ballot is None:  # the same page for every voter who has not voted yet
        response = templates.render_shared(request, (poll.id, poll.version), "ballot.html", context)
    else:
        response = templates.render(request, "ballot.html", context)
    if fresh_cookie is not None:
        _set_voter_cookie(request, response, poll, fresh_cookie)
    return response


async def cast_vote(request: Request) -> Response:
    poll = await _poll_for(request)
    form = await request.form(**_FORM_LIMITS)
    token = services(request).voter_tokens.read(request.cookies.get(VOTER_COOKIE), poll.id)
    try:
        if poll.status is not PollStatus.OPEN:
            return _not_open(request, poll)
        choices = parse_choices(poll, [str(v) for v in form.getlist("choice")])
    except BadRequest as error:
        if wants_json(request):
            raise
        return services(request).templates.render(
            request, "ballot.html",
            {"poll": poll, "ballot": None, "chosen": (), "recorded": [],
             "error": i18n.gettext(error.message, **error.params)},
            status_code=error.status,
        )  # fmt: skip
    sent_at = _sent_at(form.get("sent_at"))
    try:
        outcome = await services(request).store.cast_ballot(token, choices, sent_at)
    except Conflict:  # closed meanwhile (by the host, or its closing time passed)
        return _not_open(request, await services(request).store.get_poll(poll.id))
    if wants_json(request):
        body: dict[str, Any] = {
            "status": "recorded",
            "choices": list(outcome.ballot.choices),
            "names": _choice_names(poll, outcome.ballot),
            "replaced": outcome.replaced,
            "stale": outcome.stale,
            "revision": outcome.ballot.revision,
            "message": i18n.gettext(N_("Your vote is recorded.")),
        }
        return JSONResponse(body)
    return RedirectResponse(f"{_ballot_path(poll)}/kvittering", status_code=303)


def _not_open(request: Request, poll: Poll) -> Response:
    """409 with the reason: not open yet, or closed (its closing time may have passed
    while the poll still says open: the store has refused the vote)."""
    if poll.status is PollStatus.DRAFT:
        error = Conflict(N_("Voting has not opened yet. Wait for the host to open it."))
    else:
        error = Conflict(N_("Voting has closed. Thank you for taking part!"))
    if wants_json(request):
        raise error
    return services(request).templates.render(
        request, "ballot.html",
        {"poll": poll, "ballot": None, "chosen": (), "recorded": [],
         "error": i18n.gettext(error.message)},
        status_code=error.status,
    )  # fmt: skip


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
    token = services(request).voter_tokens.read(request.cookies.get(VOTER_COOKIE), poll.id)
    ballot = await services(request).store.get_ballot(poll.id, token.voter_id)
    if ballot is None:
        return RedirectResponse(_ballot_path(poll), status_code=303)
    return services(request).templates.render(
        request, "receipt.html", {"poll": poll, "recorded": _choice_names(poll, ballot)}
    )


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
]
