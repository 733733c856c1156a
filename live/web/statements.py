"""The privacy and accessibility statements: public pages, and the organisers' editor.

The public pages answer in the reader's language, with the statement in each other
language one link away (`?lang=`). The editor shows the three texts with their limits, a
preview of what the public will see, and the shipped default texts on request; only a
save writes, with compare-and-set against the version shown, audited by the store.
"""

from __future__ import annotations

from typing import Any

from babel.dates import format_date
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import i18n
from live.contest.statements import (
    ACCESSIBILITY,
    KEYS,
    LANGUAGES,
    PRIVACY,
    TEXT_MAX_CHARACTERS,
    StatementRefused,
    check_texts,
    default_texts,
    parse,
    placeholders,
    read_statement,
    require_key,
    save_statement,
)
from live.errors import N_, BadRequest
from live.inputs import parse_whole
from live.store.base import StaleRecord
from live.web.admin import render_admin
from live.web.auth import FORM_EXPIRED, ORGANISERS, check_csrf, current_session, require_session
from live.web.formats import oslo_time
from live.web.services import services

# A text of the limit in the most bytes UTF-8 can take, three times, and the rest.
_FORM_LIMITS = {"max_fields": 20, "max_files": 0, "max_part_size": 4 * TEXT_MAX_CHARACTERS}
_PUBLIC_ROUTES = {PRIVACY: "privacy_statement", ACCESSIBILITY: "accessibility_statement"}
_TITLES = {PRIVACY: N_("Privacy statement"), ACCESSIBILITY: N_("Accessibility statement")}
_EDIT_TITLES = {
    PRIVACY: N_("Edit the privacy statement"),
    ACCESSIBILITY: N_("Edit the accessibility statement"),
}
_LANGUAGE_LABELS = {
    "nb": N_("Text in bokmål"),
    "nn": N_("Text in nynorsk"),
    "en": N_("Text in English"),
}


def _date(moment: str, language: str) -> str:
    return format_date(oslo_time(moment).date(), format="long", locale=language)


def _statement_links(request: Request) -> list[dict[str, str]]:
    """Both statements, each with its title and public address."""
    templates = services(request).templates
    return [
        {
            "key": key,
            "title": i18n.gettext(_TITLES[key]),
            "public": templates.path_for(request, _PUBLIC_ROUTES[key]),
            "edit": templates.path_for(request, "statement_form", key=key),
        }
        for key in KEYS
    ]


async def _public_page(request: Request, key: str) -> Response:
    statement = await read_statement(services(request).store, key)
    language = i18n.current_language()
    text, written_in = statement.text_for(language)
    session = await current_session(request)
    path = request.url.path
    return services(request).templates.render(
        request,
        "statement.html",
        {
            "key": key,
            "heading": i18n.gettext(_TITLES[key]),
            "blocks": parse(text),
            "text_language": written_in,
            "updated": _date(statement.written_on, language),
            "others": [
                {"code": code, "name": name, "href": f"{path}?lang={code}"}
                for code, name in i18n.LANGUAGES.items()
                if code != language
            ],
            "statements": _statement_links(request),
            "can_edit": session is not None and session.user.role in ORGANISERS,
        },
    )


async def privacy_statement(request: Request) -> Response:
    return await _public_page(request, PRIVACY)


async def accessibility_statement(request: Request) -> Response:
    return await _public_page(request, ACCESSIBILITY)


async def statements_admin(request: Request) -> Response:
    await require_session(request, ORGANISERS)
    first = services(request).templates.path_for(request, "statement_form", key=KEYS[0])
    return RedirectResponse(first, status_code=303)


def _fields(texts: dict[str, str]) -> dict[str, str]:
    return {f"text_{language}": texts[language] for language in LANGUAGES}


def _sent(form: FormData) -> dict[str, str]:
    return {
        name: value
        for name in _fields(dict.fromkeys(LANGUAGES, ""))
        if isinstance(value := form.get(name, ""), str)
    }


async def statement_form(request: Request) -> Response:
    """Organisers edit a statement's texts; preview and the default texts write nothing."""
    session = await require_session(request, ORGANISERS)
    key = require_key(request.path_params["key"])
    store = services(request).store
    saved = await read_statement(store, key)
    values, version = _fields(saved.texts), saved.version
    errors: dict[str, str] = {}
    error = notice = None
    preview: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        async with request.form(**_FORM_LIMITS) as form:
            check_csrf(session, form)
            sent, action = _sent(form), str(form.get("action", "save"))
            shown = parse_whole(str(form.get("version", "")))
        if shown is None:
            raise BadRequest(FORM_EXPIRED)
        values, version = {name: sent.get(name, "") for name in values}, shown
        if action == "reset":
            values = _fields(default_texts(key))
            notice = i18n.gettext(
                N_("The default texts are in the form. Nothing changes until you save.")
            )
        else:
            try:
                texts = check_texts(values)
            except StatementRefused as refused:
                errors = {
                    str(problem.field): i18n.gettext(problem.message, **problem.params)
                    for problem in refused.problems
                }
                status = refused.status
            else:
                values = _fields(texts)
                if action == "preview":
                    preview = {
                        language: parse(texts[language] or texts["nb"]) for language in LANGUAGES
                    }
                else:
                    try:
                        await save_statement(
                            store, key, texts, expected_version=version, actor=session.user.email
                        )
                    except StaleRecord:
                        version = (await read_statement(store, key)).version
                        error = i18n.gettext(
                            N_(
                                "Someone else saved this statement while you were editing it. "
                                "Your text is still in the form: save again to replace theirs."
                            )
                        )
                        status = StaleRecord.status
                    else:
                        page = services(request).templates.path_for(
                            request, "statement_form", key=key
                        )
                        return RedirectResponse(f"{page}?saved=1", status_code=303)
    return render_admin(
        request,
        "admin/statement_form.html",
        session,
        status_code=status,
        key=key,
        heading=i18n.gettext(_EDIT_TITLES[key]),
        statements=_statement_links(request),
        values=values,
        version=version,
        errors=errors,
        error=error,
        notice=notice,
        preview=preview,
        saved=request.method == "GET" and request.query_params.get("saved") == "1",
        is_default=saved.is_default,
        updated=_date(saved.written_on, i18n.current_language()),
        placeholders=sum(len(placeholders(text)) for text in values.values()),
        labels={f"text_{code}": i18n.gettext(label) for code, label in _LANGUAGE_LABELS.items()},
        language_names=i18n.LANGUAGES,
        limit=TEXT_MAX_CHARACTERS,
    )


routes = [
    Route("/personvern", privacy_statement, methods=["GET"], name="privacy_statement"),
    Route(
        "/tilgjengelighet",
        accessibility_statement,
        methods=["GET"],
        name="accessibility_statement",
    ),
    Route("/admin/statements", statements_admin, methods=["GET"], name="statements_admin"),
    Route(
        "/admin/statements/{key}",
        statement_form,
        methods=["GET", "POST"],
        name="statement_form",
    ),
]
