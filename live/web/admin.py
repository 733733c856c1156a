"""Organiser and host pages: log in, set up polls, run the finale from a laptop or phone."""

from __future__ import annotations

import hmac
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import NoMatchFound, Route

from live import i18n
from live.errors import N_, BadRequest, Forbidden, LiveError, TooManyRequests, Unauthorized
from live.finale import polls, stage_order
from live.finale.finalist_import import RowProblem, parse_finalists
from live.store.models import Eligibility, Poll, PollDraft, PollStatus, Role, Session
from live.tokens import digest, new_secret
from live.web.auth import (
    FORM_EXPIRED,
    ORGANISERS,
    SESSION_COOKIE,
    STAGE_CREW,
    check_csrf,
    log_in,
    openable_path,
    require_session,
    set_session_cookie,
)
from live.web.limits import address_of
from live.web.services import services

LOGIN_CSRF_COOKIE = "live_login_csrf"
FORM_LIMITS = {"max_fields": 100, "max_files": 1, "max_part_size": 16384}


def _safe_next(request: Request, target: str | None) -> str:
    """A page on this site to land on after logging in: one a browser can open, never
    an address that only takes forms (that would answer 405)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/admin"
    path, mark, query = target.partition("?")
    found = openable_path(request.app, path)
    return found + mark + query if found == path else found


def _login_form(
    request: Request, email: str, target: str, error: LiveError | None, expired: bool = False
) -> Response:
    """The login page with a fresh CSRF token, kept in a cookie only this form reads back
    (double submit: there is no session yet to keep it in)."""
    token = new_secret()
    response = services(request).templates.render(
        request, "admin/login.html",
        {"error": i18n.gettext(error.message, **error.params) if error else None,
         "email": email, "next": target, "csrf": token, "expired": expired},
        status_code=error.status if error else 200,
    )  # fmt: skip
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(error.retry_after)
    elif error is not None and error.status == 503:
        response.headers["Retry-After"] = "2"
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
        secure=services(request).is_https(request), path="/admin/login",
    )  # fmt: skip
    return response


async def login_page(request: Request) -> Response:
    target = _safe_next(request, request.query_params.get("next"))
    expired = request.query_params.get("expired") == "1"
    return _login_form(request, "", target, None, expired=expired)


async def login(request: Request) -> Response:
    form = await request.form(**FORM_LIMITS)
    email, target = str(form.get("email", "")), _safe_next(request, str(form.get("next", "")))
    sent, kept = str(form.get("csrf", "")), request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not kept or not hmac.compare_digest(sent, kept):
        return _login_form(request, email, target, Forbidden(FORM_EXPIRED))
    password = str(form.get("password", ""))
    try:
        secret = await log_in(services(request).store, email, password, address_of(request))
    except LiveError as error:
        if not isinstance(error, Unauthorized | TooManyRequests) and error.status != 503:
            raise
        return _login_form(request, email, target, error)
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/admin/login")
    set_session_cookie(request, response, secret)
    return response


async def logout(request: Request) -> Response:
    session = await require_session(request)
    check_csrf(session, await request.form(**FORM_LIMITS))
    await services(request).store.delete_session(digest(request.cookies[SESSION_COOKIE]))
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def render_admin(request: Request, name: str, session: Session, status_code: int = 200,
            **context: Any) -> Response:  # fmt: skip
    return services(request).templates.render(
        request,
        name,
        {"session": session, "user": session.user, "role_names": role_names(), **context},
        status_code=status_code,
    )


def role_names() -> dict[str, str]:
    """Each role as people read it, in the current language."""
    return {
        Role.ORGANISER: i18n.gettext(N_("organiser")),
        Role.HOST: i18n.gettext(N_("host")),
        Role.COORDINATOR: i18n.gettext(N_("network coordinator")),
        Role.JURY: i18n.gettext(N_("jury member")),
    }


async def dashboard(request: Request) -> Response:
    session = await require_session(request)
    if session.user.role not in STAGE_CREW:
        return RedirectResponse("/admin/contest", status_code=303)
    found = await services(request).store.list_polls()
    links = {poll.id: poll_links(request, poll) for poll in found}
    return render_admin(request, "admin/dashboard.html", session, polls=found, links=links)


def poll_links(request: Request, poll: Poll) -> list[tuple[str, str]]:
    """The pages of a poll beside its console, as (label, path): the badges of a badge
    poll, and once closed the printable results and the public bulletin. A page whose
    module is not wired in is left out."""
    wanted: list[tuple[str, str, dict[str, Any]]] = []
    if poll.eligibility is Eligibility.BADGE:
        wanted.append((N_("Badges"), "poll_badges", {"poll_id": poll.id}))
    if poll.status is PollStatus.CLOSED:
        wanted.append((N_("Printable results"), "results_print", {"poll_id": poll.id}))
        wanted.append((N_("Public bulletin"), "bulletin_page", {"code": poll.code}))
    found = []
    for label, name, params in wanted:
        try:
            found.append((i18n.gettext(label), str(request.app.url_path_for(name, **params))))
        except NoMatchFound:
            continue
    return found


class _FileProblems(BadRequest):
    """An uploaded finalist file had problems; each is shown, nothing is saved."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(N_("The file has problems, so nothing was saved:"))
        self.problems = problems


