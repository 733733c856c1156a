"""The contest's admin pages: editions and deadlines, ideas, routing and nominations.

Organisers see every idea and re-route them; a network's coordinator sees the ideas
routed to their network, filters them by state, compares up to three side by side and
nominates up to three. Jury pages are in `contest_jury`; the finalist page in
`contest_finalists`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import i18n, inputs
from live.contest import finalist_page
from live.contest.attachments import Attachments
from live.contest.editions import (
    DEADLINES,
    DEFAULT_FINALISTS,
    DEFAULT_RETENTION_MONTHS,
    TITLE_MAX,
    Edition,
    check_edition,
    format_local,
    input_value,
)
from live.contest.finalist_page import PLACE_MAX
from live.contest.ideas import OPTION_MSGIDS
from live.contest.jury import default_criteria
from live.contest.nominations import (
    ALL,
    CURRENT,
    FILTERS,
    check_compared,
    check_filter,
    filter_counts,
    idea_state,
    places_left,
)
from live.contest.records import ROUTING_NOTE_MAX, Idea
from live.contest.selection import RATIONALE_MAX
from live.errors import N_, BadRequest, Forbidden, LiveError, NotFound
from live.store.models import Role, Session
from live.web.admin import FORM_LIMITS, render_admin
from live.web.auth import EVERYONE, ORGANISERS, check_csrf, require_session
from live.web.contest_public import news_later
from live.web.services import services

NOMINATORS = frozenset({Role.ORGANISER, Role.COORDINATOR})


def render_contest(
    request: Request, name: str, session: Session, status_code: int = 200, **context: Any
) -> Response:
    """An admin page of the contest, with the helpers every contest template uses."""
    return render_admin(request, name, session, status_code=status_code,
                        format_local=format_local, option_label=_option_label,
                        **context)  # fmt: skip


def _option_label(kind: str, value: str) -> str:
    """A goal, life event or roadmap phase as the person reads it."""
    return i18n.gettext(OPTION_MSGIDS.get(f"{kind}:{value}", value))


def error_text(error: LiveError) -> str:
    if error.status >= 500:
        raise error
    return i18n.gettext(error.message, **error.params)


async def contest_home(request: Request) -> Response:
    session = await require_session(request, EVERYONE)
    contest = services(request).contest
    editions = await contest.editions()
    now = contest.clock()
    return render_contest(request, "contest/admin_home.html", session,
                          editions=[(e, e.stage(now)) for e in editions])  # fmt: skip


def _edition_values(edition: Edition | None) -> dict[str, str]:
    if edition is None:
        return {
            "finalists": str(DEFAULT_FINALISTS),
            "retention_months": str(DEFAULT_RETENTION_MONTHS),
        }
    return {"year": str(edition.year), "title": edition.title,
            "finalists": str(edition.finalists),
            "retention_months": str(edition.retention_months),
            **{name: input_value(getattr(edition, name)) for name in DEADLINES}}  # fmt: skip


def _check_numbers(values: dict[str, str]) -> None:
    """The year and the number of finalists as ASCII digits of a sensible length, before
    `check_edition` reads them with `int()` and checks their range."""
    for name, digits in (("year", 4), ("finalists", 2)):
        if values.get(name, "").strip():
            inputs.whole_number(values[name], name, digits)


async def edition_form(request: Request) -> Response:
    """Create an edition, or change the title, deadlines and number of finalists."""
    session = await require_session(request, ORGANISERS)
    contest = services(request).contest
    year = request.path_params.get("year")
    edition, version = await contest.edition(year) if year else (None, 0)
    values = _edition_values(edition)
    if edition is None:
        next_year = contest.clock().year + 1
        values |= {"year": str(next_year), "title": f"Idékonkurransen {next_year}"}
    error, field, status = None, None, 200
    if request.method == "POST":
        async with request.form(**FORM_LIMITS) as form:
            check_csrf(session, form)
            values = {k: str(v) for k, v in form.items()}
        try:
            version = inputs.whole_number(values.get("version"), "version", default=0)
            _check_numbers(values)
            saved = check_edition(
                values.get("year") if edition is None else edition.year, values.get("title"),
                values.get("finalists"), {name: values.get(name) for name in DEADLINES},
                edition.criteria if edition else tuple(default_criteria()),
                values.get("retention_months"),
            )  # fmt: skip
            if edition is not None:
                saved = Edition(**{**saved.__dict__, "poll_id": edition.poll_id})
            await contest.save_edition(session.user.email, saved, version)
            return RedirectResponse(f"/admin/contest/{saved.year}", status_code=303)
        except LiveError as problem:
            error, field, status = error_text(problem), problem.field, problem.status
    return render_contest(
        request,
        "contest/edition_form.html",
        session,
        status_code=status,
        edition=edition,
        version=version,
        values=values,
        error=error,
        error_field=field,
        title_max=TITLE_MAX,
    )


async def edition_page(
    request: Request,
    session: Session | None = None,
    error: str | None = None,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    error_field: str | None = None,
) -> Response:
    """The edition's stages and links; for organisers its numbers and the finalist page's
    state (after a refused change to it, the error and what was typed)."""
    session = session or await require_session(request, EVERYONE)
    contest, selection = services(request).contest, services(request).selection
    edition, _ = await contest.edition(request.path_params["year"])
    ideas = await contest.ideas(edition.year)
    directory = await contest.directory()
    submitted = [i for i in ideas if i.status == "submitted"]
    by_network = Counter(i.network_id for i in submitted)
    nominated = Counter(n.network_id for n in await selection.nominations(edition.year))
    page = await finalist_page.read_page(contest.store, edition.year)
    return render_contest(
        request, "contest/edition.html", session, status_code=status_code, edition=edition,
        stage=edition.stage(contest.clock()), drafts=len(ideas) - len(submitted),
        submitted=len(submitted), by_network=by_network, nominated=nominated,
        networks=directory.networks, finalists=await selection.finalists(edition.year),
        page=page, error=error, error_field=error_field, place_max=PLACE_MAX,
        values=values or {"place": page.place if page else ""},
    )  # fmt: skip


def _visible(session: Session, idea: Idea) -> bool:
    """Organisers see every idea; a coordinator the submitted ideas of their network."""
    if session.user.role is Role.ORGANISER:
        return True
    return (session.user.role is Role.COORDINATOR and idea.status == "submitted"
            and idea.network_id == session.user.network_id)  # fmt: skip


def _listed(session: Session, idea: Idea) -> bool:
    """The ideas in a person's list: those they see, and for a coordinator also their
    network's ideas that the sender withdrew (named only: they are out of the running)."""
    if _visible(session, idea):
        return True
    return (
        session.user.role is Role.COORDINATOR
        and idea.status == "withdrawn"
        and idea.network_id == session.user.network_id
    )


