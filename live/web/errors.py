"""One place that turns errors into answers: JSON for the API, a page for people."""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.websockets import WebSocket

from live import i18n
from live.errors import N_, LiveError, TooManyRequests, Unauthorized
from live.web.auth import login_url
from live.web.services import services

log = logging.getLogger("live.web")

_HTTP_MESSAGES = {
    404: N_("The page was not found."),
    405: N_("That method is not allowed here."),
}


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return {"error": error}


def _render(request: Request, status: int, code: str, message: str,
            field: str | None = None) -> Response:  # fmt: skip
    if wants_json(request):
        return JSONResponse(error_body(code, message, field), status_code=status)
    return services(request).templates.render(
        request, "error.html", {"status": status, "message": message}, status_code=status
    )


async def on_live_error(request: Request | WebSocket, exc: Exception) -> Response:
    assert isinstance(exc, LiveError) and isinstance(request, Request)
    message = i18n.gettext(exc.message, **exc.params)
    if isinstance(exc, Unauthorized) and not wants_json(request):
        return RedirectResponse(login_url(request), status_code=303)
    response = _render(request, exc.status, exc.code, message, exc.field)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="live"'
    if exc.status == 503:
        response.headers["Retry-After"] = "2"
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def on_http_error(request: Request | WebSocket, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException) and isinstance(request, Request)
    message = i18n.gettext(_HTTP_MESSAGES.get(exc.status_code, N_("The request failed.")))
    response = _render(request, exc.status_code, f"http_{exc.status_code}", message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def on_client_gone(request: Request | WebSocket, exc: Exception) -> Response:
    """A phone lost its connection mid-request: nothing was recorded (the body never
    arrived) and nobody is left to answer. Not a server error, so no traceback."""
    assert isinstance(exc, ClientDisconnect) and isinstance(request, Request)
    log.info("client went away during %s %s", request.method, request.url.path)
    return Response(status_code=400)


async def on_unexpected(request: Request | WebSocket, exc: Exception) -> Response:
    assert isinstance(request, Request)
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    message = i18n.gettext(N_("Something went wrong on our side. Try again in a moment."))
    return _render(request, 500, "internal_error", message)
