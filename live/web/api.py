"""The JSON API for organisers' scripts, behind bearer tokens (`live api-token EMAIL`).

Every route here is described in `openapi.py`; a test fails when one is not.
"""

from __future__ import annotations

import contextlib
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live import inputs
from live.errors import N_, BadRequest, Conflict
from live.finale import bulletin, polls, stage_order
from live.store.base import AlreadyDone
from live.store.models import AuditEntry, BallotRecord, Exclusion, Poll, PollDraft, PollStatus
from live.web.auth import ORGANISERS, STAGE_CREW, require_api_user
from live.web.openapi import openapi_document
from live.web.services import services

AUDIT_LIMIT = 100  # entries a page of `GET /api/audit`, unless `limit` says otherwise
AUDIT_LIMIT_MAX = 1000


def poll_view(request: Request, poll: Poll) -> dict[str, Any]:
    svc = services(request)
    ballot_url = svc.absolute(request, f"/p/{poll.code}")
    return {
        "id": poll.id,
        "code": poll.code,
        "title": poll.title,
        "method": poll.method.value,
        "winners": poll.winners,
        "eligibility": poll.eligibility.value,
        "max_choices": poll.settings.max_choices,
        "choice_limit": poll.choice_limit,
        "tie_rule": poll.tie_rule.value,
        "expected_voters": poll.settings.expected_voters,
        "status": poll.status.value,
        "hide_counts": poll.hide_counts,
        "revealed": poll.revealed,
        "closes_at": poll.closes_at if poll.status is PollStatus.OPEN else None,
        "show_results": poll.show_results,
        "version": poll.version,
        "finalists": [
            {"id": f.id, "name": f.name, "pitch": f.pitch, "owner": f.owner} for f in poll.finalists
        ],
        "ballot_url": ballot_url,
        "stage_url": svc.absolute(request, f"/s/{poll.code}"),
        "stream_url": "ws" + ballot_url.removeprefix("http") + "/stream",
        "created_at": poll.created_at,
        "opened_at": poll.opened_at,
        "closed_at": poll.closed_at,
    }


async def _json_object(request: Request) -> dict[str, Any]:
    body = inputs.json_document(await request.body() or b"{}")
    if not isinstance(body, dict):
        raise BadRequest(N_("The request body must be a JSON object."))
    return body


def _poll_id(request: Request) -> int:
    poll_id: int = request.path_params["poll_id"]
    return poll_id


def _draft_from(body: dict[str, Any]) -> PollDraft:
    finalists = body.get("finalists")
    if not isinstance(finalists, list):
        raise BadRequest(N_("finalists must be a list of objects with a name."),
                         field="finalists")  # fmt: skip
    settings = {field: body.get(field) for field in polls.SETTING_FIELDS}
    return polls.check_draft(
        body.get("title"), body.get("method"), body.get("winners"), finalists, settings
    )


async def create_poll(request: Request) -> Response:
    user = await require_api_user(request, ORGANISERS)
    draft = _draft_from(await _json_object(request))
    poll = await services(request).store.create_poll(draft, actor=user.email)
    return JSONResponse(poll_view(request, poll), status_code=201)


async def list_polls(request: Request) -> Response:
    await require_api_user(request, STAGE_CREW)
    found = await services(request).store.list_polls()
    return JSONResponse({"polls": [poll_view(request, poll) for poll in found]})


async def get_poll(request: Request) -> Response:
    await require_api_user(request, STAGE_CREW)
    return JSONResponse(
        poll_view(request, await services(request).store.get_poll(_poll_id(request)))
    )


async def update_poll(request: Request) -> Response:
    """Replace a draft; settings, like the rest, are fixed once the poll opens (409)."""
    user = await require_api_user(request, ORGANISERS)
    draft = _draft_from(await _json_object(request))
    poll = await services(request).store.update_poll(_poll_id(request), draft, actor=user.email)
    return JSONResponse(poll_view(request, poll))


async def expected_voters(request: Request) -> Response:
    """`{"expected_voters": N}` (1 to 100,000) or null: a figure for the console, in any
    status."""
    user = await require_api_user(request, ORGANISERS)
    body = await _json_object(request)
    if "expected_voters" not in body:
        raise BadRequest(
            N_("Send expected_voters: a whole number, or null."), field="expected_voters"
        )
    expected = polls.check_expected_voters(body["expected_voters"])
    poll = await services(request).store.set_expected_voters(
        _poll_id(request), expected, actor=user.email
    )
    return JSONResponse(poll_view(request, poll))


