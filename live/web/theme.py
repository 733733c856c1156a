"""The finale theme: the organisers' form, the logo and the stage's stylesheet.

The logo is served so that it is harmless whatever an SVG holds: with its own type and
`nosniff`, as an attachment-less inline file, and under a Content-Security-Policy with
`sandbox`, so a script inside an SVG never runs, even when the file is opened directly.
The logo and the stylesheet are cached for a year when the URL names the theme's current
stamp (`?v=`, as pages write it: `Theme.stamp`) and revalidated otherwise.
"""

from __future__ import annotations

from typing import Any

from babel.numbers import format_decimal
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import i18n
from live.errors import N_, BadRequest, LiveError, NotFound, PayloadTooLarge
from live.finale.colours import ThemeRefused, parse_colour
from live.finale.theme import (
    DEFAULT_THEME,
    LANGUAGES,
    LOGO_MAX_BYTES,
    RECORD_KEY,
    RECORD_KIND,
    TITLE_MAX_CHARACTERS,
    Logo,
    Theme,
    check_logo,
    check_theme,
    stylesheet,
)
from live.inputs import parse_whole
from live.web.admin import render_admin
from live.web.auth import ORGANISERS, check_csrf, require_session
from live.web.services import services

LOGO_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
_UPLOAD_LIMITS = {"max_fields": 20, "max_files": 1, "max_part_size": 16384}
_LONG_CACHE = "public, max-age=31536000, immutable"


def _text(problem: LiveError) -> str:
    """The problem in the reader's language, ratios with the reader's decimal mark."""
    language = i18n.current_language()
    params = {
        name: format_decimal(value, format="0.##", locale=language)
        if isinstance(value, float)
        else value
        for name, value in problem.params.items()
    }
    return i18n.gettext(problem.message, **params)


def _values(theme: Theme) -> dict[str, str]:
    values = {"background": theme.background, "accent": theme.accent}
    return values | {f"title_{language}": theme.titles.get(language, "") for language in LANGUAGES}


def _chosen_colour(form: dict[str, str], name: str) -> str:
    """The text field when the organiser typed a new code into it, else the colour picker.

    The page shows both with the same value; without script they cannot follow each
    other, so whichever of the two was changed is the one meant."""
    typed, picked = form.get(name, "").strip(), form.get(f"{name}_picker", "")
    if typed and typed.lower() != form.get(f"{name}_shown", "").lower():
        return typed
    return picked or typed


async def theme_form(request: Request) -> Response:
    """Organisers set the finale's colours, logo and titles; every change is audited."""
    session = await require_session(request, ORGANISERS)
    store = services(request).store
    record = await store.get_record(RECORD_KIND, RECORD_KEY)
    saved = Theme.from_record(record) if record is not None else None
    values, version = _values(saved or DEFAULT_THEME), record.version if record else 0
    errors: dict[str, str] = {}
    error, status, resend_logo = None, 200, False
    if request.method == "POST":
        try:
            async with request.form(**_UPLOAD_LIMITS) as form:
                check_csrf(session, form)
                sent = {k: str(v) for k, v in form.items() if not isinstance(v, UploadFile)}
                upload, content = form.get("logo"), None
                if isinstance(upload, UploadFile) and upload.filename:
                    content = await upload.read(LOGO_MAX_BYTES + 1)
        except PayloadTooLarge:
            errors["logo"] = i18n.gettext(
                N_("The logo is larger than %(limit)s KB, the most it may be."),
                limit=LOGO_MAX_BYTES // 1024,
            )
            status = PayloadTooLarge.status
        else:
            values = {name: _chosen_colour(sent, name) for name in ("background", "accent")}
            values |= {f"title_{k}": sent.get(f"title_{k}", "") for k in LANGUAGES}
            values["remove_logo"] = sent.get("remove_logo", "")
            shown = parse_whole(sent.get("version", ""))
            if shown is not None:  # shown again, so a later save stays checked
                version = shown
            try:
                theme = await _save(request, sent, content, saved, session.user.email)
                services(request).theme.remember(theme)
                page = services(request).templates.path_for(request, "theme_form")
                return RedirectResponse(f"{page}?saved=1", status_code=303)
            except ThemeRefused as refused:
                for problem in refused.problems:
                    field = problem.field or ""
                    errors[field] = " ".join(filter(None, (errors.get(field), _text(problem))))
                status, resend_logo = refused.status, content is not None and "logo" not in errors
            except LiveError as problem:
                if problem.status >= 500:
                    raise
                error, status = _text(problem), problem.status
    return render_admin(
        request,
        "admin/theme.html",
        session,
        status_code=status,
        theme=saved,
        preview=saved or DEFAULT_THEME,
        values=values,
        pickers={name: _picker_value(values[name]) for name in ("background", "accent")},
        version=version,
        errors=errors,
        error=error,
        resend_logo=resend_logo,
        saved=request.method == "GET" and request.query_params.get("saved") == "1",
        labels=_labels(),
        title_fields=[f"title_{language}" for language in LANGUAGES],
        title_limit=TITLE_MAX_CHARACTERS,
        logo_limit_kb=LOGO_MAX_BYTES // 1024,
    )


