"""Languages: bokmål by default, nynorsk and English, from gettext catalogues.

The `.po` files under `live/locale/` are the source; they are compiled in memory when
the app starts, so there is no build step and no binary file in the repository.
The request's language lives in a context variable set by `LocaleMiddleware`; code and
templates call `gettext` and get the right language without passing it around.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.types import ASGIApp, Receive, Scope, Send

LANGUAGES = {"nb": "Norsk bokmål", "nn": "Norsk nynorsk", "en": "English"}
DEFAULT_LANGUAGE = "nb"
LANGUAGE_COOKIE = "live_lang"

_current: ContextVar[str] = ContextVar("live_language", default=DEFAULT_LANGUAGE)
_catalogues: dict[str, NullTranslations] = {}


def load_catalogues() -> dict[str, NullTranslations]:
    """Compile every language's `.po` file; cached after the first call."""
    if not _catalogues:
        root = resources.files("live").joinpath("locale")
        for language in LANGUAGES:
            source = root.joinpath(language, "LC_MESSAGES", "messages.po")
            with source.open("rb") as handle:
                catalogue = read_po(handle, locale=language)
            compiled = io.BytesIO()
            write_mo(compiled, catalogue)
            compiled.seek(0)
            _catalogues[language] = Translations(compiled)
    return _catalogues


def current_language() -> str:
    return _current.get()


def gettext(message: str, **params: object) -> str:
    translated = load_catalogues()[_current.get()].gettext(message)
    return translated % params if params else translated


def ngettext(singular: str, plural: str, number: int, **params: object) -> str:
    translated = load_catalogues()[_current.get()].ngettext(singular, plural, number)
    return translated % {"num": number, **params}


def pick_language(query_value: str | None, cookie_value: str | None) -> str:
    for candidate in (query_value, cookie_value):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


class LocaleMiddleware:
    """Sets the language for the request from `?lang=` or the language cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        from starlette.requests import HTTPConnection

        connection = HTTPConnection(scope)
        language = pick_language(
            connection.query_params.get("lang"), connection.cookies.get(LANGUAGE_COOKIE)
        )
        token = _current.set(language)
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)