async def _draft_from_upload(form: FormData) -> PollDraft:
    """The poll from the form; finalists from an uploaded file when one is attached."""
    upload = form.get("finalists_file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _draft_from_form(form)
    finalists, problems = parse_finalists(upload.filename, await upload.read())
    if problems:
        raise _FileProblems(problems)
    return polls.check_draft(
        form.get("title"), form.get("method"), form.get("winners"), finalists, _settings(form)
    )


def _settings(form: FormData) -> dict[str, object]:
    """The poll's settings from the form. The k field is always on the form (it works
    without a script), so it is read only when the method is approval."""
    values: dict[str, object] = {field: form.get(field) for field in polls.SETTING_FIELDS}
    if form.get("method") != "approval":
        values["max_choices"] = None
    return values


def _problem_texts(error: LiveError) -> list[str]:
    if not isinstance(error, _FileProblems):
        return []
    return [i18n.gettext(p.message, row=p.row, **p.params) for p in error.problems]


def _draft_from_form(form: FormData) -> PollDraft:
    finalists = []
    for number in range(1, polls.MAX_FINALISTS + 1):
        fields = {key: str(form.get(f"{key}_{number}", "")).strip()
                  for key in ("name", "pitch", "owner")}  # fmt: skip
        if any(fields.values()):
            finalists.append(fields)
    return polls.check_draft(
        form.get("title"), form.get("method"), form.get("winners"), finalists, _settings(form)
    )


def _form_values(form: FormData | None, poll: Poll | None) -> dict[str, Any]:
    """What the poll form shows: the submitted values after an error, else the poll's."""
    if form is not None:
        return {k: str(v) for k, v in form.items() if not isinstance(v, UploadFile)}
    values: dict[str, Any] = {
        "title": "",
        "method": "single",
        "winners": "3",
        "eligibility": "open",
        "tie_rule": "lots",
    }
    if poll is not None:
        settings = poll.settings
        values = {
            "title": poll.title,
            "method": poll.method.value,
            "winners": str(poll.winners),
            "eligibility": settings.eligibility.value,
            "tie_rule": settings.tie_rule.value,
            "max_choices": "" if settings.max_choices is None else str(settings.max_choices),
            "expected_voters": ""
            if settings.expected_voters is None
            else str(settings.expected_voters),
        }
        for number, finalist in enumerate(poll.finalists, start=1):
            values |= {f"name_{number}": finalist.name, f"pitch_{number}": finalist.pitch,
                       f"owner_{number}": finalist.owner}  # fmt: skip
    return values


async def _poll_form(request: Request, poll: Poll | None) -> Response:
    """Create a poll (`poll` None) or edit a draft: the same form either way."""
    session = await require_session(request, ORGANISERS)
    store = services(request).store
    form = await request.form(**FORM_LIMITS) if request.method == "POST" else None
    if form is None:
        drawn = poll is not None and request.query_params.get("drawn") == "1"
        return render_admin(request, "admin/poll_form.html", session, poll=poll, drawn=drawn,
                       values=_form_values(None, poll), error=None, problems=[])  # fmt: skip
    try:
        check_csrf(session, form)
        draft = await _draft_from_upload(form)
        actor = session.user.email  # the store audits the change in the same step
        saved = (
            await store.create_poll(draft, actor=actor)
            if poll is None
            else await store.update_poll(poll.id, draft, actor=actor)
        )
    except LiveError as error:
        if error.status >= 500:
            raise
        return render_admin(
            request,
            "admin/poll_form.html",
            session,
            status_code=error.status,
            poll=poll,
            values=_form_values(form, poll),
            error=i18n.gettext(error.message, **error.params),
            error_field=error.field,
            problems=_problem_texts(error),
        )
    finally:
        await form.close()  # an uploaded file is spooled to a temporary file
    return RedirectResponse(f"/admin/polls/{saved.id}", status_code=303)


async def new_poll(request: Request) -> Response:
    return await _poll_form(request, None)


async def edit_poll(request: Request) -> Response:
    await require_session(request, ORGANISERS)
    return await _poll_form(
        request, await services(request).store.get_poll(request.path_params["poll_id"])
    )


async def draw_stage_order(request: Request) -> Response:
    """Draw a draft's stage order (it can be drawn again until voting opens)."""
    session = await require_session(request, ORGANISERS)
    form = await request.form(**FORM_LIMITS)
    check_csrf(session, form)
    store = services(request).store
    poll = await store.get_poll(request.path_params["poll_id"])
    order = stage_order.drawn_order(poll)
    await store.update_poll(poll.id, stage_order.draft_of(poll, order), actor=session.user.email)
    edit = request.app.url_path_for("edit_poll", poll_id=poll.id)
    return RedirectResponse(f"{edit}?drawn=1", status_code=303)


routes = [
    Route("/admin/login", login_page, methods=["GET"], name="login"),
    Route("/admin/login", login, methods=["POST"]),
    Route("/admin/logout", logout, methods=["POST"], name="logout"),
    Route("/admin", dashboard, name="dashboard"),
    Route("/admin/polls/new", new_poll, methods=["GET", "POST"], name="new_poll"),
    Route("/admin/polls/{poll_id:id}/edit", edit_poll, methods=["GET", "POST"], name="edit_poll"),
    Route("/admin/polls/{poll_id:id}/edit/draw-order", draw_stage_order, methods=["POST"],
          name="draw_stage_order"),
]  # fmt: skip
