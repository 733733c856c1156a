"""Personal data for organisers: look up one e-mail address, download everything held
about it as JSON, and erase the contact details it left on ideas.

The address travels in form posts only, never in a URL (which lands in logs and history).
Erasure takes two steps: a page that says exactly what will be erased, then a confirmed
post. Exports and erasures are audited with references (idea numbers, account ids), not
the address. Each edition's retention period is shown, with what it has erased so far.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from live import i18n
from live.contest.editions import format_local
from live.contest.ideas import is_email
from live.contest.privacy import (
    Holdings,
    erase_person,
    export_data,
    find_person,
    has_contact,
)
from live.contest.records import Idea
from live.errors import N_, BadRequest
from live.store.models import Session
from live.store.timestamps import now_iso
from live.web.admin import FORM_LIMITS, render_admin
from live.web.auth import ORGANISERS, check_csrf, require_session
from live.web.services import services

ADDRESS_MAX = 200  # characters, as the idea form's contact e-mail
CONFIRM = "erase"  # the value of the confirmation checkbox


async def _posted(request: Request, session: Session) -> dict[str, str]:
    async with request.form(**FORM_LIMITS) as form:
        check_csrf(session, form)
        return {k: v for k, v in form.items() if isinstance(v, str)}


def _address(values: dict[str, str]) -> str:
    address = values.get("email", "").strip()
    if not address or len(address) > ADDRESS_MAX or not is_email(address):
        raise BadRequest(N_("Give an e-mail address such as name@kommune.no."), "email")
    return address


async def _retention_rows(request: Request) -> list[dict[str, Any]]:
    """Each edition's retention period: when it ends, and how many ideas it has erased."""
    contest = services(request).contest
    now = contest.clock()
    ideas = [Idea.from_record(r) for r in await contest.store.list_records("idea")]
    return [
        {
            "edition": edition,
            "months": edition.retention_months,
            "from": format_local(edition.contacts_erased_from),
            "passed": edition.contacts_erased_from <= now,
            "erased": sum(1 for i in ideas if i.year == edition.year and i.contact_erased_at),
        }
        for edition in await contest.editions()
    ]


def _summary(holdings: Holdings) -> dict[str, Any]:
    return {
        "holdings": holdings,
        "erasable": [i for i in holdings.ideas if has_contact(i)],
    }


async def privacy_page(request: Request) -> Response:
    """The look-up form; posted, what is held about the address and what can be done."""
    session = await require_session(request, ORGANISERS)
    values: dict[str, str] = {}
    context: dict[str, Any] = {"holdings": None, "erasable": []}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = await _posted(request, session)
        try:
            address = _address(values)
        except BadRequest as problem:
            errors = {"email": i18n.gettext(problem.message, **problem.params)}
            status = problem.status
        else:
            context = _summary(await find_person(services(request).contest, address))
    return render_admin(
        request,
        "admin/privacy.html",
        session,
        status_code=status,
        values={"email": values.get("email", "")},
        errors=errors,
        retention=await _retention_rows(request),
        **context,
    )


async def privacy_export(request: Request) -> Response:
    """Everything held about the address, as a JSON download; the export is audited."""
    session = await require_session(request, ORGANISERS)
    address = _address(await _posted(request, session))
    holdings = await find_person(services(request).contest, address)
    await services(request).store.append_audit(
        session.user.email,
        "privacy.export",
        "privacy:person",
        after={
            "ideas": [i.id for i in holdings.ideas],
            "accounts": [a["id"] for a in holdings.accounts],
            "audit_entries": len(holdings.audit),
        },
    )
    body = json.dumps(export_data(holdings), ensure_ascii=False, indent=2, default=str)
    name = f"personopplysninger-{now_iso()[:10]}.json"
    return Response(
        body,
        media_type="application/json; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


async def privacy_erase(request: Request) -> Response:
    """Step one (`step=confirm`): what will be erased, and a checkbox to confirm. Step
    two (`step=erase`, ticked): erase, then say what was erased and what is left."""
    session = await require_session(request, ORGANISERS)
    values = await _posted(request, session)
    address = _address(values)
    contest = services(request).contest
    error, status, erased = None, 200, None
    if values.get("step") == "erase":
        if values.get("confirm") == CONFIRM:
            done = await erase_person(contest, address, actor=session.user.email)
            erased = [await contest.idea(idea_id) for idea_id in done]
        else:
            error = i18n.gettext(N_("Tick the box to confirm that the erasure is meant."))
            status = BadRequest.status
    holdings = await find_person(contest, address)
    return render_admin(
        request,
        "admin/privacy_erase.html",
        session,
        status_code=status,
        address=address,
        error=error,
        erased=erased,
        confirm=CONFIRM,
        **_summary(holdings),
    )


routes = [
    Route("/admin/privacy", privacy_page, methods=["GET", "POST"], name="privacy_admin"),
    Route("/admin/privacy/export", privacy_export, methods=["POST"], name="privacy_export"),
    Route("/admin/privacy/erase", privacy_erase, methods=["POST"], name="privacy_erase"),
]
