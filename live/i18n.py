"""Languages: bokmål by default, nynorsk and English, from gettext catalogues.

The `.po` files under `live/locale/` are the source; they are compiled in memory when
the app starts, so there is no build step and no binary file in the repository.
The request's language lives in a context variable set by `LocaleMiddleware`; code and
templates call `gettext` and get the right language without passing it around. It comes
from `?lang=`, else the language cookie the switcher sets, else the browser's
`Accept-Language`, else bokmål.
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
# Primary subtags a browser may send, to ours: `no` (Norwegian) is written as bokmål.
_PRIMARY_TAGS = {
    "nb": "nb",
    "nob": "nb",
    "no": "nb",
    "nor": "nb",
    "nn": "nn",
    "nno": "nn",
    "en": "en",
    "eng": "en",
}

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
    """The singular or plural form for `number`, translated. Bokmål, nynorsk and English
    share one rule (one; anything else), so each form is its own msgid, marked with N_()."""
    return gettext(singular if number == 1 else plural, **{"num": number, **params})


def parse_accept_language(header: str | None) -> str | None:
    """The first of our languages in an `Accept-Language` header, or None.

    Ranges are taken highest q first, ties in the order the header lists them; only the
    primary subtag counts (`nb-NO`, `en-GB`); `*`, `q=0` and unknown languages are passed
    over. A malformed range is passed over too, so any header, however broken, gives an
    answer and never an error."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "").split(",")):
        tag, *params = item.split(";")
        language = _PRIMARY_TAGS.get(tag.strip().lower().replace("_", "-").split("-")[0])
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                quality = _quality(value)
        if language is not None and 0 < quality <= 1:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else None


def _quality(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        return 0.0  # an unreadable weight: not asked for (NaN falls out the same way)


def pick_language(
    query_value: str | None, cookie_value: str | None, accept_language: str | None = None
) -> str:
    """`?lang=`, else the cookie the switcher set, else the browser's wish, else bokmål."""
    for candidate in (query_value, cookie_value):
        if candidate in LANGUAGES:
            return candidate
    return parse_accept_language(accept_language) or DEFAULT_LANGUAGE


class LocaleMiddleware:
    """Sets the request's language: `?lang=`, the language cookie, `Accept-Language`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        from starlette.requests import HTTPConnection

        connection = HTTPConnection(scope)
        language = pick_language(
            connection.query_params.get("lang"),
            connection.cookies.get(LANGUAGE_COOKIE),
            connection.headers.get("accept-language"),
        )
        token = _current.set(language)
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)
