"""The console's hall panel: what the room is doing, beside the show's controls.

Ballots against the number of voters the organiser expects; in an open poll, how fast
new voter tokens are taken, the alert when one address takes them far faster than a
hall does, and the flagged ballots that still count (an organiser may take them out by a
recorded decision before closing); in a badge poll, the badges made, used and revoked.

It reads every ballot of the poll, so it is never on the stream's path (that runs on
every vote): the console's script polls `hall` every few seconds, and the page renders
it once on load for a browser without script.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_time
from babel.numbers import format_decimal, format_percent
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from live import i18n
from live.errors import N_, Conflict, Forbidden
from live.finale.polls import check_expected_voters
from live.finale.stuffing import token_activity
from live.store import Store
from live.store.models import BallotRecord, Eligibility, Poll, PollStatus, Session
from live.web.auth import ORGANISERS, STAGE_CREW, require_session
from live.web.services import services

OSLO = ZoneInfo("Europe/Oslo")
FLAGGED_LISTED = 500  # flagged ballots listed for the decision; the count says how many in all
ALERTS_LISTED = 5  # the latest alerts, newest first


def _number(value: int) -> str:
    return format_decimal(value, locale=i18n.current_language())


def _oslo(iso: str, with_date: bool = False) -> str:
    """An ISO 8601 time as people in the hall read it: Norwegian time."""
    moment = datetime.fromisoformat(iso)
    language = i18n.current_language()
    if with_date:
        return format_datetime(moment, "short", tzinfo=OSLO, locale=language)
    return format_time(moment, "HH:mm:ss", tzinfo=OSLO, locale=language)


def _turnout(ballots: int, expected: int | None) -> str:
    if not expected:
        return i18n.ngettext(
            N_("%(count)s ballot. No expected number of voters is set."),
            N_("%(count)s ballots. No expected number of voters is set."),
            ballots,
            count=_number(ballots),
        )
    share = format_percent(ballots / expected, locale=i18n.current_language())
    return i18n.ngettext(
        N_("%(count)s ballot of %(expected)s expected (%(share)s)"),
        N_("%(count)s ballots of %(expected)s expected (%(share)s)"),
        ballots,
        count=_number(ballots),
        expected=_number(expected),
        share=share,
    )


def _alert_texts(alerts: list[dict[str, Any]], raised: bool) -> dict[str, Any]:
    latest = alerts[-1] if alerts else None
    headline = ""
    if latest is not None and raised:
        headline = i18n.gettext(
            N_(
                "One address took at least %(number)s voter tokens in a minute: "
                "far faster than a hall does."
            ),
            number=_number(int(latest["tokens_per_minute"])),
        )
    listed = [
        i18n.gettext(
            N_(
                "%(time)s: address %(address)s took at least %(number)s new voter tokens "
                "in a minute."
            ),
            time=_oslo(str(alert["at"])),
            address=str(alert["address"]),
            number=_number(int(alert["tokens_per_minute"])),
        )
        for alert in reversed(alerts[-ALERTS_LISTED:])
    ]
    return {"alert": headline, "alerts": listed}


async def hall_view(store: Store, poll: Poll) -> dict[str, Any]:
    """The panel's figures for `poll`, with each line already worded for the reader."""
    records = await store.list_ballots(poll.id)
    counted = [record for record in records if record.excluded_by is None]
    flagged: list[BallotRecord] = [record for record in counted if record.flagged]
    expected = poll.settings.expected_voters
    exclusions = await store.list_exclusions(poll.id)
    view: dict[str, Any] = {
        "status": poll.status.value,
        "eligibility": poll.eligibility.value,
        "ballots": len(counted),
        "expected_voters": expected,
        "flagged": len(flagged),
        "can_exclude": poll.status is PollStatus.OPEN and bool(flagged),
        "flagged_ballots": [
            {"receipt": record.receipt, "at": record.updated_at, "time": _oslo(record.updated_at)}
            for record in flagged[:FLAGGED_LISTED]
        ],
        "exclusions": [
            {
                "id": exclusion.id,
                "note": exclusion.note,
                "decided_by": exclusion.decided_by,
                "decided_at": exclusion.decided_at,
                "ballots": exclusion.ballots,
                "text": i18n.ngettext(
                    N_("%(time)s: %(who)s took %(count)s ballot out of the count. Why: %(note)s"),
                    N_("%(time)s: %(who)s took %(count)s ballots out of the count. Why: %(note)s"),
                    exclusion.ballots,
                    time=_oslo(exclusion.decided_at, with_date=True),
                    who=exclusion.decided_by,
                    count=_number(exclusion.ballots),
                    note=exclusion.note,
                ),
            }
            for exclusion in exclusions
        ],
    }
    texts: dict[str, Any] = {
        "turnout": _turnout(len(counted), expected),
        "flagged": i18n.ngettext(
            N_("%(count)s flagged ballot still counts."),
            N_("%(count)s flagged ballots still count."),
            len(flagged),
            count=_number(len(flagged)),
        ),
    }
    if poll.eligibility is Eligibility.BADGE:
        badges = await store.list_badges(poll.id)
        made, used = len(badges), sum(badge.used for badge in badges)
        revoked = sum(badge.revoked_at is not None for badge in badges)
        view["badges"] = {"made": made, "used": used, "revoked": revoked}
        texts["badges"] = i18n.gettext(
            N_("Badges: %(made)s made, %(used)s used, %(revoked)s revoked."),
            made=_number(made),
            used=_number(used),
            revoked=_number(revoked),
        )
    else:
        activity = await token_activity(store, poll.id)
        view["tokens_last_minute"] = activity["tokens_last_minute"]
        view["alert_raised"] = activity["alert_raised"]
        view["alerts"] = activity["alerts"][-ALERTS_LISTED:]
        texts["tokens"] = i18n.gettext(
            N_("New voter tokens in the last minute: %(number)s"),
            number=_number(int(activity["tokens_last_minute"])),
        )
        texts |= _alert_texts(activity["alerts"], bool(activity["alert_raised"]))
    view["texts"] = texts
    return view


async def hall(request: Request) -> Response:
    """The panel as JSON, for the console's script: organisers and hosts."""
    await require_session(request, STAGE_CREW)
    store = services(request).store
    poll = await store.get_poll(request.path_params["poll_id"])
    return JSONResponse(await hall_view(store, poll), headers={"Cache-Control": "no-store"})


def expected_voters(session: Session, value: object) -> int | None:
    """The organiser's expected number of voters from the panel's form (empty: not said)."""
    if session.user.role not in ORGANISERS:
        raise Forbidden(N_("Only an organiser can set the expected number of voters."))
    return check_expected_voters(value)


def check_may_exclude(session: Session, poll: Poll) -> None:
    """Only an organiser takes flagged ballots out, and only while voting is open."""
    if session.user.role not in ORGANISERS:
        raise Forbidden(N_("Only an organiser can take flagged ballots out of the count."))
    if poll.status is not PollStatus.OPEN:
        raise Conflict(N_("Ballots can be excluded only while voting is open."))
