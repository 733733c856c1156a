"""The stage screen: the page on the projector, its QR code, and the live stream."""

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

from live.errors import LiveError, NotFound
from live.finale import views
from live.store.codes import normalise_code
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


async def stage_page(request: Request) -> Response:
    code = normalise_code(request.path_params["code"])
    poll = await services(request).polls.find(code)
    if request.path_params["code"] != poll.code:
        return RedirectResponse(f"/s/{poll.code}", status_code=301)
    url = join_url(request, poll.code)
    parts = urlsplit(url)
    theme = await services(request).theme.current()
    return services(request).templates.render(
        request, "stage.html",
        {"poll": poll, "join_url": url, "join_host": parts.netloc, "join_path": parts.path,
         "theme": theme},
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
