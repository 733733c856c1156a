"""For the machines that watch the service: liveness, readiness and Prometheus metrics.

- `/healthz`: the process answers and its own part of the store works (SQLite: the
  writer thread takes writes). 503 otherwise: restart the process.
- `/readyz`: the store is reachable and takes a durable write now. 503 otherwise: send
  no traffic here for the moment (nothing needs restarting; it recovers by itself).
- `/metrics`: Prometheus text format (`live.metrics`). Answered to requests from this
  machine (loopback) without credentials, or, when `LIVE_METRICS_TOKEN` is set, only to
  `Authorization: Bearer TOKEN`, from anywhere.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from live import metrics
from live.errors import N_, Forbidden
from live.web.services import services

log = logging.getLogger("live.web.ops")

READY_TIMEOUT_SECONDS = 5.0


async def healthz(request: Request) -> Response:
    if services(request).store.is_alive():
        return PlainTextResponse("ok\n")
    return PlainTextResponse("unhealthy: the store's writer in this process is down\n", 503)


async def readyz(request: Request) -> Response:
    try:
        await asyncio.wait_for(
            services(request).store.check_writable(), timeout=READY_TIMEOUT_SECONDS
        )
    except TimeoutError:
        log.warning("not ready: the store took no write within %s s", READY_TIMEOUT_SECONDS)
        return PlainTextResponse("not ready: the store did not answer in time\n", 503)
    except Exception as error:
        log.warning("not ready: %s", error)
        return PlainTextResponse("not ready: the store cannot be written\n", 503)
    return PlainTextResponse("ready\n")


def _may_read_metrics(request: Request) -> bool:
    token = services(request).settings.metrics_token
    if token is not None:
        sent = request.headers.get("authorization", "").encode()
        return hmac.compare_digest(sent, f"Bearer {token.reveal()}".encode())
    if request.client is None:
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


async def metrics_page(request: Request) -> Response:
    if not _may_read_metrics(request):
        raise Forbidden(
            N_(
                "Metrics are shown only on this machine, or with the token set in "
                "LIVE_METRICS_TOKEN."
            )
        )
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)


routes = [
    Route("/healthz", healthz, name="healthz"),
    Route("/readyz", readyz, name="readyz"),
    Route("/metrics", metrics_page, name="metrics"),
]
