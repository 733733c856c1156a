"""What each kind of screen is shown of a poll, as the live streams send it.

Three views of one snapshot, each serialised once per version and shared by every screen
of its kind (see `hub`):

- **stage**: the public screen on the projector, and anything else public. Counts only
  while they may be seen: never from closing until the last winning place is revealed,
  whatever "hide counts" says; otherwise only when counts are not hidden.
- **phone**: what a voter's phone needs to follow the show. Small, and unchanged by a
  vote, so that thousands of phones get a message only when the show moves on.
- **console**: the host's controls: everything, running or locked counts included. Sent
  only to organisers and hosts.

The stage and console views also state the poll's rules (method, k, tie rule, who may vote). The
bulletin's digest joins the stage view only once the reveal is complete: the stage never
says more than the host has chosen to show (`views_of` fetches it).
"""

from __future__ import annotations

from typing import Any

from live import tally
from live.finale.bulletin import digest_for
from live.finale.polls import (
    decided_winners,
    open_ties_view,
    resolutions_view,
    standings_view,
)
from live.store import Store
from live.store.models import Poll, PollStatus, Snapshot, TieRule

STAGE = "stage"
PHONE = "phone"
CONSOLE = "console"
KINDS = (STAGE, PHONE, CONSOLE)


def counts_visible(snapshot: Snapshot) -> bool:
    """Whether the public may see counts now: the result is never given away before the
    reveal is over, and "hide counts" is obeyed before and after it."""
    poll = snapshot.poll
    if poll.status is PollStatus.CLOSED and not poll.reveal_complete:
        return False
    return not poll.hide_counts


def _podium(snapshot: Snapshot, with_scores: bool) -> list[dict[str, Any]]:
    """The revealed places, lowest first (place 3, then 2, then 1)."""
    poll = snapshot.poll
    if poll.status is not PollStatus.CLOSED:
        return []
    running = tally.count(poll.method, poll.finalist_ids, snapshot.counts)
    decided = decided_winners(poll, running.standings, snapshot.resolutions)
    scores = {s.finalist_id: s.score for s in running.standings}
    by_lots = {
        finalist_id
        for resolution in snapshot.resolutions
        if resolution.rule is TieRule.LOTS
        for finalist_id in resolution.order
    }
    podium = []
    for index in range(poll.revealed):
        place = poll.winners - index
        if place > len(decided):
            continue
        finalist = poll.finalist(decided[place - 1])
        entry: dict[str, Any] = {
            "place": place,
            "finalist_id": decided[place - 1],
            "name": finalist.name if finalist else "?",
            "owner": finalist.owner if finalist else "",
            "lots": decided[place - 1] in by_lots,
        }
        if with_scores:
            entry["score"] = scores.get(decided[place - 1], 0)
        podium.append(entry)
    return podium


def rules(poll: Poll) -> dict[str, Any]:
    """The poll's rules as the stage and the ballot state them: fixed once it opens."""
    return {
        "method": poll.method.value,
        "max_choices": poll.choice_limit,
        "tie_rule": poll.tie_rule.value,
        "eligibility": poll.eligibility.value,
    }


def stage_view(snapshot: Snapshot, digest: str | None = None) -> dict[str, Any]:
    """The public view: the stage screen and the public stream.

    `digest` (the bulletin's) is carried only once the reveal is complete, never before."""
    poll = snapshot.poll
    visible = counts_visible(snapshot)
    message: dict[str, Any] = {
        "version": poll.version,
        "status": poll.status.value,
        "ballots": snapshot.ballots,
        "code": poll.code,
        "title": poll.title,
        **rules(poll),
        "winners": poll.winners,
        "hide_counts": poll.hide_counts,
        "closes_at": poll.closes_at if poll.status is PollStatus.OPEN else None,
        "finalists": [{"id": f.id, "name": f.name, "owner": f.owner} for f in poll.finalists],
        "revealed": poll.revealed,
        "reveal_complete": poll.reveal_complete,
        "show_results": poll.show_results and poll.reveal_complete,
        "podium": _podium(snapshot, with_scores=visible),
    }
    if visible:
        running = tally.count(poll.method, poll.finalist_ids, snapshot.counts)
        message["tally"] = standings_view(poll, running.standings)
    if digest is not None and poll.reveal_complete:
        message["digest"] = digest
    return message


def phone_view(snapshot: Snapshot) -> dict[str, Any]:
    """What a voter's phone follows: status, closing time and the revealed places.

    No version: it rises with every vote, and phones must hear nothing from a vote. A
    stream's messages arrive in order, and each is the whole state."""
    poll = snapshot.poll
    return {
        "status": poll.status.value,
        "closes_at": poll.closes_at if poll.status is PollStatus.OPEN else None,
        "winners": poll.winners,
        "revealed": poll.revealed,
        "reveal_complete": poll.reveal_complete,
        "podium": [
            {key: entry[key] for key in ("place", "finalist_id", "name", "lots")}
            for entry in _podium(snapshot, with_scores=False)
        ],
    }


def console_view(snapshot: Snapshot) -> dict[str, Any]:
    """Everything the host's console shows, counts included: organisers and hosts only."""
    poll = snapshot.poll
    running = tally.count(poll.method, poll.finalist_ids, snapshot.counts)
    closed = poll.status is PollStatus.CLOSED
    message = stage_view(snapshot)
    message["podium"] = _podium(snapshot, with_scores=True)
    message["tally"] = standings_view(poll, running.standings)
    message["counts_public"] = counts_visible(snapshot)
    message["open_ties"] = (
        open_ties_view(poll, running.standings, snapshot.resolutions) if closed else []
    )
    message["resolutions"] = resolutions_view(snapshot.resolutions)
    message["show_results"] = poll.show_results
    message["next"] = _next_step(poll.status, poll.winners - poll.revealed, message["open_ties"])
    return message


def _next_step(
    status: PollStatus, next_place: int, open_ties: list[dict[str, Any]]
) -> dict[str, Any]:
    """What the show waits for: open, close, a tie to resolve, a place to reveal, or done."""
    if status is PollStatus.DRAFT:
        return {"step": "open"}
    if status is PollStatus.OPEN:
        return {"step": "close"}
    if open_ties:
        return {"step": "tie", "place": min(tie["place"] for tie in open_ties)}
    if next_place > 0:
        return {"step": "reveal", "place": next_place}
    return {"step": "done"}


async def views_of(store: Store, snapshot: Snapshot) -> dict[str, dict[str, Any]]:
    """Every kind of view of one snapshot, the bulletin's digest on the stage included
    once the reveal is complete (read only then: a closed poll's bulletin never changes)."""
    poll = snapshot.poll
    digest = await digest_for(store, poll) if poll.reveal_complete else None
    return {
        STAGE: stage_view(snapshot, digest),
        PHONE: phone_view(snapshot),
        CONSOLE: console_view(snapshot),
    }
