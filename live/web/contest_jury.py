"""The jury's pages and the way to the finale: criteria, score sheets, the ranking,
the finalists and the one action that creates the finale poll."""

from __future__ import annotations

import re
import unicodedata

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import i18n, inputs
from live.contest.attachments import Attachments
from live.contest.jury import SCALE_DIGITS, Criterion, PairState, member_total, parse_criterion
from live.contest.jury_work import JuryWork
from live.contest.selection import COMMENT_MAX
from live.errors import N_, BadRequest, Forbidden, LiveError, NotFound
from live.store.models import Role, Session
from live.web import jury_progress
from live.web.admin import FORM_LIMITS
from live.web.auth import ORGANISERS, check_csrf, require_session
from live.web.contest_admin import error_text, render_contest
from live.web.contest_public import edition_news_later
from live.web.services import services

JURY = frozenset({Role.JURY})
MAX_CRITERIA = 20
CRITERION_FIELDS = ("id", "text", "weight", "scale_min", "scale_max")
CRITERION_ID_MAX, CRITERION_TEXT_MAX = 40, 300  # characters
_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a"})  # NFKD leaves these whole


async def jury_list(request: Request) -> Response:
    """A member's nominees, each with the state of their own sheet, and the jury's
    score once their own sheet for it is complete (blind scoring)."""
    session = await require_session(request, JURY)
    contest = services(request).contest
    board = await JuryWork(services(request).selection).board(request.path_params["year"])
    member = session.user
    scores = {r.idea.id: r.result for r in board.ranking()}
    rows = [
        (
            idea,
            board.state(idea, member),
            scores.get(idea.id) if board.sees_others(idea, member) else None,
        )
        for idea in board.assigned_to(member)
    ]
    return render_contest(
        request,
        "contest/jury.html",
        session,
        edition=board.edition,
        rows=rows,
        stage=board.edition.stage(contest.clock()),
    )


async def sheet_form(request: Request) -> Response:
    """A member's sheet for one nominee: the idea first, then the scores. Every score
    that cannot count is reported at once, each beside its field and in a summary."""
    session = await require_session(request, JURY)
    contest, selection = services(request).contest, services(request).selection
    work = JuryWork(selection)
    board = await work.board(request.path_params["year"])
    edition, member = board.edition, session.user
    idea = board.nominee(request.path_params["idea_id"])
    if not board.assignments.assigned(idea.id, member.id):
        raise Forbidden(N_("You are not assigned to score this nominee."))
    state = board.state(idea, member)
    sheet = board.sheets.get((idea.id, member.id))
    values = {f"score_{k}": str(v) for k, v in (sheet.scores if sheet else {}).items()}
    values |= {"comment": sheet.comment if sheet else "",
               "conflict": "yes" if sheet and sheet.conflict else ""}  # fmt: skip
    errors: dict[str, str] = {}
    error, status = None, 200
    if request.method == "POST":
        async with request.form(**FORM_LIMITS) as form:
            check_csrf(session, form)
            values = {k: str(v) for k, v in form.items()}
        scores = {c.id: values.get(f"score_{c.id}", "") for c in edition.criteria}
        conflict = values.get("conflict") == "yes"
        try:
            if state is PairState.NETWORK_CONFLICT:
                raise Forbidden(
                    N_("You are from the nominee's own network, so you do not score it.")
                )
            errors = sheet_errors(edition.criteria, scores, values.get("comment", ""), conflict)
            if not errors:
                await selection.save_sheet(
                    member, edition.year, idea.id, scores, values.get("comment", ""), conflict
                )
                await work.remember_language(member, i18n.current_language())
                return RedirectResponse(
                    f"/admin/contest/{edition.year}/jury?saved={idea.id}", status_code=303
                )
            status = 400
        except LiveError as problem:
            error, status = error_text(problem), problem.status
            if problem.field:
                errors, error = {problem.field: error}, None
    others = []
    if board.sees_others(idea, member):
        others = [s for s in board.counted(idea) if s.member_id != member.id]
    return render_contest(
        request,
        "contest/sheet.html",
        session,
        status_code=status,
        edition=edition,
        idea=idea,
        values=values,
        errors=errors,
        error=error,
        state=state,
        others=others,
        totals={s.member_id: member_total(edition.criteria, s.scores) for s in others},
        stage=edition.stage(contest.clock()),
        comment_max=COMMENT_MAX,
        attachments=await Attachments(contest.store).list(idea.id),
    )


