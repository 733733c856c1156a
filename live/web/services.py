"""The app's long-lived parts, reachable from any request as `services(request)`."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from live.config import Settings
from live.contest.records import Contest
from live.contest.selection import Selection
from live.finale.countdown import Closer
from live.finale.hub import Hub
from live.finale.poll_cache import PollCache
from live.finale.theme_cache import ThemeCache
from live.store import Store
from live.tokens import VoterTokens
from live.web.templating import Templates


@dataclass
class Services:
    settings: Settings
    store: Store
    hub: Hub
    closer: Closer
    templates: Templates
    voter_tokens: VoterTokens
    polls: PollCache
    contest: Contest
    selection: Selection
    theme: ThemeCache

    def base_url(self, connection: HTTPConnection) -> str:
        """Where people reach us: LIVE_PUBLIC_URL behind a proxy, else the request's host."""
        if self.settings.public_url:
            return self.settings.public_url
        scheme = {"ws": "http", "wss": "https"}.get(connection.url.scheme, connection.url.scheme)
        return f"{scheme}://{connection.url.netloc}"

    def absolute(self, connection: HTTPConnection, path: str) -> str:
        return self.base_url(connection) + path

    def is_https(self, connection: HTTPConnection) -> bool:
        return self.base_url(connection).startswith("https:")


def services(connection: HTTPConnection) -> Services:
    found: Services = connection.app.state.services
    return found
