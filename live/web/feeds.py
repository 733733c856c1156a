"""The live streams' common part: one websocket serving one view of one poll's feed.

Every stream (the stage's, the phones', the console's) starts with the server's clock, so
a screen can show a countdown with the server's time, then sends the latest payload of
its view on connect and after every change (coalesced by the hub). The client says
nothing; the socket only notices it leaving.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketDisconnect

from live.finale.hub import Feed
from live.store.timestamps import now_ms
from live.web.services import services

CLOSE_NOT_FOUND = 4404
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_UNAUTHORISED = 4401
CLOSE_TRY_AGAIN_LATER = 1013


def origin_allowed(websocket: WebSocket) -> bool:
    """Browsers always send Origin on websockets; it must be this site (or our public URL)."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser (scripts, monitors): nothing to protect against
    allowed = {websocket.headers.get("host", "")}
    public = services(websocket).settings.public_url
    if public:
        allowed.add(urlsplit(public).netloc)
    return urlsplit(origin).netloc in allowed


async def serve_view(websocket: WebSocket, poll_id: int, kind: str) -> None:
    """Accept the socket and keep it up to date with the `kind` view of the poll."""
    await websocket.accept()
    await websocket.send_text(json.dumps({"type": "clock", "now": now_ms()}))
    async with services(websocket).hub.subscribe(poll_id) as feed:
        sender = asyncio.create_task(_send_updates(websocket, feed, kind))
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
        except WebSocketDisconnect:
            pass
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender


async def _send_updates(websocket: WebSocket, feed: Feed, kind: str) -> None:
    generation = -1
    while True:
        if feed.generation(kind) != generation:
            generation = feed.generation(kind)
            await websocket.send_text(feed.payload(kind))
        await feed.wait_newer(kind, generation)
