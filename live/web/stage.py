"""The stage screen: the page on the projector, its QR code, and the live stream."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from live.errors import LiveError, NotFound
from live.finale.hub import Feed
from live.store.codes import normalise_code
from live.store.models import Role
from live.web.auth import current_session
from live.web.services import services

log = logging.getLogger("live.stage")

CLOSE_NOT_FOUND = 4404
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_TRY_AGAIN_LATER = 1013


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
    return services(request).templates.render(
        request, "stage.html",
        {"poll": poll, "join_url": url, "join_host": parts.netloc, "join_path": parts.path},
    )  # fmt: skip


async def stage_qr(request: Request) -> Response:
    poll = await services(request).polls.find(normalise_code(request.path_params["code"]))
    svg = await asyncio.to_thread(_qr_svg, join_url(request, poll.code))
    return Response(svg, media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=300"})  # fmt: skip


def _origin_allowed(websocket: WebSocket) -> bool:
    """Browsers always send Origin on websockets; it must be this site (or our public URL)."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser (scripts, monitors): nothing to protect against
    allowed = {websocket.headers.get("host", "")}
    public = services(websocket).settings.public_url
    if public:
        allowed.add(urlsplit(public).netloc)
    return urlsplit(origin).netloc in allowed


async def stream(websocket: WebSocket) -> None:
    """Full snapshots of one poll: one on connect, then one per change (coalesced)."""
    if not _origin_allowed(websocket):
        await websocket.close(code=CLOSE_FORBIDDEN_ORIGIN)
        return
    try:
        poll = await services(websocket).polls.find(normalise_code(websocket.path_params["code"]))
        session = await current_session(websocket)
    except NotFound:
        await websocket.close(code=CLOSE_NOT_FOUND)
        return
    except LiveError:  # the store is unreachable: the screen retries with backoff
        await websocket.close(code=CLOSE_TRY_AGAIN_LATER)
        return
    full = session is not None and session.user.role in (Role.ORGANISER, Role.HOST)
    await websocket.accept()
    async with services(websocket).hub.subscribe(poll.id) as feed:
        sender = asyncio.create_task(_send_updates(websocket, feed, full))
        try:
            while True:  # the client says nothing; this only notices it leaving
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
        except WebSocketDisconnect:
            pass
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender


async def _send_updates(websocket: WebSocket, feed: Feed, full: bool) -> None:
    generation = -1
    while True:
        if feed.generation != generation:
            generation = feed.generation
            await websocket.send_text(feed.payload(full))
        await feed.wait_newer(generation)


routes = [
    Route("/s/{code}", stage_page, name="stage"),
    Route("/s/{code}/qr.svg", stage_qr, name="stage_qr"),
    WebSocketRoute("/p/{code}/stream", stream, name="stream"),
]
