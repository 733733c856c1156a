"""Jinja2 set-up: autoescape, gettext, and static URLs that carry a content hash."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from live import i18n
from live.web import formats

STATIC_DIR = Path(str(resources.files("live").joinpath("static")))
TEMPLATE_DIR = Path(str(resources.files("live").joinpath("templates")))
_SHARED_PAGES_MAX = 256


def _static_hashes() -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in STATIC_DIR.iterdir()
        if path.is_file()
    }


class Templates:
    def __init__(self) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
            autoescape=True,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
            auto_reload=False,  # templates ship with the code; no stat() per render
        )
        self.env.install_gettext_callables(  # type: ignore[attr-defined]
            i18n.gettext, i18n.ngettext, newstyle=True
        )
        self._hashes = _static_hashes()
        self._paths: dict[tuple[str, tuple[tuple[str, object], ...]], str] = {}
        self._shared: dict[tuple[object, ...], bytes] = {}
        self.env.globals["languages"] = i18n.LANGUAGES
        # Numbers and times in the reader's language and Norwegian time ("89,3").
        self.env.filters["number"] = formats.number
        self.env.filters["local_time"] = formats.local_time
        self.env.filters["machine_time"] = formats.machine_time

    def path_for(self, request: Request, route: str, **params: object) -> str:
        """A route's path; memoised, because building one walks the whole route table."""
        key = (route, tuple(sorted(params.items())))
        path = self._paths.get(key)
        if path is None:
            path = self._paths[key] = str(request.app.url_path_for(route, **params))
        return path

    def render_shared(
        self, request: Request, key: tuple[object, ...], name: str, context: dict[str, Any]
    ) -> HTMLResponse:
        """Render once per `key` and language, for a page that is the same for everyone
        it is shown to (the ballot as a first-time voter sees it, say)."""
        full_key = (name, i18n.current_language(), *key)
        body = self._shared.get(full_key)
        if body is None:
            if len(self._shared) >= _SHARED_PAGES_MAX:
                self._shared.clear()
            body = self._shared[full_key] = bytes(self.render(request, name, context).body)
        return HTMLResponse(body)

    def static_url(self, request: Request, name: str) -> str:
        return f"{self.path_for(request, 'static', path=name)}?v={self._hashes[name]}"

    def render(
        self, request: Request, name: str, context: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:  # fmt: skip
        template = self.env.get_template(name)
        html = template.render(
            request=request,
            url_for=lambda route, **params: self.path_for(request, route, **params),
            static_url=lambda file: self.static_url(request, file),
            language=i18n.current_language(),
            **(context or {}),
        )
        return HTMLResponse(html, status_code=status_code)
