"""The bulletin on the web (`GET /api/polls/{id}/bulletin` and the public page
`/p/{code}/bulletin`) and the organisers' results export (a printable page, JSON, CSV).

The stage never shows more than the host chose, so the public gets the bulletin only
once every winning place is revealed; organisers and hosts (a login session or an API
token) get it as soon as the poll is closed. Before closing there is nothing to publish.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from live.contest.exports import to_csv
from live.errors import N_, Conflict
from live.finale import bulletin, polls
from live.store.codes import normalise_code
from live.store.models import Exclusion, LockedResult, Poll, PollStatus
from live.tally import Method
from live.web.admin import render_admin
from live.web.auth import STAGE_CREW, current_session, require_api_user, require_session
from live.web.services import services
from live.web.stage import rules_line

NOT_REVEALED = N_("The list of ballots is published when the winners have been revealed.")
RECEIPT_TYPED_MAX = 40
# What the README and the page give people to check a digest themselves.
CHECK_SNIPPET = (
    "import hashlib, json, pathlib\n"
    'doc = json.loads(pathlib.Path("{file}").read_text("utf-8")); digest = doc.pop("digest")\n'
    'print(digest == "sha256:" + hashlib.sha256(json.dumps(doc, sort_keys=True, '
    'separators=(",", ":"), ensure_ascii=False).encode("utf-8")).hexdigest())'
)


def _poll_id(request: Request) -> int:
    poll_id: int = request.path_params["poll_id"]
    return poll_id


def _file_name(poll: Poll) -> str:
    return f"bulletin-{poll.code}.json"


async def _is_stage_crew(request: Request) -> bool:
    """An organiser or host asks: by an API token (which must then be valid) or a login."""
    if request.headers.get("authorization"):
        await require_api_user(request, STAGE_CREW)
        return True
    session = await current_session(request)
    return session is not None and session.user.role in STAGE_CREW


async def _published(request: Request, poll: Poll) -> dict[str, Any]:
    if poll.status is not PollStatus.CLOSED:
        raise Conflict(bulletin.NOT_CLOSED)
    if not poll.reveal_complete and not await _is_stage_crew(request):
        raise Conflict(NOT_REVEALED)
    return await bulletin.bulletin_for(services(request).store, poll.id)


async def api_bulletin(request: Request) -> Response:
    """The bulletin as JSON; `?download=1` as a file to keep (`bulletin-CODE.json`)."""
    poll = await services(request).store.get_poll(_poll_id(request))
    document = await _published(request, poll)
    if request.query_params.get("download") != "1":
        return JSONResponse(document)
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    disposition = f'attachment; filename="{_file_name(poll)}"'
    return Response(
        text.encode("utf-8"),
        media_type="application/json",
        headers={"Content-Disposition": disposition},
    )


def _choice_text(poll: Poll, choices: list[int]) -> str:
    names = [f.name if (f := poll.finalist(c)) else "?" for c in choices]
    if poll.method is Method.RANKED:
        return "; ".join(f"{number}. {name}" for number, name in enumerate(names, start=1))
    return ", ".join(names)


def _find_receipt(document: dict[str, Any], typed: str) -> tuple[str, dict[str, Any] | None]:
    """Where a typed receipt is: "counted", "excluded" or "absent" (and its ballot)."""
    wanted = normalise_code(typed)
    for where in ("ballots", "excluded"):
        for ballot in document[where]:
            if normalise_code(ballot["receipt"]) == wanted:
                return ("counted" if where == "ballots" else "excluded"), ballot
    return "absent", None


async def bulletin_page(request: Request) -> Response:
    """The public page: every ballot, the excluded apart, the digest, the download, a
    receipt search (`?receipt=`) and how to check it all."""
    poll = await services(request).polls.find(normalise_code(request.path_params["code"]))
    document = await _published(request, poll)
    typed = request.query_params.get("receipt", "").strip()[:RECEIPT_TYPED_MAX]
    found, ballot = _find_receipt(document, typed) if typed else ("", None)
    decisions = {e["id"]: e for e in document["exclusions"]}
    names = {f.id: f.name for f in poll.finalists}
    api_path = services(request).templates.path_for(request, "api_bulletin", poll_id=poll.id)
    return services(request).templates.render(
        request,
        "bulletin.html",
        {
            "poll": poll,
            "document": document,
            "rules": rules_line(poll),
            "names": names,
            "choice_text": lambda choices: _choice_text(poll, choices),
            "names_of": lambda ids: ", ".join(names.get(i, "?") for i in ids),
            "decisions": decisions,
            "typed": typed,
            "found": found,
            "ballot": ballot,
            "download": f"{api_path}?download=1",
            "file_name": _file_name(poll),
            "snippet": CHECK_SNIPPET.format(file=_file_name(poll)),
        },
    )


# --- the organisers' results export ---------------------------------------------------------


async def _closed(request: Request) -> tuple[Poll, LockedResult, list[Exclusion], str]:
    store = services(request).store
    poll = await store.get_poll(_poll_id(request))
    if poll.status is not PollStatus.CLOSED:
        raise Conflict(N_("The results can be exported once the poll is closed."))
    digest = await bulletin.digest_for(store, poll)
    assert digest is not None
    return poll, await store.get_result(poll.id), await store.list_exclusions(poll.id), digest


def results_document(
    poll: Poll, result: LockedResult, exclusions: list[Exclusion], digest: str
) -> dict[str, Any]:
    """The results export: the poll's rules, the locked result and its digest."""
    standings = result.standings
    return {
        "poll": {
            "id": poll.id,
            "code": poll.code,
            "title": poll.title,
            "method": poll.method.value,
            "max_choices": poll.settings.max_choices,
            "winners": poll.winners,
            "tie_rule": poll.tie_rule.value,
            "eligibility": poll.eligibility.value,
        },
        "ballots": result.ballots,
        "excluded": sum(e.ballots for e in exclusions),
        "tally": polls.standings_view(poll, standings),
        "winners": list(polls.decided_winners(poll, standings, result.resolutions)),
        "open_ties": polls.open_ties_view(poll, standings, result.resolutions),
        "tie_resolutions": polls.resolutions_view(result.resolutions),
        "exclusions": [
            {
                "id": e.id,
                "note": e.note,
                "decided_by": e.decided_by,
                "decided_at": e.decided_at,
                "ballots": e.ballots,
            }
            for e in exclusions
        ],
        "locked_at": result.locked_at,
        "digest": digest,
    }


