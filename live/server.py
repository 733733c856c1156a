"""The ASGI app: routes, middleware and lifespan wired together, nothing more."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from live import i18n
from live.config import Settings, load_settings
from live.contest.privacy import Retention
from live.contest.records import Contest
from live.contest.selection import Selection
from live.errors import LiveError
from live.finale.countdown import Closer
from live.finale.hub import Hub
from live.finale.poll_cache import PollCache
from live.finale.theme_cache import ThemeCache
from live.inputs import Utf8Forms
from live.metrics import MetricsMiddleware
from live.store import make_store
from live.tokens import ContestLinks, VoterTokens
from live.web import (
    admin,
    api,
    attachments,
    badges,
    ballot,
    bulletin,
    console,
    contest_admin,
    contest_finalists,
    contest_jury,
    contest_public,
    governance,
    ops,
    people,
    privacy,
    stage,
    statements,
    theme,
    tokens,
)
from live.web.errors import on_client_gone, on_http_error, on_live_error, on_unexpected
from live.web.security import (
    AllowedHostsMiddleware,
    SecurityHeadersMiddleware,
)
from live.web.services import Services
from live.web.templating import STATIC_DIR, Templates

log = logging.getLogger("live")


class _HashedStaticFiles(StaticFiles):
    """Static files; URLs carrying a content hash (`?v=`) may be cached for a year."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if b"v=" in scope.get("query_string", b""):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            response.headers["Cache-Control"] = "public, max-age=60"
        return response


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()
    i18n.load_catalogues()
    store = make_store(settings.store_url, redis_durability=settings.redis_durability)
    contest = Contest(store, ContestLinks(settings.secret_key.reveal()))
    services = Services(
        settings=settings,
        store=store,
        hub=Hub(store, settings.update_interval),
        closer=Closer(store),
        templates=Templates(),
        voter_tokens=VoterTokens(settings.secret_key.reveal()),
        polls=PollCache(store),
        contest=contest,
        selection=Selection(contest),
        theme=ThemeCache(store),
    )

    retention = Retention(contest)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.open()
        log.info("store open: %s", settings.store_url.split("@")[-1])
        services.closer.start()
        retention.start()
        try:
            yield
        finally:
            await retention.close()
            await services.closer.close()
            await services.hub.close()
            await store.close()

    app = Starlette(
        routes=[
            *ballot.routes,
            *stage.routes,
            *admin.routes,
            *console.routes,
            *contest_public.routes,
            *attachments.routes,
            *contest_admin.routes,
            *contest_jury.routes,
            *contest_finalists.routes,
            *people.routes,
            *tokens.routes,
            *governance.routes,
            *theme.routes,
            *statements.routes,
            *privacy.routes,
            *badges.routes,
            *bulletin.routes,
            *api.routes,
            *ops.routes,
            Mount("/static", _HashedStaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=[
            Middleware(MetricsMiddleware),
            Middleware(SecurityHeadersMiddleware, https=settings.is_https),
            Middleware(i18n.LocaleMiddleware),
            Middleware(
                AllowedHostsMiddleware,
                hosts=settings.allowed_hosts,
                own_addresses=settings.allow_own_addresses,
            ),
            Middleware(attachments.BodyLimits),  # the usual cap; room for a file to upload
            Middleware(Utf8Forms),
        ],
        exception_handlers={
            LiveError: on_live_error,
            ClientDisconnect: on_client_gone,
            HTTPException: on_http_error,
            Exception: on_unexpected,
        },
        lifespan=lifespan,
    )
    app.state.services = services
    return app