async def _save(
    request: Request, sent: dict[str, str], content: bytes | None, saved: Theme | None, actor: str
) -> Theme:
    """Check the form and write the theme with compare-and-set against the version shown."""
    version = parse_whole(sent.get("version", ""))
    if version is None:
        raise BadRequest(N_("The form has expired. Reload the page and try again."))
    logo: Logo | None = saved.logo if saved else None
    problems: list[BadRequest] = []
    if content is not None:
        try:
            logo = check_logo(content)
        except BadRequest as problem:
            problems.append(problem)
    elif sent.get("remove_logo") == "1":
        logo = None
    titles = {language: sent.get(f"title_{language}") for language in LANGUAGES}
    try:
        theme = check_theme(
            _chosen_colour(sent, "background"), _chosen_colour(sent, "accent"), titles, logo
        )
    except ThemeRefused as refused:
        problems.extend(refused.problems)
    if problems:
        raise ThemeRefused(problems)
    record = await services(request).store.put_record(
        RECORD_KIND,
        RECORD_KEY,
        theme.to_data(),
        expected_version=version,
        actor=actor,
        action="theme.update",
    )
    return Theme.from_record(record)


def _picker_value(colour: str) -> str:
    """A colour picker can only show '#rrggbb'; after a typing error it shows black."""
    try:
        return parse_colour(colour, "")
    except BadRequest:
        return "#000000"


def _labels() -> dict[str, str]:
    """Each field's label in the reader's language, for the fields and the error summary."""
    labels = {
        "background": N_("Background colour"),
        "accent": N_("Accent colour"),
        "logo": N_("Logo file"),
        "title_nb": N_("Title in bokmål"),
        "title_nn": N_("Title in nynorsk"),
        "title_en": N_("Title in English"),
    }
    return {name: i18n.gettext(label) for name, label in labels.items()}


def _cache_control(request: Request, theme: Theme) -> str:
    """A year when the URL names the current stamp; else ask again every time."""
    return _LONG_CACHE if request.query_params.get("v") == theme.stamp else "no-cache"


def _answer(request: Request, body: bytes, media_type: str, headers: dict[str, Any]) -> Response:
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


async def theme_logo(request: Request) -> Response:
    theme = await services(request).theme.current()
    if theme is None or theme.logo is None:
        raise NotFound(N_("There is no logo."))
    logo = theme.logo
    headers = {
        "Content-Security-Policy": LOGO_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="logo.{logo.extension}"',
        "Cross-Origin-Resource-Policy": "same-origin",
        "Cache-Control": _cache_control(request, theme),
        "ETag": f'"{logo.digest[:32]}"',
    }
    return _answer(request, logo.content, logo.media_type, headers)


async def theme_css(request: Request) -> Response:
    """The theme's colours as CSS custom properties; the stage's own colours until one is set."""
    theme = await services(request).theme.current() or DEFAULT_THEME
    headers = {"Cache-Control": _cache_control(request, theme), "ETag": f'"{theme.stamp}"'}
    return _answer(request, stylesheet(theme.palette).encode(), "text/css", headers)


routes = [
    Route("/admin/theme", theme_form, methods=["GET", "POST"], name="theme_form"),
    Route("/theme/logo", theme_logo, methods=["GET"], name="theme_logo"),
    Route("/theme.css", theme_css, methods=["GET"], name="theme_css"),
]
