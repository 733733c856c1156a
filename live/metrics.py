"""Prometheus figures for `/metrics`: one registry per process.

What is counted, and where:

- `live_votes_accepted_total`, `live_votes_refused_total{reason}` and
  `live_vote_duration_seconds`: every `POST /p/CODE`, classified by its answer
  (`MetricsMiddleware`), so the vote handler itself pays nothing extra;
- `live_http_request_duration_seconds{method,route}` and
  `live_http_responses_total{method,route,status}`: every request, by route template
  (never the raw path, so the number of series stays bounded);
- `live_stream_subscribers{stream}`: open websockets (stage, phone, console);
- `live_sqlite_writer_up`, `live_sqlite_writer_queue_depth` (read when scraped),
  `live_sqlite_commit_duration_seconds` and `live_sqlite_writer_restarts_total`;
- `live_redis_errors_total{kind}`: Redis unreachable or answering with an error.

Each process counts for itself: with `live serve --workers N` a scrape reaches one worker.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

disable_created_metrics()  # type: ignore[no-untyped-call]  # no `_created` twin per series
REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)

VOTES_ACCEPTED = Counter(
    "live_votes_accepted",
    "Votes recorded, a change of mind and a harmless late retry included.",
    registry=REGISTRY,
)
VOTES_REFUSED = Counter(
    "live_votes_refused",
    "Votes refused, by reason (not_open, bad_choice, bad_token, unknown_poll, too_large, "
    "rate_limited, unavailable, error).",
    ["reason"],
    registry=REGISTRY,
)
VOTE_SECONDS = Histogram(
    "live_vote_duration_seconds",
    "Time to answer a vote, from its request to its answer (durable when recorded).",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "live_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
RESPONSES = Counter(
    "live_http_responses",
    "HTTP answers, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
STREAM_SUBSCRIBERS = Gauge(
    "live_stream_subscribers",
    "Open live streams (websockets), by stream: stage, phone, console.",
    ["stream"],
    registry=REGISTRY,
)
COMMIT_SECONDS = Histogram(
    "live_sqlite_commit_duration_seconds",
    "Time the SQLite writer takes for one batch: its jobs and the durable commit.",
    buckets=_COMMIT_BUCKETS,
    registry=REGISTRY,
)
WRITER_RESTARTS = Counter(
    "live_sqlite_writer_restarts",
    "Times the SQLite writer failed, refused what was pending and started afresh.",
    registry=REGISTRY,
)
REDIS_ERRORS = Counter(
    "live_redis_errors",
    "Redis calls that failed: unreachable (connection, timeout), not_replicated (too few "
    "replicas confirmed a write in time) or error (an error reply).",
    ["kind"],
    registry=REGISTRY,
)


class WatchedWriter(Protocol):
    def writer_alive(self) -> bool: ...
    def queue_depth(self) -> int: ...


_writers: weakref.WeakSet[Any] = weakref.WeakSet()


def watch_writer(writer: WatchedWriter) -> None:
    """Report this SQLite writer's state and queue depth when scraped."""
    _writers.add(writer)


def unwatch_writer(writer: WatchedWriter) -> None:
    _writers.discard(writer)


class _WriterCollector(Collector):
    """The writers' gauges, read at scrape time (a stuck writer shows its growing queue)."""

    def collect(self) -> Iterable[Metric]:
        writers = list(_writers)
        if not writers:
            return []
        up = GaugeMetricFamily(
            "live_sqlite_writer_up", "1 while the SQLite writer thread takes writes, else 0."
        )
        up.add_metric([], float(all(writer.writer_alive() for writer in writers)))
        depth = GaugeMetricFamily(
            "live_sqlite_writer_queue_depth", "Writes waiting for the SQLite writer."
        )
        depth.add_metric([], float(sum(writer.queue_depth() for writer in writers)))
        return [up, depth]

    def describe(self) -> Iterable[Metric]:
        return []


REGISTRY.register(_WriterCollector())


def exposition() -> bytes:
    """The registry in Prometheus' text format."""
    return generate_latest(REGISTRY)


# Vote answers by status code: the error classes of `live.errors` as reasons.
_REFUSALS = {
    400: "bad_choice",
    403: "bad_token",
    404: "unknown_poll",
    409: "not_open",
    413: "too_large",
    429: "rate_limited",
    503: "unavailable",
}
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_STREAMS = {"stream": "stage", "updates": "phone", "console_stream": "console"}
VOTE_ROUTES = frozenset({"cast_vote"})


class MetricsMiddleware:
    """Times every request by route template and counts votes and open streams."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: dict[Any, tuple[str, str]] | None = None  # endpoint -> (template, name)
        # Each labels() child looked up once: the vote path pays a dict lookup, no more.
        self._timers: dict[tuple[str, str], Any] = {}
        self._answers: dict[tuple[str, str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _route(self, scope: Scope) -> tuple[str, str]:
        if self._routes is None:
            self._routes = dict(_route_table(scope["app"].routes))
        return self._routes.get(scope.get("endpoint"), ("unmatched", ""))

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            elapsed = time.perf_counter() - started
            method = scope["method"] if scope["method"] in _METHODS else "other"
            template, name = self._route(scope)
            timer = self._timers.get((method, template))
            if timer is None:
                timer = self._timers[method, template] = REQUEST_SECONDS.labels(method, template)
            timer.observe(elapsed)
            answers = self._answers.get((method, template, status))
            if answers is None:
                answers = RESPONSES.labels(method, template, str(status))
                self._answers[method, template, status] = answers
            answers.inc()
            if name in VOTE_ROUTES and method == "POST":
                VOTE_SECONDS.observe(elapsed)
                if status < 400:
                    VOTES_ACCEPTED.inc()
                else:
                    VOTES_REFUSED.labels(_REFUSALS.get(status, "error")).inc()

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        gauge: Any = None

        async def send_and_note(message: Message) -> None:
            nonlocal gauge
            if message["type"] == "websocket.accept" and gauge is None:
                _, name = self._route(scope)
                gauge = STREAM_SUBSCRIBERS.labels(_STREAMS.get(name, name or "other"))
                gauge.inc()
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            if gauge is not None:
                gauge.dec()


def _route_table(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[Any, tuple[str, str]]]:
    """(endpoint, (path template, route name)) for every route, mounts included."""
    for route in routes:
        path = prefix + getattr(route, "path", "")
        endpoint = getattr(route, "endpoint", None)
        if endpoint is not None:
            yield endpoint, (path, getattr(route, "name", "") or "")
        app = getattr(route, "app", None)
        if app is not None and endpoint is None:  # a Mount: its app is the endpoint
            yield app, (path, getattr(route, "name", "") or "")
            yield from _route_table(getattr(route, "routes", None) or (), path)
