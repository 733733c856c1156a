"""The public finalist page of an edition, and the organiser's action that publishes it.

The public reads it at `/ideer/{year}/finalister` once an organiser has published it
(404 before); organisers see it at the same address beforehand, marked as a preview.
The ballot of the edition's finale poll links to it (`finale_links`).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live.contest import finalist_page
from live.contest.editions import format_local
from live.contest.finalist_page import FinaleLinks
from live.errors import N_, BadRequest, LiveError, NotFound
from live.store.models import Poll, PollStatus, Role
from live.web.admin import FORM_LIMITS
from live.web.auth import ORGANISERS, check_csrf, current_session, require_session
from live.web.contest_admin import edition_page, error_text
from live.web.services import services


def finale_links(connection: HTTPConnection) -> FinaleLinks:
    """The app's one `FinaleLinks`, made on first use."""
    state = connection.app.state
    found: FinaleLinks | None = getattr(state, "finale_links", None)
    if found is None:
        found = state.finale_links = FinaleLinks(services(connection).store)
    return found


async def finalists_path(connection: HTTPConnection, poll: Poll) -> str | None:
    """The finalist page that `poll`'s ballot links to, if any; answered from memory."""
    year = await finale_links(connection).year_for(poll)
    if year is None:
        return None
    return str(connection.app.url_path_for("finalists_public", year=year))


async def public_page(request: Request) -> Response:
    """The finalists with owner and pitch, the finale's date and place, and a link to vote
    while the finale poll is open."""
    found = services(request)
    contest, selection = found.contest, found.selection
    edition, _ = await contest.edition(request.path_params["year"])
    page = await finalist_page.read_page(found.store, edition.year)
    published = page is not None and page.published
    session = None if published else await current_session(request)
    preview = session is not None and session.user.role is Role.ORGANISER
    if not published and not preview:
        raise NotFound(N_("There is no finalist page for %(year)s yet."), year=edition.year)
    poll = await finalist_page.finale_poll(found.store, edition)
    chosen = [] if poll else await selection.finalists(edition.year)
    entries = await finalist_page.entries(contest, poll, chosen)
    vote_url = None
    if poll is not None and poll.status is PollStatus.OPEN:
        vote_url = request.app.url_path_for("ballot", code=poll.code)
    return found.templates.render(
        request,
        "contest/finalists_public.html",
        {
            "edition": edition,
            "entries": entries,
            "place": page.place if page else "",
            "finale_at": format_local(edition.finale_at),
            "vote_url": vote_url,
            "preview": not published,
        },
    )


async def page_action(request: Request) -> Response:
    """Publish the finalist page (with the finale's place), or take it down."""
    session = await require_session(request, ORGANISERS)
    contest = services(request).contest
    year = request.path_params["year"]
    async with request.form(**FORM_LIMITS) as form:
        check_csrf(session, form)
        values = {k: str(v) for k, v in form.items()}
    try:
        action = values.get("action", "")
        if action == "publish":
            await finalist_page.publish(contest, session.user.email, year, values.get("place", ""))
        elif action == "unpublish":
            await finalist_page.unpublish(contest, session.user.email, year)
        else:
            raise BadRequest(N_("Unknown action %(action)s."), action=action)
    except LiveError as problem:
        if problem.status in (403, 404):
            raise
        return await edition_page(
            request, session, error_text(problem), problem.status, values, problem.field
        )
    finally:
        finale_links(request).forget()
    return RedirectResponse(
        request.app.url_path_for("edition", year=year) + "#finalist-page", status_code=303
    )


routes = [
    Route("/ideer/{year:id}/finalister", public_page, name="finalists_public"),
    Route(
        "/admin/contest/{year:id}/finalist-page",
        page_action,
        methods=["POST"],
        name="finalist_page_action",
    ),
]