async def set_stage_order(request: Request) -> Response:
    """`{"order": [finalist ids]}` (the organiser's choice) or `{"draw": true}`: the
    stage's order of a draft. The finalists are saved anew, so their ids may change: the
    answer has the new ones."""
    user = await require_api_user(request, ORGANISERS)
    body = await _json_object(request)
    store = services(request).store
    poll = await store.get_poll(_poll_id(request))
    draw = body.get("draw", False)
    if ("order" in body) == (draw is True) or not isinstance(draw, bool):
        raise BadRequest(N_("Send either order (finalist ids) or draw: true."), field="order")
    order = stage_order.drawn_order(poll) if draw else stage_order.check_order(poll, body["order"])
    saved = await store.update_poll(poll.id, stage_order.draft_of(poll, order), actor=user.email)
    return JSONResponse(poll_view(request, saved))


async def open_poll(request: Request) -> Response:
    """Open voting; opening an open poll again is a harmless repeat (200)."""
    user = await require_api_user(request, STAGE_CREW)
    store = services(request).store
    with contextlib.suppress(AlreadyDone):
        await store.open_poll(_poll_id(request), actor=user.email)
    return JSONResponse(poll_view(request, await store.get_poll(_poll_id(request))))


async def close_poll(request: Request) -> Response:
    """Close voting and lock the result; closing a closed poll again is harmless (200)."""
    user = await require_api_user(request, STAGE_CREW)
    store = services(request).store
    with contextlib.suppress(AlreadyDone):
        await store.close_poll(_poll_id(request), actor=user.email)
    return JSONResponse(poll_view(request, await store.get_poll(_poll_id(request))))


async def countdown(request: Request) -> Response:
    """`{"seconds": S}` closes the poll S seconds from now (again: moves that time);
    `{"seconds": null}` cancels the countdown."""
    user = await require_api_user(request, STAGE_CREW)
    body = await _json_object(request)
    value = body.get("seconds", "missing")
    if isinstance(value, bool) or not (value is None or isinstance(value, int)):
        raise BadRequest(N_("Send seconds: a number, or null to cancel."), field="seconds")
    seconds = polls.countdown_seconds(value)
    poll = await services(request).store.set_countdown(_poll_id(request), seconds, actor=user.email)
    return JSONResponse(poll_view(request, poll))


def _flag(body: dict[str, Any], field: str) -> bool:
    value = body.get(field)
    if not isinstance(value, bool):
        raise BadRequest(N_("%(field)s must be true or false."), field=field)
    return value


async def hide_counts(request: Request) -> Response:
    user = await require_api_user(request, STAGE_CREW)
    hidden = _flag(await _json_object(request), "hidden")
    poll = await services(request).store.set_hide_counts(
        _poll_id(request), hidden, actor=user.email
    )
    return JSONResponse(poll_view(request, poll))


async def reveal(request: Request) -> Response:
    """`{"place": N}` reveals place N (200 and no change if shown already; 409 unless it
    is the next one); without a body, the next place."""
    user = await require_api_user(request, STAGE_CREW)
    place = (await _json_object(request)).get("place")
    store = services(request).store
    poll = await store.get_poll(_poll_id(request))
    target = polls.reveal_target(poll, await store.get_result(poll.id), place)
    revealed = await store.reveal_to(poll.id, target, poll.winners, actor=user.email)
    return JSONResponse(poll_view(request, revealed))


async def show_results(request: Request) -> Response:
    """`{"shown": true}` puts the full result on the stage once every place is revealed."""
    user = await require_api_user(request, ORGANISERS)
    shown = _flag(await _json_object(request), "shown")
    store = services(request).store
    poll = await store.get_poll(_poll_id(request))
    polls.check_results_showable(poll)
    shown_poll = await store.set_show_results(poll.id, shown, actor=user.email)
    return JSONResponse(poll_view(request, shown_poll))


async def results(request: Request) -> Response:
    await require_api_user(request, STAGE_CREW)
    store = services(request).store
    snapshot = await store.snapshot(_poll_id(request))
    poll = snapshot.poll
    locked = await store.get_result(poll.id) if poll.status is PollStatus.CLOSED else None
    digest = await bulletin.digest_for(store, poll)
    return JSONResponse({**polls.result_view(poll, snapshot, locked), "digest": digest})


async def resolve_tie(request: Request) -> Response:
    user = await require_api_user(request, ORGANISERS)
    body = await _json_object(request)
    store = services(request).store
    poll = await store.get_poll(_poll_id(request))
    if poll.status is not PollStatus.CLOSED:
        raise Conflict(N_("A tie can be resolved only after the poll is closed."))
    order = body.get("order")
    if not isinstance(order, list) or not all(isinstance(i, int) for i in order):
        raise BadRequest(N_("order must be a list of finalist ids."), field="order")
    note = body.get("note") or ""
    if not isinstance(note, str):
        raise BadRequest(N_("note must be text."), field="note")
    locked = await store.get_result(poll.id)
    rule = body.get("rule") or poll.tie_rule.value  # the announced rule when left out
    resolution = polls.make_resolution(poll, locked, str(rule), order, note, user.email)
    locked = await store.resolve_tie(poll.id, resolution)
    snapshot = await store.snapshot(poll.id)
    return JSONResponse(polls.result_view(snapshot.poll, snapshot, locked), status_code=201)


