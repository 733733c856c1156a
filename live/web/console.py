"""The host console: one page per poll that runs the show, live over a websocket.

Organisers and hosts use it on a laptop or a phone, several at once. Every control sends
an intent that is harmless to repeat ("open", "reveal place 3", "close in 60 s"), never
"next": a second tap, a retry or a second console that acted first changes nothing.
Closing cannot be undone, so it takes a second, deliberate step that the server checks
(`CONFIRM_AFTER_MS`): a double tap cannot pass it; so does taking flagged ballots out of
the count (see `console_hall`). Hosts run the whole show, drawing lots for a tie
included; a decision by note, the expected number of voters, an exclusion and the full
result after the reveal are the organisers'.
"""

from __future__ import annotations

import contextlib

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from live import i18n
from live.errors import N_, Conflict, Forbidden, LiveError, NotFound
from live.finale import polls, views
from live.inputs import whole_number
from live.store.base import AlreadyDone
from live.store.models import Poll, PollStatus, Session, TieRule
from live.store.timestamps import now_ms
from live.web import console_hall
from live.web.admin import render_admin
from live.web.auth import ORGANISERS, STAGE_CREW, check_csrf, current_session, require_session
from live.web.errors import wants_json
from live.web.feeds import (
    CLOSE_FORBIDDEN_ORIGIN,
    CLOSE_NOT_FOUND,
    CLOSE_TRY_AGAIN_LATER,
    CLOSE_UNAUTHORISED,
    origin_allowed,
    serve_view,
)
from live.web.services import services

FORM_LIMITS = {"max_fields": 40, "max_files": 0, "max_part_size": 4096}
CONFIRM_AFTER_MS = 1000  # the second step of closing counts only this long after the first
COUNTDOWN_PRESETS = (30, 60, 120, 300)
ACTIONS = (
    "open",
    "close",
    "hide",
    "show",
    "countdown",
    "reveal",
    "tie",
    "results",
    "expected",
    "exclude",
)
CONFIRM_STEPS = ("close", "exclude")  # what `?confirm=` may show


class ConfirmationNeeded(Conflict):
    """Closing was asked for without its deliberate second step."""

    code = "confirm"
    step = "close"

    def __init__(self) -> None:
        super().__init__(N_("Closing locks the result for good. Confirm it in the second step."))


class ExclusionConfirmationNeeded(ConfirmationNeeded):
    """Taking flagged ballots out was asked for without its deliberate second step."""

    step = "exclude"

    def __init__(self) -> None:
        Conflict.__init__(
            self,
            N_("Taking ballots out of the count cannot be undone. Confirm it in the second step."),
        )


def _confirmed(form: FormData) -> bool:
    """Whether the second step was taken, and a moment after it was shown (server clock)."""
    asked = form.get("asked_at")  # when the second step was shown (server clock, ms)
    valid = isinstance(asked, str) and asked.isascii() and asked.isdecimal() and len(asked) < 16
    asked_ms = int(asked) if valid and isinstance(asked, str) else 0
    return (
        form.get("confirm") == "yes" and bool(asked_ms) and now_ms() - asked_ms >= CONFIRM_AFTER_MS
    )


