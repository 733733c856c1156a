"""The jury's pages and the way to the finale: criteria, score sheets, the ranking,
the finalists and the one action that creates the finale poll."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import inputs
from live.contest.jury import SCALE_DIGITS, Criterion, parse_criterion
from live.contest.selection import COMMENT_MAX
from live.errors import N_, BadRequest, LiveError, NotFound
from live.store.models import Role, Session
from live.web.admin import FORM_LIMITS
from live.web.auth import ORGANISERS, check_csrf, require_session
from live.web.contest_admin import error_text, render_contest
from live.web.services import services

JURY = frozenset({Role.JURY})
MAX_CRITERIA = 20
CRITERION_FIELDS = ("id", "text", "weight", "scale_min", "scale_max")
CRITERION_ID_MAX, CRITERION_TEXT_MAX = 40, 300  # characters


async def jury_list(request: Request) -> Response:
    """A member's nominees, each with the state of their own sheet."""
    session = await require_session(request, JURY)
    contest, selection = services(request).contest, services(request).selection
    edition, _ = await contest.edition(request.path_params["year"])
    nominations = await selection.nominations(edition.year)
    mine = {s.idea_id: s for s in await selection.sheets(edition.year)
            if s.member_id == session.user.id}  # fmt: skip
    nominees = [await contest.idea(n.idea_id) for n in nominations]
    return render_contest(request, "contest/jury.html", session, edition=edition,
                          nominees=nominees, sheets=mine, criteria=edition.criteria,
                          stage=edition.stage(contest.clock()))  # fmt: skip


async def sheet_form(request: Request) -> Response:
    session = await require_session(request, JURY)
    contest, selection = services(request).contest, services(request).selection
    edition, _ = await contest.edition(request.path_params["year"])
    idea = await contest.idea(request.path_params["idea_id"])
    nominated = {n.idea_id for n in await selection.nominations(edition.year)}
    if idea.year != edition.year or idea.id not in nominated:
        raise NotFound(N_("There is no idea number %(number)s."), number=idea.id)
    sheet = next((s for s in await selection.sheets(edition.year)
                  if s.idea_id == idea.id and s.member_id == session.user.id), None)  # fmt: skip
    values = {f"score_{k}": str(v) for k, v in (sheet.scores if sheet else {}).items()}
    values |= {"comment": sheet.comment if sheet else "",
               "conflict": "yes" if sheet and sheet.conflict else ""}  # fmt: skip
    error, field, status = None, None, 200
    if request.method == "POST":
        async with request.form(**FORM_LIMITS) as form:
            check_csrf(session, form)
            values = {k: str(v) for k, v in form.items()}
        scores = {c.id: values.get(f"score_{c.id}", "") for c in edition.criteria}
        try:
            _check_readable(edition.criteria, scores)
            await selection.save_sheet(session.user, edition.year, idea.id, scores,
                                       values.get("comment", ""),
                                       values.get("conflict") == "yes")  # fmt: skip
            return RedirectResponse(f"/admin/contest/{edition.year}/jury?saved={idea.id}",
                                    status_code=303)  # fmt: skip
        except LiveError as problem:
            error, field, status = error_text(problem), problem.field, problem.status
    return render_contest(
        request,
        "contest/sheet.html",
        session,
        status_code=status,
        edition=edition,
        idea=idea,
        values=values,
        error=error,
        error_field=field,
        stage=edition.stage(contest.clock()),
        comment_max=COMMENT_MAX,
    )


def _check_readable(criteria: tuple[Criterion, ...], scores: dict[str, str]) -> None:
    """BadRequest for a score that is not a whole number in ASCII digits of a scale's
    length: past `int()`'s digit limit one would crash the sheet's own check of the scale."""
    for criterion in criteria:
        raw = scores[criterion.id].strip()
        if raw and inputs.parse_whole(raw, SCALE_DIGITS, signed=True) is None:
            raise BadRequest(
                N_("Give a whole number from %(min)s to %(max)s."),
                f"score_{criterion.id}",
                min=criterion.scale_min,
                max=criterion.scale_max,
            )


def _unreadable(fields: dict[str, str]) -> str:
    """Which number of a criterion's row cannot be read: the weight or an end of the scale."""
    if inputs.parse_decimal(fields["weight"]) is None:
        return "weight"
    lowest = inputs.parse_whole(fields["scale_min"], SCALE_DIGITS, signed=True)
    return "scale_min" if lowest is None else "scale_max"


