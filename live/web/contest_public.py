"""What the public meets before the finale: the call, the idea form and its private link.

No account is needed. Saving or submitting an idea gives a signed private link; the
link shows the idea and lets its owner edit it until the submission deadline, which the
server checks on every save.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import i18n
from live.contest import ideas
from live.contest.editions import Edition, Stage, format_local
from live.contest.records import Idea
from live.errors import LiveError, TooManyRequests
from live.web import limits
from live.web.services import services

IDEA_FORM_LIMITS = {"max_fields": 120, "max_files": 0, "max_part_size": 16384}
_LIMITS = {name: limit for name, limit, _ in ideas.TEXT_FIELDS}  # characters, by field


def _answers(form: FormData) -> dict[str, str | list[str]]:
    multi = ("goals", "life_events")
    values: dict[str, str | list[str]] = {k: str(v) for k, v in form.items() if k not in multi}
    for name in multi:
        values[name] = [str(v) for v in form.getlist(name)]
    return values


def _translated(kind: str, options: tuple[ideas.Option, ...]) -> list[tuple[str, str]]:
    return [(o.value, i18n.gettext(ideas.option_msgid(kind, o))) for o in options]


async def _open_edition(request: Request) -> Edition | None:
    """The edition taking ideas now, else the newest."""
    contest = services(request).contest
    editions = await contest.editions()
    now = contest.clock()
    taking = [e for e in editions if e.stage(now) is Stage.SUBMISSION]
    return (taking or editions)[0] if editions else None


async def call_page(request: Request) -> Response:
    edition = await _open_edition(request)
    contest = services(request).contest
    return services(request).templates.render(request, "contest/call.html", {
        "edition": edition, "stage": edition.stage(contest.clock()) if edition else None,
        "format_local": format_local,
    })  # fmt: skip


async def _form_page(
    request: Request, edition: Edition, idea: Idea | None, values: dict[str, Any],
    errors: dict[str, str], status_code: int = 200, notice: str | None = None,
) -> Response:  # fmt: skip
    contest = services(request).contest
    stage = edition.stage(contest.clock())
    return services(request).templates.render(request, "contest/idea_form.html", {
        "edition": edition, "idea": idea, "values": values, "errors": errors,
        "editable": stage is Stage.SUBMISSION, "notice": notice, "limits": _LIMITS,
        "deadline": format_local(edition.submission_deadline),
        "owners": ideas.owner_choices(await contest.directory()),
        "goals": _translated("goal", ideas.GOALS),
        "life_events": _translated("life_event", ideas.LIFE_EVENTS),
        "phases": _translated("phase", ideas.ROADMAP_PHASES),
        "link": services(request).absolute(request, f"/ideer/lenke/{contest.link_for(idea)}")
        if idea else None,
    }, status_code=status_code)  # fmt: skip


async def _save(request: Request, edition: Edition, idea: Idea | None) -> Response:
    """Check and save the posted form; on problems, the form again with each one shown."""
    contest = services(request).contest
    async with request.form(**IDEA_FORM_LIMITS) as form:
        values = _answers(form)
    action = str(values.pop("action", "draft"))
    submitting = action == "submit" or (idea is not None and idea.status == "submitted")
    answers, problems = ideas.check_idea(values, await contest.directory(), submitting=submitting)
    errors = {name: i18n.gettext(p.message, **p.params) for name, p in problems.items()}
    if errors:
        return await _form_page(request, edition, idea, values, errors, status_code=400)
    try:
        await limits.check(contest.store, limits.IDEA_SAVES_PER_ADDRESS, limits.address_of(request))
    except TooManyRequests as refused:
        page = await _form_page(
            request,
            edition,
            idea,
            values,
            {"form": i18n.gettext(refused.message, **refused.params)},
            status_code=refused.status,
        )
        page.headers["Retry-After"] = str(refused.retry_after)
        return page
    try:
        saved = await contest.save_idea(edition.year, idea.id if idea else None, answers,
                                        submit=submitting)  # fmt: skip
    except LiveError as error:
        if error.status >= 500:
            raise
        message = i18n.gettext(error.message, **error.params)
        return await _form_page(request, edition, idea, values, {error.field or "form": message},
                                status_code=error.status)  # fmt: skip
    notice = "submitted" if saved.status == "submitted" else "saved"
    return RedirectResponse(f"/ideer/lenke/{contest.link_for(saved)}?{notice}=1", status_code=303)


async def new_idea(request: Request) -> Response:
    year = request.path_params["year"]
    edition, _ = await services(request).contest.edition(year)
    if request.method == "POST":
        return await _save(request, edition, None)
    return await _form_page(request, edition, None, {}, {})


async def idea_link(request: Request) -> Response:
    """The private link: the idea, editable until the deadline."""
    contest = services(request).contest
    idea = await contest.idea_by_link(request.path_params["link"])
    edition, _ = await contest.edition(idea.year)
    if request.method == "POST":
        return await _save(request, edition, idea)
    notice = next((n for n in ("submitted", "saved") if n in request.query_params), None)
    return await _form_page(request, edition, idea, idea.answers, {}, notice=notice)


routes = [
    Route("/ideer", call_page, name="call"),
    Route("/ideer/{year:id}/ny", new_idea, methods=["GET", "POST"], name="new_idea"),
    Route("/ideer/lenke/{link:str}", idea_link, methods=["GET", "POST"], name="idea_link"),
]