def _presets() -> list[tuple[int, str]]:
    return [
        (
            seconds,
            i18n.gettext(N_("%(number)s min"), number=seconds // 60)
            if seconds >= 60
            else i18n.gettext(N_("%(number)s s"), number=seconds),
        )
        for seconds in COUNTDOWN_PRESETS
    ]


def _extended(poll: Poll) -> int:
    """The countdown 30 s longer than it is now (the script keeps this up to date)."""
    left = 0 if poll.closes_at_ms is None else -(-(poll.closes_at_ms - now_ms()) // 1000)
    return min(polls.COUNTDOWN_MAX_SECONDS, max(polls.COUNTDOWN_MIN_SECONDS, left + 30))


async def _poll_id(request: Request) -> int:
    poll_id: int = request.path_params["poll_id"]
    return poll_id


async def console(
    request: Request, error: LiveError | None = None, step: str | None = None, note: str = ""
) -> Response:
    """The console page; `?confirm=close` shows the second step of closing (no script),
    `?confirm=exclude` that of taking flagged ballots out (`step` and `note` when a
    hasty or incomplete confirm comes back to it)."""
    session = await require_session(request, STAGE_CREW)
    store = services(request).store
    snapshot = await store.snapshot(await _poll_id(request))
    poll = snapshot.poll
    view = views.console_view(snapshot)
    hall = await console_hall.hall_view(store, poll)
    step = step or request.query_params.get("confirm")
    confirming = step if step in CONFIRM_STEPS and poll.status is PollStatus.OPEN else None
    if confirming == "exclude" and (session.user.role not in ORGANISERS or not hall["flagged"]):
        confirming = None
    return render_admin(
        request,
        "admin/console.html",
        session,
        status_code=error.status if error else 200,
        poll=poll,
        view=view,
        names={f.id: f.name for f in poll.finalists},
        error=i18n.gettext(error.message, **error.params) if error else None,
        ballot_url=services(request).absolute(request, f"/p/{poll.code}"),
        confirming=confirming,
        asked_at=now_ms(),
        hall=hall,
        note=note,
        presets=_presets(),
        extend_seconds=_extended(poll),
        next_place=poll.winners - poll.revealed,
    )


async def console_ties(request: Request) -> Response:
    """The ties part of the console alone, for the console's script to swap in."""
    session = await require_session(request, STAGE_CREW)
    snapshot = await services(request).store.snapshot(await _poll_id(request))
    return render_admin(
        request,
        "admin/_ties.html",
        session,
        poll=snapshot.poll,
        view=views.console_view(snapshot),
        names={f.id: f.name for f in snapshot.poll.finalists},
    )


async def _act(request: Request, session: Session, poll: Poll, action: str, form: FormData) -> None:
    """Carry out one intent; the store audits it in the same step (as this user)."""
    store, actor = services(request).store, session.user.email
    if action == "open":
        await store.open_poll(poll.id, actor=actor)
    elif action == "close":
        if not _confirmed(form):
            raise ConfirmationNeeded
        await store.close_poll(poll.id, actor=actor)
    elif action in ("hide", "show"):
        await store.set_hide_counts(poll.id, action == "hide", actor=actor)
    elif action == "countdown":
        seconds = polls.countdown_seconds(form.get("seconds"))
        await store.set_countdown(poll.id, seconds, actor=actor)
    elif action == "reveal":
        place = whole_number(form.get("place"), "place", 6)
        target = polls.reveal_target(poll, await store.get_result(poll.id), place)
        if target <= poll.revealed:
            raise AlreadyDone(N_("That place is shown already."))
        await store.reveal_to(poll.id, target, poll.winners, actor=actor)
    elif action == "tie":
        await _resolve_tie(request, session, poll, form)
    elif action == "results":
        if session.user.role not in ORGANISERS:
            raise Forbidden(N_("Only an organiser can show the full result."))
        polls.check_results_showable(poll)
        await store.set_show_results(poll.id, form.get("shown") == "1", actor=actor)
    elif action == "expected":
        expected = console_hall.expected_voters(session, form.get("expected_voters"))
        await store.set_expected_voters(poll.id, expected, actor=actor)
    elif action == "exclude":
        console_hall.check_may_exclude(session, poll)
        if not _confirmed(form):
            raise ExclusionConfirmationNeeded
        note = polls.check_note(form.get("note"))
        await store.exclude_flagged(poll.id, note, actor=actor)


async def _resolve_tie(request: Request, session: Session, poll: Poll, form: FormData) -> None:
    rule = str(form.get("rule", ""))
    if rule != TieRule.LOTS.value and session.user.role not in ORGANISERS:
        raise Forbidden(N_("Only an organiser can record a decision on a tie."))
    order = [whole_number(value, "order", 6) for value in form.getlist("order")]
    store = services(request).store
    if poll.status is not PollStatus.CLOSED:
        raise Conflict(N_("A tie can be resolved only after the poll is closed."))
    resolution = polls.make_resolution(
        poll,
        await store.get_result(poll.id),
        rule,
        order,
        str(form.get("note", "")),
        session.user.email,
    )
    await store.resolve_tie(poll.id, resolution)


async def poll_action(request: Request) -> Response:
    """One intent from a console button: JSON for the console's script, else a redirect."""
    action = request.path_params["action"]
    session = await require_session(request, STAGE_CREW)
    form = await request.form(**FORM_LIMITS)
    check_csrf(session, form)
    poll_id = await _poll_id(request)
    url = str(request.app.url_path_for("poll_detail", poll_id=poll_id))
    try:
        if action not in ACTIONS:
            raise NotFound(N_("Unknown action %(action)s."), action=action)
        poll = await services(request).store.get_poll(poll_id)
        with contextlib.suppress(AlreadyDone):  # a repeat: what it asks for is so already
            await _act(request, session, poll, action, form)
    except ConfirmationNeeded as needed:
        if wants_json(request):
            raise
        if needed.step == "exclude":  # the step again, with the note as it was typed
            return await console(request, needed, "exclude", str(form.get("note", "")))
        return RedirectResponse(f"{url}?confirm=close", status_code=303)
    except LiveError as error:
        if error.status >= 500 or wants_json(request):
            raise
        if action == "exclude" and error.status == 400:
            return await console(request, error, "exclude", str(form.get("note", "")))
        return await console(request, error)
    if wants_json(request):
        return JSONResponse({"ok": True})
    return RedirectResponse(url, status_code=303)


async def console_stream(websocket: WebSocket) -> None:
    """The console view, to organisers and hosts only: full counts never leave this."""
    if not origin_allowed(websocket):
        await websocket.close(code=CLOSE_FORBIDDEN_ORIGIN)
        return
    try:
        session = await current_session(websocket)
        if session is None or session.user.role not in STAGE_CREW:
            await websocket.close(code=CLOSE_UNAUTHORISED)
            return
        poll = await services(websocket).store.get_poll(websocket.path_params["poll_id"])
    except NotFound:
        await websocket.close(code=CLOSE_NOT_FOUND)
        return
    except LiveError:
        await websocket.close(code=CLOSE_TRY_AGAIN_LATER)
        return
    await serve_view(websocket, poll.id, views.CONSOLE)


routes = [
    Route("/admin/polls/{poll_id:id}", console, name="poll_detail"),
    Route("/admin/polls/{poll_id:id}/ties", console_ties, name="console_ties"),
    Route("/admin/polls/{poll_id:id}/hall", console_hall.hall, name="console_hall"),
    Route(
        "/admin/polls/{poll_id:id}/{action:str}", poll_action, methods=["POST"], name="poll_action"
    ),
    WebSocketRoute("/admin/polls/{poll_id:id}/stream", console_stream, name="console_stream"),
]