def _filters(session: Session) -> tuple[list[str], str]:
    """The filters a person's list offers, and the one it opens with: what they saw
    before filters existed (organisers every idea; coordinators those in the running)."""
    if session.user.role is Role.ORGANISER:
        return list(FILTERS), ALL
    return [name for name in FILTERS if name != "draft"], CURRENT


async def idea_list(request: Request) -> Response:
    session = await require_session(request, NOMINATORS)
    return await _idea_list(request, session)


async def _idea_list(
    request: Request,
    session: Session,
    error: str | None = None,
    ticked: Collection[int] = (),
    status_code: int = 200,
) -> Response:
    """The ideas by network, filtered by state (`?status=`, with a count for each filter),
    each with a box to tick for comparing."""
    contest, selection = services(request).contest, services(request).selection
    edition, _ = await contest.edition(request.path_params["year"])
    offered, default = _filters(session)
    chosen = check_filter(request.query_params.get("status"), offered, default)
    nominations = {n.idea_id: n for n in await selection.nominations(edition.year)}
    listed = [i for i in await contest.ideas(edition.year) if _listed(session, i)]
    states = {i.id: idea_state(i, nominations) for i in listed}
    shown = [i for i in listed if states[i.id] in FILTERS[chosen]]
    directory = await contest.directory()
    groups: dict[str | None, list[Idea]] = {}
    for idea in sorted(shown, key=lambda i: (i.network_id is not None, i.network_id or "", i.id)):
        groups.setdefault(idea.network_id, []).append(idea)
    used = Counter(n.network_id for n in nominations.values())
    return render_contest(
        request,
        "contest/ideas.html",
        session,
        status_code=status_code,
        edition=edition,
        groups=groups,
        states=states,
        nominations=nominations,
        networks=directory.networks,
        places={network: places_left(used[network]) for network in directory.networks},
        stage=edition.stage(contest.clock()),
        filters=offered,
        chosen=chosen,
        counts=filter_counts(states.values(), offered),
        openable={i.id for i in listed if _visible(session, i)},
        error=error,
        ticked=set(ticked),
    )


