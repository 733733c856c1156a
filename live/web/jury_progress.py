"""Organisers' jury pages: who scores which nominee (with conflicts of interest and
their overrides), and the progress grid with a reminder per member."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import inputs
from live.contest.editions import format_local
from live.contest.jury import Pair, PairState
from live.contest.jury_work import REASON_MAX, JuryWork
from live.errors import N_, Conflict, LiveError
from live.mail import send_jury_reminder
from live.store.models import Session
from live.web.admin import FORM_LIMITS
from live.web.auth import ORGANISERS, check_csrf, require_session
from live.web.contest_admin import error_text, render_contest
from live.web.services import services

# What each state is called in the grids, and its badge's look.
STATE_WORDS = {
    PairState.UNASSIGNED: (N_("Not assigned"), ""),
    PairState.NETWORK_CONFLICT: (N_("Conflict: own network"), "warn"),
    PairState.DECLARED_CONFLICT: (N_("Conflict declared"), ""),
    PairState.NOT_STARTED: (N_("Not started"), "warn"),
    PairState.PARTLY: (N_("Partly scored"), "warn"),
    PairState.SCORED: (N_("Scored"), "ok"),
}


def _pair(value: str) -> Pair:
    idea, _, member = value.partition(":")
    return inputs.whole_number(idea, "assigned"), inputs.whole_number(member, "assigned")


async def assign(
    request: Request,
    session: Session | None = None,
    error: str | None = None,
    override_error: tuple[Pair, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The assignment grid: every member to every nominee unless unticked, each
    member's own network, and the network conflicts with their overrides."""
    session = session or await require_session(request, ORGANISERS)
    work = JuryWork(services(request).selection)
    year = request.path_params["year"]
    if request.method == "POST" and error is None and override_error is None:
        async with request.form(**FORM_LIMITS) as form:
            check_csrf(session, form)
            shown = {_pair(str(v)) for v in form.getlist("shown")}
            checked = {_pair(str(v)) for v in form.getlist("assigned")}
            networks = {
                inputs.whole_number(name.removeprefix("network_"), "network"): str(v) or None
                for name, v in form.items()
                if name.startswith("network_")
            }
            version = inputs.whole_number(form.get("version"), "version", default=0)
        try:
            await work.save_assignments(session.user.email, year, shown, checked, networks, version)
            return RedirectResponse(
                request.url_for("jury_assign", year=year).include_query_params(saved=1),
                status_code=303,
            )
        except LiveError as problem:
            error, status_code = error_text(problem), problem.status
    board = await work.board(year)
    directory = await services(request).contest.directory()
    return render_contest(
        request,
        "contest/jury_assign.html",
        session,
        status_code=status_code,
        board=board,
        networks=directory.networks,
        error=error,
        override_error=override_error,
        reason_max=REASON_MAX,
        state_words=STATE_WORDS,
        conflicts=[
            (idea, member)
            for idea in board.nominees
            for member in board.members
            if board.assignments.assigned(idea.id, member.id)
            and board.network_conflict(idea, member)
        ],
        saved="saved" in request.query_params,
    )


async def override(request: Request) -> Response:
    """Record, with a reason, that a member scores a nominee of their own network; or
    withdraw that decision. Both are audited."""
    session = await require_session(request, ORGANISERS)
    work = JuryWork(services(request).selection)
    year = request.path_params["year"]
    async with request.form(**FORM_LIMITS) as form:
        check_csrf(session, form)
        values = {k: str(v) for k, v in form.items()}
    pair = _pair(values.get("pair", ""))
    reason = None if values.get("withdraw") else values.get("reason", "")
    try:
        await work.override(session.user.email, year, pair[0], pair[1], reason)
    except LiveError as problem:
        message = error_text(problem)
        return await assign(request, session, None, (pair, message), problem.status)
    return RedirectResponse(
        request.url_for("jury_assign", year=year).include_query_params(saved=1), status_code=303
    )


async def progress(request: Request) -> Response:
    """Members × nominees: who has scored what, what is missing, and a reminder each."""
    session = await require_session(request, ORGANISERS)
    work = JuryWork(services(request).selection)
    year = request.path_params["year"]
    board = await work.board(year)
    reminders = await work.reminders(year)
    reminded = None
    if "reminded" in request.query_params:
        member_id = inputs.whole_number(request.query_params["reminded"], "reminded")
        if member_id in reminders:
            reminded = (board.member(member_id), reminders[member_id])
    return render_contest(
        request,
        "contest/jury_progress.html",
        session,
        board=board,
        state_words=STATE_WORDS,
        missing={m.id: board.missing(m) for m in board.members},
        reminders=reminders,
        reminded=reminded,
        again="again" in request.query_params,
    )


async def remind(request: Request) -> Response:
    """Mail a member the nominees they have not scored: one mail however often the
    button is pressed within the reminder gap; the page then says whether it went."""
    session = await require_session(request, ORGANISERS)
    work = JuryWork(services(request).selection)
    year = request.path_params["year"]
    async with request.form(**FORM_LIMITS) as form:
        check_csrf(session, form)
    board = await work.board(year)
    member = board.member(request.path_params["member_id"])
    missing = board.missing(member)
    if not missing:
        raise Conflict(N_("%(email)s has nothing left to score."), email=member.email)
    reminder = await work.claim_reminder(session.user.email, year, member)
    if reminder.fresh:
        link = services(request).absolute(
            request, str(request.app.url_path_for("jury_list", year=year))
        )
        mailed = await send_jury_reminder(
            services(request).settings,
            member.email,
            await work.language_of(member) or "nb",
            edition=board.edition.title,
            deadline=format_local(board.edition.jury_deadline),
            missing=[idea.title for idea in missing],
            link=link,
        )
        await work.reminder_sent(session.user.email, year, member, mailed)
    target = request.url_for("jury_progress", year=year).include_query_params(
        reminded=member.id, **({} if reminder.fresh else {"again": 1})
    )
    return RedirectResponse(target, status_code=303)


routes = [
    Route(
        "/admin/contest/{year:id}/jury/assign", assign, methods=["GET", "POST"], name="jury_assign"
    ),
    Route(
        "/admin/contest/{year:id}/jury/assign/override",
        override,
        methods=["POST"],
        name="jury_override",
    ),
    Route("/admin/contest/{year:id}/jury/progress", progress, name="jury_progress"),
    Route(
        "/admin/contest/{year:id}/jury/progress/{member_id:id}/remind",
        remind,
        methods=["POST"],
        name="jury_remind",
    ),
]