async def results_page(request: Request) -> Response:
    session = await require_session(request, STAGE_CREW)
    poll, result, exclusions, digest = await _closed(request)
    document = results_document(poll, result, exclusions, digest)
    names = {f.id: f.name for f in poll.finalists}
    return render_admin(
        request,
        "admin/results_print.html",
        session,
        poll=poll,
        results=document,
        rules=rules_line(poll),
        names=names,
        owners={f.id: f.owner for f in poll.finalists},
    )


async def results_json(request: Request) -> Response:
    await require_session(request, STAGE_CREW)
    poll, result, exclusions, digest = await _closed(request)
    document = results_document(poll, result, exclusions, digest)
    disposition = f'attachment; filename="results-{poll.code}.json"'
    return JSONResponse(document, headers={"Content-Disposition": disposition})


async def results_csv(request: Request) -> Response:
    """The tally, a row a finalist, then the poll's facts as name and value."""
    await require_session(request, STAGE_CREW)
    poll, result, exclusions, digest = await _closed(request)
    document = results_document(poll, result, exclusions, digest)
    position = {finalist_id: n for n, finalist_id in enumerate(document["winners"], start=1)}
    owners = {f.id: f.owner for f in poll.finalists}
    tally = to_csv(
        ["place", "finalist_id", "finalist", "owner", "score", "winner"],
        (
            [
                line["place"],
                line["finalist_id"],
                line["name"],
                owners.get(line["finalist_id"], ""),
                line["score"],
                position.get(line["finalist_id"], ""),
            ]
            for line in document["tally"]
        ),
    )
    facts = to_csv(
        ["field", "value"],
        [
            ["title", poll.title],
            ["method", poll.method.value],
            ["max_choices", poll.settings.max_choices],
            ["winners", poll.winners],
            ["tie_rule", poll.tie_rule.value],
            ["eligibility", poll.eligibility.value],
            ["ballots", result.ballots],
            ["excluded", document["excluded"]],
            ["locked_at", result.locked_at],
            ["digest", digest],
        ],
    )
    disposition = f'attachment; filename="results-{poll.code}.csv"'
    return Response(
        tally + "\r\n" + facts.removeprefix("\ufeff"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


_RESULTS = "/admin/polls/{poll_id:id}/results"

routes = [
    Route("/api/polls/{poll_id:id}/bulletin", api_bulletin, methods=["GET"], name="api_bulletin"),
    Route("/p/{code}/bulletin", bulletin_page, name="bulletin_page"),
    Route(_RESULTS, results_page, name="results_print"),
    Route(f"{_RESULTS}.json", results_json, name="results_json"),
    Route(f"{_RESULTS}.csv", results_csv, name="results_csv"),
]