async def compare(request: Request) -> Response:
    """Two or three ideas side by side, each with its answers in the same order; more
    (or fewer) ticked: the list again, with the reason and the ticks kept."""
    session = await require_session(request, NOMINATORS)
    contest, selection = services(request).contest, services(request).selection
    edition, _ = await contest.edition(request.path_params["year"])
    raw = request.query_params.getlist("idea")
    try:
        ticked = [inputs.whole_number(value, "idea") for value in raw[:50]]  # a list's worth
        picked = check_compared(ticked if len(raw) <= 50 else list(range(len(raw))))
    except BadRequest as problem:
        numbers = [n for v in raw[:50] if (n := inputs.parse_whole(v)) is not None]
        return await _idea_list(request, session, error_text(problem), numbers, problem.status)
    ideas = []
    for idea_id in picked:
        idea = await contest.idea(idea_id)
        if idea.year != edition.year or not _visible(session, idea):
            raise NotFound(N_("There is no idea number %(number)s."), number=idea.id)
        ideas.append(idea)
    nominations = {n.idea_id: n for n in await selection.nominations(edition.year)}
    directory = await contest.directory()
    return render_contest(
        request, "contest/compare.html", session, edition=edition, ideas=ideas,
        nominations=nominations, networks=directory.networks,
        states={i.id: idea_state(i, nominations) for i in ideas},
        status=request.query_params.get("status", ""),
    )  # fmt: skip


async def idea_page(
    request: Request, session: Session | None = None, error: str | None = None,
    status_code: int = 200, values: dict[str, str] | None = None, error_field: str | None = None,
) -> Response:  # fmt: skip
    """An idea with its routing and nomination forms; after a refusal, what was typed."""
    session = session or await require_session(request, NOMINATORS)
    contest, selection = services(request).contest, services(request).selection
    edition, _ = await contest.edition(request.path_params["year"])
    idea = await contest.idea(request.path_params["idea_id"])
    if idea.year != edition.year or not _visible(session, idea):
        raise NotFound(N_("There is no idea number %(number)s."), number=idea.id)
    nominations = await selection.nominations(edition.year)
    directory = await contest.directory()
    return render_contest(
        request, "contest/idea.html", session, status_code=status_code, edition=edition,
        idea=idea, error=error, error_field=error_field, values=values or {},
        limits={"note": ROUTING_NOTE_MAX, "rationale": RATIONALE_MAX},
        networks=directory.networks, stage=edition.stage(contest.clock()),
        nomination=next((n for n in nominations if n.idea_id == idea.id), None),
        network_places=places_left(sum(1 for n in nominations if n.network_id == idea.network_id)),
        attachments=await Attachments(contest.store).list(idea.id),
    )  # fmt: skip


async def idea_action(request: Request) -> Response:
    """Re-route (organisers), nominate or withdraw (the network's coordinator)."""
    session = await require_session(request, NOMINATORS)
    contest, selection = services(request).contest, services(request).selection
    year, idea_id = request.path_params["year"], request.path_params["idea_id"]
    action = request.path_params["action"]
    async with request.form(**FORM_LIMITS) as form:
        check_csrf(session, form)
        values = {k: str(v) for k, v in form.items()}
    try:
        if action == "reroute":
            if session.user.role is not Role.ORGANISER:
                raise Forbidden(N_("Your account may not do this."))
            target = values.get("network_id") or None
            await contest.reroute(session.user.email, idea_id, target, values.get("note", ""))
        elif action == "nominate":
            await selection.nominate(session.user, year, idea_id, values.get("rationale", ""))
        elif action == "withdraw":
            await selection.withdraw(session.user, year, idea_id)
        else:
            raise BadRequest(N_("Unknown action %(action)s."), action=action)
    except LiveError as problem:
        if problem.status in (403, 404):
            raise  # not theirs to see: the plain error page, not the idea
        return await idea_page(
            request, session, error_text(problem), problem.status, values, problem.field
        )
    return RedirectResponse(
        f"/admin/contest/{year}/ideas/{idea_id}",
        status_code=303,
        background=news_later(request, idea_id),  # its sender is told, after the answer
    )


routes = [
    Route("/admin/contest", contest_home, name="contest_home"),
    Route("/admin/contest/new", edition_form, methods=["GET", "POST"], name="new_edition"),
    Route("/admin/contest/{year:id}", edition_page, name="edition"),
    Route("/admin/contest/{year:id}/edit", edition_form, methods=["GET", "POST"],
          name="edit_edition"),
    Route("/admin/contest/{year:id}/ideas", idea_list, name="idea_list"),
    Route("/admin/contest/{year:id}/compare", compare, name="compare_ideas"),
    Route("/admin/contest/{year:id}/ideas/{idea_id:id}", idea_page, name="idea_detail"),
    Route("/admin/contest/{year:id}/ideas/{idea_id:id}/{action:str}", idea_action,
          methods=["POST"], name="idea_action"),
]  # fmt: skip
