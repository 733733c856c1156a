"""What the public meets before the finale: the call, the idea form and its private link.

No account is needed. Saving or submitting an idea gives a signed private link; the
link shows the idea and where it stands (`notices`), and lets its sender edit or
withdraw it until the submission deadline, which the server checks on every change.
The contact person gets each change by mail, with the link, in the language they used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import i18n
from live.contest import ideas, notices
from live.contest.attachments import (
    FILE_MAX_BYTES,
    IDEA_MAX_BYTES,
    MAX_FILES,
    MEGABYTE,
    Attachments,
)
from live.contest.editions import Edition, Stage, format_local
from live.contest.ideas import IdeaStatus
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


def _link_of(request: Request) -> Callable[[Idea], str]:
    """The absolute private link of an idea, as its sender is given it."""
    contest = services(request).contest

    def link(idea: Idea) -> str:
        path = request.app.url_path_for("idea_link", link=contest.link_for(idea))
        return services(request).absolute(request, str(path))

    return link


def news_later(
    request: Request, idea_id: int, event: notices.Event | None = None
) -> BackgroundTask:
    """Tell the idea's contact person after the answer has gone (their receipt for `event`,
    or the news if the idea's state changed): a hook for the actions that change it."""
    found = services(request)
    link_of = _link_of(request)
    return BackgroundTask(notices.tell, found.settings, found.contest, idea_id, link_of, event)


def edition_news_later(request: Request, year: int) -> BackgroundTask:
    """Tell every sender in the edition whose idea's state changed (finalists chosen)."""
    found = services(request)
    link_of = _link_of(request)
    return BackgroundTask(notices.tell_edition, found.settings, found.contest, year, link_of)


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
    attachment_error: str | None = None,
) -> Response:  # fmt: skip
    contest = services(request).contest
    stage = edition.stage(contest.clock())
    state, withdraw_url = None, None
    if idea is not None:
        standing = await notices.standing(contest, idea, edition)
        heading, explanation = notices.describe(standing, edition, i18n.current_language())
        state = {"name": standing.state.value, "heading": heading, "text": explanation}
        if standing.state is notices.IdeaState.SUBMITTED:
            withdraw_url = request.app.url_path_for("withdraw_idea", link=contest.link_for(idea))
    return services(request).templates.render(request, "contest/idea_form.html", {
        "edition": edition, "idea": idea, "values": values, "errors": errors, "state": state,
        "withdraw_url": withdraw_url,
        "editable": stage is Stage.SUBMISSION, "notice": notice, "limits": _LIMITS,
        "mailing": services(request).settings.smtp_url is not None,
        "deadline": format_local(edition.submission_deadline),
        "owners": ideas.owner_choices(await contest.directory()),
        "goals": _translated("goal", ideas.GOALS),
        "life_events": _translated("life_event", ideas.LIFE_EVENTS),
        "phases": _translated("phase", ideas.ROADMAP_PHASES),
        "link": _link_of(request)(idea) if idea else None,
        "private_link": contest.link_for(idea) if idea else None,
        "attachments": await Attachments(contest.store).list(idea.id) if idea else [],
        "attachment_error": attachment_error, "attachment_notice": next(
            (n for n in ("attached", "detached") if n in request.query_params), None),
        "attachment_limits": {"files": MAX_FILES, "file_mb": FILE_MAX_BYTES // MEGABYTE,
                              "idea_mb": IDEA_MAX_BYTES // MEGABYTE},
    }, status_code=status_code)  # fmt: skip


async def private_page(
    request: Request, idea: Idea, attachment_error: str, status_code: int
) -> Response:
    """The private page of the idea as saved, with a problem with its files shown."""
    edition, _ = await services(request).contest.edition(idea.year)
    return await _form_page(
        request, edition, idea, idea.answers, {}, status_code, attachment_error=attachment_error
    )


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
        saved = await contest.save_idea(
            edition.year,
            idea.id if idea else None,
            answers,
            submit=submitting,
            language=i18n.current_language(),
        )
    except LiveError as error:
        if error.status >= 500:
            raise
        message = i18n.gettext(error.message, **error.params)
        return await _form_page(request, edition, idea, values, {error.field or "form": message},
                                status_code=error.status)  # fmt: skip
    notice, event = "saved", notices.Event.SAVED
    if saved.status is IdeaStatus.SUBMITTED:
        if idea is not None and idea.status is IdeaStatus.SUBMITTED:
            notice, event = "changed", notices.Event.CHANGED
        else:
            notice, event = "submitted", notices.Event.SUBMITTED
    path = request.app.url_path_for("idea_link", link=contest.link_for(saved))
    return RedirectResponse(
        f"{path}?{notice}=1", status_code=303, background=news_later(request, saved.id, event)
    )


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
    notice = next(
        (n for n in ("submitted", "changed", "saved", "withdrawn") if n in request.query_params),
        None,
    )
    return await _form_page(request, edition, idea, idea.answers, {}, notice=notice)


async def withdraw_idea(request: Request) -> Response:
    """Withdraw a submitted idea: a page that says what it means, then the confirmation."""
    contest = services(request).contest
    link = request.path_params["link"]
    idea = await contest.idea_by_link(link)
    edition, _ = await contest.edition(idea.year)
    if request.method == "POST":
        withdrawn = await contest.withdraw_idea(idea.id)
        path = request.app.url_path_for("idea_link", link=link)
        return RedirectResponse(
            f"{path}?withdrawn=1",
            status_code=303,
            background=news_later(request, withdrawn.id, notices.Event.WITHDRAWN),
        )
    edition.require(Stage.SUBMISSION, contest.clock())
    ideas.check_withdrawable(idea.status)
    return services(request).templates.render(
        request,
        "contest/public_withdraw.html",
        {
            "edition": edition,
            "idea": idea,
            "link": link,
            "deadline": format_local(edition.submission_deadline),
        },
    )


routes = [
    Route("/ideer", call_page, name="call"),
    Route("/ideer/{year:id}/ny", new_idea, methods=["GET", "POST"], name="new_idea"),
    Route("/ideer/lenke/{link:str}", idea_link, methods=["GET", "POST"], name="idea_link"),
    Route(
        "/ideer/lenke/{link:str}/trekk",
        withdraw_idea,
        methods=["GET", "POST"],
        name="withdraw_idea",
    ),
]