def sheet_errors(
    criteria: tuple[Criterion, ...], scores: dict[str, str], comment: str, conflict: bool
) -> dict[str, str]:
    """Every problem with a sheet as typed, by field, in the reader's language: each
    score must be empty or a whole number on its criterion's scale (in ASCII digits of
    a scale's length: past `int()`'s digit limit one would crash), and the comment fit.
    A member who declares a conflict gives no scores, so they are not checked."""
    errors = {}
    for criterion in () if conflict else criteria:
        raw = scores[criterion.id].strip()
        number = inputs.parse_whole(raw, SCALE_DIGITS, signed=True) if raw else None
        if raw and (number is None or not criterion.scale_min <= number <= criterion.scale_max):
            errors[f"score_{criterion.id}"] = i18n.gettext(
                N_("Give a whole number from %(min)s to %(max)s."),
                min=criterion.scale_min,
                max=criterion.scale_max,
            )
    if len(comment) > COMMENT_MAX:
        errors["comment"] = i18n.gettext(
            N_("Write at most %(limit)s characters."), limit=COMMENT_MAX
        )
    return errors


def _unreadable(fields: dict[str, str]) -> str:
    """Which number of a criterion's row cannot be read: the weight or an end of the scale."""
    if inputs.parse_decimal(fields["weight"]) is None:
        return "weight"
    lowest = inputs.parse_whole(fields["scale_min"], SCALE_DIGITS, signed=True)
    return "scale_min" if lowest is None else "scale_max"


def _new_id(text: str, taken: set[str]) -> str:
    """An id for a new criterion, made from its text ("Gevinst for brukerne" gives
    "gevinst-for-brukerne"), unlike every id in `taken`. Ids never show; sheets keep
    their scores under them, so an existing criterion keeps its id."""
    folded = text.casefold().translate(_FOLD)
    folded = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    stem = "-".join(re.findall(r"[a-z0-9]+", folded))[: CRITERION_ID_MAX - 4] or "criterion"
    candidate, number = stem, 1
    while candidate in taken:
        number += 1
        candidate = f"{stem}-{number}"
    return candidate


def _criteria_from(values: dict[str, str]) -> tuple[Criterion, ...]:
    rows = []
    for row in range(1, MAX_CRITERIA + 1):
        fields = {k: values.get(f"{k}_{row}", "").strip() for k in CRITERION_FIELDS}
        if any(value for key, value in fields.items() if key != "id"):  # ids are hidden
            rows.append((row, fields))
    taken = {fields["id"] for _, fields in rows if fields["id"]}
    criteria = []
    for row, fields in rows:
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
        if not fields["text"]:
            raise BadRequest(N_("Row %(row)s: write the criterion."), f"text_{row}", row=row)
        if not fields["id"]:
            fields["id"] = _new_id(fields["text"], taken)
            taken.add(fields["id"])
        criterion = parse_criterion(
            fields["id"], fields["text"], fields["weight"], fields["scale_min"], fields["scale_max"]
        )
        if criterion is None:
            raise BadRequest(
                N_("Row %(row)s: give a number for the weight and whole numbers for the scale."),
                f"{_unreadable(fields)}_{row}",
                row=row,
            )
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
                          text_max=CRITERION_TEXT_MAX,
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
    ranked = (await JuryWork(selection).board(edition.year)).ranking()
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
            told = edition_news_later(request, year)  # finalists and the others are told
            return RedirectResponse(f"/admin/polls/{poll.id}", status_code=303, background=told)
        else:
            raise NotFound(N_("The page was not found."))
    except LiveError as problem:
        return await ranking(request, session, error_text(problem), problem.status)
    told = edition_news_later(request, year)  # those not nominated are told
    return RedirectResponse(f"/admin/contest/{year}/ranking", status_code=303, background=told)


routes = [
    Route("/admin/contest/{year:id}/jury", jury_list, name="jury_list"),
    Route("/admin/contest/{year:id}/jury/{idea_id:id}", sheet_form, methods=["GET", "POST"],
          name="sheet"),
    Route("/admin/contest/{year:id}/criteria", criteria, methods=["GET", "POST"],
          name="criteria"),
    Route("/admin/contest/{year:id}/ranking", ranking, name="ranking"),
    Route("/admin/contest/{year:id}/finalists/{action:str}", finalists_action,
          methods=["POST"], name="finalists_action"),
    *jury_progress.routes,
]  # fmt: skip
