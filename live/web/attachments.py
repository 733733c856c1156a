"""An idea's files on the web: sent and removed through the idea's private link while the
idea may change, downloaded through that link or by the people who judge the idea.

Who may download, besides the link's holder: organisers; the coordinators of the idea's
network while the idea is submitted (as they see it in `contest_admin`); and the jury
members assigned to it once it is a nominee (as on their score sheet). Anyone else gets
404, so that the answer does not say whether the file exists.

A file is always served as a download, never shown inline: with the type its bytes were
checked to be, `nosniff`, a Content-Security-Policy of `sandbox`, and no caching.
"""

from __future__ import annotations

from urllib.parse import quote

from babel.numbers import format_decimal
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from live import i18n
from live.contest.attachments import FILE_MAX_BYTES, MEGABYTE, Attachment, Attachments
from live.contest.editions import Stage
from live.contest.jury_work import JuryWork
from live.contest.records import Idea, form_actor
from live.errors import N_, BadRequest, LiveError, NotFound, PayloadTooLarge, TooManyRequests
from live.store.models import Role, Session
from live.web import limits
from live.web.auth import EVERYONE, require_session
from live.web.contest_public import private_page
from live.web.security import BodyLimitMiddleware
from live.web.services import services

# One file and a few bytes of form around it; the whole request is capped (`BodyLimits`).
UPLOAD_LIMITS = {"max_fields": 5, "max_files": 1, "max_part_size": 1024}
UPLOAD_BODY_MAX = FILE_MAX_BYTES + 64 * 1024
SERVED_POLICY = "sandbox"
UPLOADS_PER_ADDRESS = limits.Limit(
    "attachment-address",
    60,
    10 * 60,
    N_("Too many files sent from your network just now. Wait %(minutes)s min and try again."),
)


def problem_text(problem: LiveError) -> str:
    """The problem in the reader's language, with sizes in the reader's decimal format."""
    language = i18n.current_language()
    params = {
        name: format_decimal(value, format="0.#", locale=language)
        if isinstance(value, float)
        else value
        for name, value in problem.params.items()
    }
    if "types" in params:  # the accepted types, a msgid of their own
        params["types"] = i18n.gettext(str(params["types"]))
    return i18n.gettext(problem.message, **params)


def attachments_of(request: Request) -> Attachments:
    return Attachments(services(request).store)


async def _changeable(request: Request) -> Idea:
    """The idea of the private link, if it may still change (before the deadline)."""
    contest = services(request).contest
    idea = await contest.idea_by_link(request.path_params["link"])
    edition, _ = await contest.edition(idea.year)
    edition.require(Stage.SUBMISSION, contest.clock())
    return idea


def _back(request: Request, notice: str) -> Response:
    path = request.app.url_path_for("idea_link", link=request.path_params["link"])
    return RedirectResponse(f"{path}?{notice}=1#attachments", status_code=303)


async def upload_attachment(request: Request) -> Response:
    """Attach one file; on a problem, the private page again with the problem shown."""
    contest = services(request).contest
    idea = await contest.idea_by_link(request.path_params["link"])
    try:
        idea = await _changeable(request)
        await limits.check(contest.store, UPLOADS_PER_ADDRESS, limits.address_of(request))
        try:
            async with request.form(**UPLOAD_LIMITS) as form:
                upload = form.get("file")
                if not isinstance(upload, UploadFile) or not upload.filename:
                    raise BadRequest(N_("Choose a file to attach."), field="file")
                filename = upload.filename
                content = await upload.read(FILE_MAX_BYTES + 1)
        except PayloadTooLarge:
            raise PayloadTooLarge(
                N_("The file is larger than %(limit)s MB, the most a file may be."),
                field="file",
                limit=FILE_MAX_BYTES // MEGABYTE,
            ) from None
        await attachments_of(request).add(idea.id, filename, content, actor=form_actor(idea.id))
    except LiveError as problem:
        if problem.status >= 500:
            raise
        page = await private_page(request, idea, problem_text(problem), problem.status)
        if isinstance(problem, TooManyRequests):
            page.headers["Retry-After"] = str(problem.retry_after)
        return page
    return _back(request, "attached")


async def remove_attachment(request: Request) -> Response:
    contest = services(request).contest
    idea = await contest.idea_by_link(request.path_params["link"])
    try:
        idea = await _changeable(request)
        await attachments_of(request).remove(
            idea.id, request.path_params["number"], actor=form_actor(idea.id)
        )
    except LiveError as problem:
        if problem.status >= 500:
            raise
        return await private_page(request, idea, problem_text(problem), problem.status)
    return _back(request, "detached")


def _download(attachment: Attachment, content: bytes) -> Response:
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in attachment.name
    )
    headers = {
        "Content-Disposition": (
            f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(attachment.name)}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": SERVED_POLICY,
        "Cache-Control": "private, no-store",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    return Response(content, media_type=attachment.media_type, headers=headers)


async def attachment_by_link(request: Request) -> Response:
    """A file, for whoever holds the idea's private link (after the deadline too)."""
    idea = await services(request).contest.idea_by_link(request.path_params["link"])
    return _download(*await attachments_of(request).read(idea.id, request.path_params["number"]))


async def may_see(request: Request, session: Session, idea: Idea) -> bool:
    """Whether a logged-in person may download the idea's files (see the module's doc)."""
    user = session.user
    if user.role is Role.ORGANISER:
        return True
    if user.role is Role.COORDINATOR:
        return (
            idea.status == "submitted"
            and idea.network_id is not None
            and idea.network_id == user.network_id
        )
    if user.role is Role.JURY:
        board = await JuryWork(services(request).selection).board(idea.year)
        return any(i.id == idea.id for i in board.nominees) and board.assignments.assigned(
            idea.id, user.id
        )
    return False


async def attachment_for_staff(request: Request) -> Response:
    """A file, for organisers, the idea's coordinators and its jury; 404 for anyone else."""
    session = await require_session(request, EVERYONE)
    idea = await services(request).contest.idea(request.path_params["idea_id"])
    if idea.year != request.path_params["year"] or not await may_see(request, session, idea):
        raise NotFound(N_("There is no such file."))
    return _download(*await attachments_of(request).read(idea.id, request.path_params["number"]))


upload_route = Route(
    "/ideer/lenke/{link:str}/vedlegg", upload_attachment, methods=["POST"], name="upload_attachment"
)
routes = [
    upload_route,
    Route(
        "/ideer/lenke/{link:str}/vedlegg/{number:id}", attachment_by_link, name="attachment_by_link"
    ),
    Route(
        "/ideer/lenke/{link:str}/vedlegg/{number:id}/fjern",
        remove_attachment,
        methods=["POST"],
        name="remove_attachment",
    ),
    Route(
        "/admin/contest/{year:id}/ideas/{idea_id:id}/attachments/{number:id}",
        attachment_for_staff,
        name="attachment_for_staff",
    ),
]


class BodyLimits:
    """The usual cap on request bodies, and room for one file on the upload route only."""

    def __init__(self, app: ASGIApp) -> None:
        self._usual = BodyLimitMiddleware(app)
        self._upload = BodyLimitMiddleware(app, UPLOAD_BODY_MAX)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        upload = scope["type"] == "http" and upload_route.matches(scope)[0] is Match.FULL
        await (self._upload if upload else self._usual)(scope, receive, send)
