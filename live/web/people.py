"""Accounts: organisers invite people with a signed, expiring, one-time link.

The link is shown to copy (and mailed when SMTP is configured). Opening it lets the
invited person choose a password; the invitation record then says it was used, written
with compare-and-set so that two tabs cannot both use one link.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from live import i18n
from live.contest.ideas import is_email
from live.contest.records import change
from live.errors import N_, BadRequest, Conflict, Gone, LiveError, NotFound
from live.mail import send_invitation
from live.store.models import Role
from live.store.timestamps import now_iso
from live.web import limits
from live.web.admin import FORM_LIMITS, render_admin
from live.web.auth import (
    MIN_PASSWORD_LENGTH,
    ORGANISERS,
    check_csrf,
    hash_password,
    require_session,
    set_session_cookie,
    start_session,
)
from live.web.services import services

EMAIL_MAX = 200  # characters


async def people(request: Request) -> Response:
    """Everyone with an account, and the form to invite someone."""
    session = await require_session(request, ORGANISERS)
    store = services(request).store
    values: dict[str, str] = {"role": Role.COORDINATOR.value}
    link, error, field, status, mailed = None, None, None, 200, False
    if request.method == "POST":
        async with request.form(**FORM_LIMITS) as form:
            check_csrf(session, form)
            values = {k: str(v) for k, v in form.items()}
        try:
            link, mailed = await _invite(request, session.user.email, values)
            values = {"role": values.get("role", Role.COORDINATOR.value)}
        except LiveError as problem:
            if problem.status >= 500:
                raise
            error, status = i18n.gettext(problem.message, **problem.params), problem.status
            field = problem.field
    directory = await services(request).contest.directory()
    return render_admin(
        request,
        "admin/people.html",
        session,
        status_code=status,
        users=await store.list_users(),
        networks=directory.networks,
        values=values,
        link=link,
        mailed=mailed,
        error=error,
        error_field=field,
        email_max=EMAIL_MAX,
    )


async def _invite(request: Request, actor: str, values: dict[str, str]) -> tuple[str, bool]:
    """Make (or renew) an invited account; the link to share, and whether it was mailed."""
    store, contest = services(request).store, services(request).contest
    email = values.get("email", "").strip()
    if len(email) > EMAIL_MAX:
        raise BadRequest(N_("Write at most %(limit)s characters."), "email", limit=EMAIL_MAX)
    if not is_email(email):
        raise BadRequest(N_("Give an e-mail address such as name@kommune.no."), "email")
    try:
        role = Role(values.get("role", ""))
    except ValueError:
        raise BadRequest(N_("Choose a role."), "role") from None
    network_id = values.get("network_id") or None if role is Role.COORDINATOR else None
    if role is Role.COORDINATOR and network_id not in (await contest.directory()).networks:
        raise BadRequest(N_("A coordinator needs their network."), "network_id")
    try:
        user = await store.get_user(email)
    except NotFound:
        user = await store.create_user(email, role, None, network_id, actor=actor)
    if user.password_hash is not None:
        raise Conflict(N_("%(email)s has an account already."), email=email)
    if (user.role, user.network_id) != (role, network_id):
        raise Conflict(N_("%(email)s is invited already with another role; use that "
                          "invitation."), email=email)  # fmt: skip
    invitation_id = secrets.token_urlsafe(12)
    await store.put_record(
        "invitation", invitation_id,
        {"user_id": user.id, "email": email, "role": role.value, "network_id": network_id,
         "by": actor, "at": now_iso(), "used_at": None},
        expected_version=0, actor=actor, action="invitation.create",
    )  # fmt: skip
    link = services(request).absolute(
        request, f"/invitasjon/{contest.links.invitation(invitation_id)}"
    )
    mailed = await send_invitation(services(request).settings, email, link)
    return link, mailed


async def accept_invitation(request: Request) -> Response:
    """The invited person chooses a password; the link cannot be used again."""
    contest, store = services(request).contest, services(request).store
    await limits.check(store, limits.INVITATIONS_PER_ADDRESS, limits.address_of(request))
    invitation_id = contest.links.read_invitation(request.path_params["token"])
    record = await store.get_record("invitation", invitation_id)
    if record is None:
        raise NotFound(N_("This invitation link is not valid. Check that it is complete."))
    invited = await store.get_user(record.data["email"])
    if record.data["used_at"] or invited.password_hash is not None:
        # Used, or the account has its password from another invitation: a link that
        # leaked later must not reset it.
        raise Gone(N_("This invitation has been used already. Log in, or ask for a new one."))
    error = None
    if request.method == "POST":
        async with request.form(**FORM_LIMITS) as form:
            password, again = str(form.get("password", "")), str(form.get("password_again", ""))
        try:
            if len(password) < MIN_PASSWORD_LENGTH:
                raise BadRequest(N_("The password needs at least %(count)s characters."),
                                 "password", count=MIN_PASSWORD_LENGTH)  # fmt: skip
            if password != again:
                raise BadRequest(N_("The two passwords are not the same."), "password_again")
            password_hash = await hash_password(password)
            await change(store, "invitation", invitation_id, _use, actor=record.data["email"],
                         action="invitation.accept")  # fmt: skip
        except BadRequest as problem:
            error = i18n.gettext(problem.message, **problem.params)
        else:
            await store.set_password(record.data["user_id"], password_hash)
            secret = await start_session(store, record.data["user_id"])
            response = RedirectResponse("/admin", status_code=303)
            set_session_cookie(request, response, secret)
            return response
    return services(request).templates.render(
        request, "admin/invitation.html", {"email": record.data["email"], "error": error,
                                           "min_length": MIN_PASSWORD_LENGTH},
        status_code=400 if error else 200,
    )  # fmt: skip


def _use(data: dict[str, Any] | None) -> dict[str, Any]:
    if data is None or data["used_at"]:
        raise Gone(N_("This invitation has been used already. Log in, or ask for a new one."))
    return {**data, "used_at": now_iso()}


routes = [
    Route("/admin/people", people, methods=["GET", "POST"], name="people"),
    Route("/invitasjon/{token:str}", accept_invitation, methods=["GET", "POST"],
          name="invitation"),
]  # fmt: skip