def exclusion_view(exclusion: Exclusion) -> dict[str, Any]:
    return {
        "id": exclusion.id,
        "note": exclusion.note,
        "decided_by": exclusion.decided_by,
        "decided_at": exclusion.decided_at,
        "ballots": exclusion.ballots,
    }


def _counting_flagged(ballots: list[BallotRecord]) -> list[dict[str, Any]]:
    return [
        {"receipt": b.receipt, "updated_at": b.updated_at}
        for b in ballots
        if b.flagged and b.excluded_by is None
    ]


async def flagged(request: Request) -> Response:
    """The flagged ballots that still count (receipts and times, never choices), and the
    exclusions decided so far."""
    await require_api_user(request, ORGANISERS)
    store = services(request).store
    counting = _counting_flagged(await store.list_ballots(_poll_id(request)))
    decided = await store.list_exclusions(_poll_id(request))
    return JSONResponse(
        {
            "ballots": counting,
            "count": len(counting),
            "exclusions": [exclusion_view(e) for e in decided],
        }
    )


async def exclude_flagged(request: Request) -> Response:
    """`{"note": "who decided, and why"}`: take every flagged ballot that counts out of an
    open poll's count, as a recorded decision (409 unless open, or when none is flagged)."""
    user = await require_api_user(request, ORGANISERS)
    note = polls.check_note((await _json_object(request)).get("note"))
    exclusion = await services(request).store.exclude_flagged(
        _poll_id(request), note, actor=user.email
    )
    return JSONResponse(exclusion_view(exclusion), status_code=201)


def audit_view(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "before": entry.before,
        "after": entry.after,
    }


async def audit(request: Request) -> Response:
    """`?after=ID&limit=N`: the entries after ID, oldest first; `next_after` is the ID to
    ask after next, and `more` says whether more are waiting already."""
    await require_api_user(request, ORGANISERS)
    after = inputs.whole_number(request.query_params.get("after", ""), "after", default=0)
    limit = inputs.whole_number(
        request.query_params.get("limit", ""), "limit", max_digits=4, default=AUDIT_LIMIT
    )
    if not 1 <= limit <= AUDIT_LIMIT_MAX:
        raise BadRequest(
            N_("%(field)s must be from %(min)s to %(max)s."),
            field="limit",
            min=1,
            max=AUDIT_LIMIT_MAX,
        )
    found = await services(request).store.list_audit(after_id=after, limit=limit + 1)
    page = found[:limit]
    return JSONResponse(
        {
            "entries": [audit_view(entry) for entry in page],
            "next_after": page[-1].id if page else after,
            "more": len(found) > limit,
        }
    )


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document(services(request).base_url(request)))


routes = [
    Route("/api/openapi.json", openapi, name="openapi"),
    Route("/api/polls", create_poll, methods=["POST"]),
    Route("/api/polls", list_polls, methods=["GET"]),
    Route("/api/polls/{poll_id:id}", get_poll, methods=["GET"]),
    Route("/api/polls/{poll_id:id}", update_poll, methods=["PUT"]),
    Route("/api/polls/{poll_id:id}/open", open_poll, methods=["POST"]),
    Route("/api/polls/{poll_id:id}/close", close_poll, methods=["POST"]),
    Route("/api/polls/{poll_id:id}/hide-counts", hide_counts, methods=["POST"]),
    Route("/api/polls/{poll_id:id}/countdown", countdown, methods=["POST"]),
    Route("/api/polls/{poll_id:id}/reveal", reveal, methods=["POST"]),
    Route("/api/polls/{poll_id:id}/show-results", show_results, methods=["POST"]),
    Route("/api/polls/{poll_id:id}/results", results, methods=["GET"]),
    Route("/api/polls/{poll_id:id}/ties", resolve_tie, methods=["POST"]),
    Route("/api/polls/{poll_id:id}/expected-voters", expected_voters, methods=["POST"]),
    Route("/api/polls/{poll_id:id}/stage-order", set_stage_order, methods=["POST"]),
    Route("/api/polls/{poll_id:id}/flagged", flagged, methods=["GET"]),
    Route("/api/polls/{poll_id:id}/exclusions", exclude_flagged, methods=["POST"]),
    Route("/api/audit", audit, methods=["GET"]),
]