def _criteria_from(values: dict[str, str]) -> tuple[Criterion, ...]:
    criteria = []
    for row in range(1, MAX_CRITERIA + 1):
        fields = {k: values.get(f"{k}_{row}", "").strip() for k in CRITERION_FIELDS}
        if not any(fields.values()):
            continue
        if len(fields["id"]) > CRITERION_ID_MAX:
            raise BadRequest(
                N_("Row %(row)s: the id is too long: at most %(limit)s characters."),
                f"id_{row}",
                row=row,
                limit=CRITERION_ID_MAX,
            )
        if len(fields["text"]) > CRITERION_TEXT_MAX:
            raise BadRequest(
                N_("Row %(row)s: the criterion is too long: at most %(limit)s characters."),
                f"text_{row}",
                row=row,
                limit=CRITERION_TEXT_MAX,
            )
        criterion = parse_criterion(
            fields["id"], fields["text"], fields["weight"], fields["scale_min"], fields["scale_max"]
        )
        if criterion is None:
            raise BadRequest(
                N_("Row %(row)s: give a number for the weight and whole numbers for the scale."),
                f"{_unreadable(fields)}_{row}",
                row=row,
            )
        if not criterion.id or not criterion.text:
            raise BadRequest(N_("Row %(row)s: give both a short id and the text."), row=row)
        if criterion.weight <= 0 or criterion.scale_min >= criterion.scale_max:
            raise BadRequest(N_("Row %(row)s: the weight must be above zero and the scale's "
                                "lowest value below its highest."), row=row)  # fmt: skip
        criteria.append(criterion)
    if not criteria:
        raise BadRequest(N_("Keep at least one criterion."))
    if len({c.id for c in criteria}) != len(criteria):
        raise BadRequest(N_("Each criterion needs its own id."))
    return tuple(criteria)


async def criteria(request: Request) -> Response:
    """Organisers edit the criteria sheet, until the jury saves its first score."""
    session = await require_session(request, ORGANISERS)
    contest, selection = services(request).contest, services(request).selection
    edition, version = await contest.edition(request.path_params["year"])
    rows: list[Criterion | dict[str, str] | None] = list(edition.criteria)
    error, field, status = None, None, 200
    if request.method == "POST":
        async with request.form(**FORM_LIMITS) as form:
            check_csrf(session, form)
            values = {k: str(v) for k, v in form.items()}
        try:
            new = _criteria_from(values)
            version = inputs.whole_number(values.get("version"), "version", default=0)
            await selection.save_criteria(session.user.email, edition.year, new, version)
            return RedirectResponse(f"/admin/contest/{edition.year}/criteria?saved=1",
                                    status_code=303)  # fmt: skip
        except LiveError as problem:
            error, field, status = error_text(problem), problem.field, problem.status
            rows = _typed_rows(values)
    locked = bool(await selection.sheets(edition.year))
    return render_contest(request, "contest/criteria.html", session, status_code=status,
                          edition=edition, version=version, rows=rows, error=error,
                          error_field=field, locked=locked, blank=MAX_CRITERIA - len(rows),
                          id_max=CRITERION_ID_MAX, text_max=CRITERION_TEXT_MAX,
                          saved="saved" in request.query_params)  # fmt: skip


def _typed_rows(values: dict[str, str]) -> list[Criterion | dict[str, str] | None]:
    """The rows as they were typed, each in its place, to show again beside the error."""
    rows = [
        {k: values.get(f"{k}_{row}", "") for k in CRITERION_FIELDS}
        for row in range(1, MAX_CRITERIA + 1)
    ]
    while rows and not any(rows[-1].values()):
        rows.pop()
    return [row if any(row.values()) else None for row in rows]


async def ranking(
    request: Request, session: Session | None = None, error: str | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    session = session or await require_session(request, ORGANISERS)
    contest, selection = services(request).contest, services(request).selection
    edition, _ = await contest.edition(request.path_params["year"])
    ranked = await selection.ranking(edition.year)
    chosen = await selection.finalists(edition.year)
    preselected = chosen or [r.idea.id for r in ranked if r.result][: edition.finalists]
    directory = await contest.directory()
    return render_contest(request, "contest/ranking.html", session, status_code=status_code,
                          edition=edition, ranked=ranked, chosen=chosen,
                          preselected=preselected, error=error, networks=directory.networks,
                          stage=edition.stage(contest.clock()))  # fmt: skip


async def finalists_action(request: Request) -> Response:
    """Save the finalists, or create the finale poll from them."""
    session = await require_session(request, ORGANISERS)
    selection = services(request).selection
    year = request.path_params["year"]
    async with request.form(**FORM_LIMITS) as form:
        check_csrf(session, form)
        chosen = form.getlist("idea")
    try:
        picked = [inputs.whole_number(value, "idea") for value in chosen]
        if request.path_params["action"] == "select":
            await selection.select_finalists(session.user.email, year, picked)
        elif request.path_params["action"] == "poll":
            poll = await selection.create_finale_poll(session.user.email, year)
            return RedirectResponse(f"/admin/polls/{poll.id}", status_code=303)
        else:
            raise NotFound(N_("The page was not found."))
    except LiveError as problem:
        return await ranking(request, session, error_text(problem), problem.status)
    return RedirectResponse(f"/admin/contest/{year}/ranking", status_code=303)


routes = [
    Route("/admin/contest/{year:id}/jury", jury_list, name="jury_list"),
    Route("/admin/contest/{year:id}/jury/{idea_id:id}", sheet_form, methods=["GET", "POST"],
          name="sheet"),
    Route("/admin/contest/{year:id}/criteria", criteria, methods=["GET", "POST"],
          name="criteria"),
    Route("/admin/contest/{year:id}/ranking", ranking, name="ranking"),
    Route("/admin/contest/{year:id}/finalists/{action:str}", finalists_action,
          methods=["POST"], name="finalists_action"),
]  # fmt: skip
