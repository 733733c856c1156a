"""The stage screen: the page on the projector, its QR code, and the live stream.

Before voting opens and while it is open, the stage states the rules in one line under
the title (method and k, the tie rule, who may vote); once the reveal is complete it
shows the bulletin's digest and where the full list is, and never before."""

from __future__ import annotations

import asyncio
import functools
import io
import logging
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from live import i18n
from live.errors import N_, LiveError, NotFound
from live.finale import views
from live.finale.bulletin import digest_for
from live.store.codes import normalise_code
from live.store.models import Eligibility, Poll, TieRule
from live.tally import Method
from live.web.feeds import (
    CLOSE_FORBIDDEN_ORIGIN,
    CLOSE_NOT_FOUND,
    CLOSE_TRY_AGAIN_LATER,
    origin_allowed,
    serve_view,
)
from live.web.services import services

log = logging.getLogger("live.stage")


@functools.lru_cache(maxsize=256)
def _qr_svg(url: str) -> bytes:
    image = qrcode.make(
        url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
    )  # fmt: skip
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def join_url(request: Request, code: str) -> str:
    return services(request).absolute(request, f"/p/{code}")


def rules_line(poll: Poll) -> str:
    """The poll's rules in one line, as the stage states them before the result."""
    if poll.method is Method.SINGLE:
        how = i18n.gettext(N_("Vote for one finalist"))
    elif poll.method is Method.RANKED:
        how = i18n.gettext(N_("Rank up to three"))
    else:
        how = i18n.gettext(N_("Tick up to %(number)s"), number=poll.choice_limit)
    if poll.tie_rule is TieRule.LOTS:
        tie = i18n.gettext(N_("A tie is decided by drawing lots"))
    else:
        tie = i18n.gettext(N_("A tie is decided by the organisers"))
    parts = [how, tie]
    if poll.eligibility is Eligibility.BADGE:
        parts.append(i18n.gettext(N_("Only for badge holders")))
    return " · ".join(parts)


def short_digest(digest: str) -> str:
    """A digest short enough for the stage: its start and end (the bulletin has it whole)."""
    algorithm, _, hexdigest = digest.partition(":")
    return f"{algorithm}:{hexdigest[:8]}…{hexdigest[-4:]}" if len(hexdigest) > 12 else digest


async def stage_page(request: Request) -> Response:
    code = normalise_code(request.path_params["code"])
    poll = await services(request).polls.find(code)
    if request.path_params["code"] != poll.code:
        return RedirectResponse(f"/s/{poll.code}", status_code=301)
    url = join_url(request, poll.code)
    parts = urlsplit(url)
    theme = await services(request).theme.current()
    digest = None
    if poll.reveal_complete:
        digest = await digest_for(services(request).store, poll)
    return services(request).templates.render(
        request, "stage.html",
        {"poll": poll, "join_url": url, "join_host": parts.netloc, "join_path": parts.path,
         "theme": theme, "rules": rules_line(poll),
         "digest": short_digest(digest) if digest else "",
         "bulletin": f"{parts.netloc}{parts.path}/bulletin"},
    )  # fmt: skip


async def stage_qr(request: Request) -> Response:
    poll = await services(request).polls.find(normalise_code(request.path_params["code"]))
    svg = await asyncio.to_thread(_qr_svg, join_url(request, poll.code))
    return Response(svg, media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=300"})  # fmt: skip


async def _stream(websocket: WebSocket, kind: str) -> None:
    if not origin_allowed(websocket):
        await websocket.close(code=CLOSE_FORBIDDEN_ORIGIN)
        return
    try:
        poll = await services(websocket).polls.find(normalise_code(websocket.path_params["code"]))
    except NotFound:
        await websocket.close(code=CLOSE_NOT_FOUND)
        return
    except LiveError:  # the store is unreachable: the screen retries with backoff
        await websocket.close(code=CLOSE_TRY_AGAIN_LATER)
        return
    await serve_view(websocket, poll.id, kind)


async def stream(websocket: WebSocket) -> None:
    """The public view, whoever is logged in on that browser: the stage shows only what
    the host has chosen to show."""
    await _stream(websocket, views.STAGE)


async def updates(websocket: WebSocket) -> None:
    """The phones' view: status, closing time and revealed places; votes send nothing."""
    await _stream(websocket, views.PHONE)


routes = [
    Route("/s/{code}", stage_page, name="stage"),
    Route("/s/{code}/qr.svg", stage_qr, name="stage_qr"),
    WebSocketRoute("/p/{code}/stream", stream, name="stream"),
    WebSocketRoute("/p/{code}/updates", updates, name="updates"),
]
