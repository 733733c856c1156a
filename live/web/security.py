"""Response headers that lock pages down, the Host names answered, a cap on request bodies."""

from __future__ import annotations

import functools
import ipaddress
import json
import socket
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from live import i18n
from live.errors import N_, PayloadTooLarge

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

MAX_BODY_BYTES = 256 * 1024
HSTS = "max-age=31536000"


class SecurityHeadersMiddleware:
    """Headers on every answer; behind https (LIVE_PUBLIC_URL, or the request's own
    scheme) also HSTS, and `Secure` on every cookie, whichever handler set it."""

    def __init__(self, app: ASGIApp, https: bool = False) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = self.https or scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Cache-Control", "no-store")
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
                    message["headers"] = list(_secure_cookies(message["headers"]))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _secure_cookies(headers: Iterable[tuple[bytes, bytes]]) -> Iterable[tuple[bytes, bytes]]:
    for name, value in headers:
        if name.lower() == b"set-cookie" and b"secure" not in value.lower().split(b"; "):
            value += b"; Secure"
        yield name, value


class AllowedHostsMiddleware:
    """Answers only requests (and websockets) whose Host header names this service.

    Links, the stage's join address and its QR code are built from the Host header when
    LIVE_PUBLIC_URL is unset; a forged one would plant another site's address in them."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str], own_addresses: bool = False) -> None:
        self.app = app
        self.hosts = frozenset(hosts)
        self.own_addresses = own_addresses

    def allowed(self, host_header: str | None) -> bool:
        if host_header is None or "*" in self.hosts:
            return True  # no Host header (HTTP/1.0): links come from the server's address
        host = _host_name(host_header)
        if host in self.hosts or any(
            name.startswith(".") and (host == name[1:] or host.endswith(name))
            for name in self.hosts
        ):
            return True
        return self.own_addresses and _is_own_address(host)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = dict(scope["headers"]).get(b"host")
        host = raw.decode("latin-1") if raw is not None else None
        if self.allowed(host):
            await self.app(scope, receive, send)
            return
        message = i18n.gettext(
            N_(
                "This service does not answer to the address %(host)s. Use the address the "
                "organisers gave you."
            ),
            host=host,
        )
        await _refuse(scope, send, message)


async def _refuse(scope: Scope, send: Send, message: str) -> None:
    """400 with the reason: JSON for the API, plain text otherwise (also on a websocket
    handshake where the server can answer it; else the handshake is refused)."""
    if scope["path"].startswith("/api/"):
        body = json.dumps({"error": {"code": "bad_host", "message": message}}).encode()
        kind = b"application/json"
    else:
        body, kind = message.encode() + b"\n", b"text/plain; charset=utf-8"
    headers = [
        (b"content-type", kind),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    elif "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": 400, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})


def _host_name(host_header: str) -> str:
    """The name in a Host header, without its port: `[::1]:8000` -> `::1`."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    name, colon, port = host.rpartition(":")
    return name.rstrip(".") if colon and port.isdigit() and ":" not in name else host.rstrip(".")


@functools.lru_cache(maxsize=256)
def _is_own_address(host: str) -> bool:
    """Whether `host` is an IP address of this machine: one it can bind to."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if address.is_unspecified or address.is_multicast:
        return False
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((str(address), 0))
    except OSError:
        return False
    return True


class BodyLimitMiddleware:
    """Refuses request bodies over `limit` bytes with 413, by header or while reading."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0
        declared = dict(scope["headers"]).get(b"content-length")

        async def limited_receive() -> Message:
            nonlocal received
            if declared is not None and declared.isdigit() and int(declared) > self.limit:
                raise PayloadTooLarge(
                    N_("The request is too large: at most %(limit)s bytes."), limit=self.limit
                )
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise PayloadTooLarge(
                        N_("The request is too large: at most %(limit)s bytes."),
                        limit=self.limit,
                    )
            return message

        await self.app(scope, limited_receive, send)
