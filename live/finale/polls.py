"""Poll rules shared by the organiser pages, the API and the stream.

Checks what organisers and voters send, and turns stored records into the views that
the API, the stage and the results pages show.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from live import tally
from live.errors import N_, BadRequest, Conflict
from live.inputs import parse_whole
from live.store.models import (
    Eligibility,
    FinalistDraft,
    LockedResult,
    Poll,
    PollDraft,
    PollSettings,
    PollStatus,
    Snapshot,
    TieResolution,
    TieRule,
)
from live.store.timestamps import now_iso
from live.tally import Method, Standing

MIN_FINALISTS = 2
MAX_FINALISTS = 10
DEFAULT_WINNERS = 3
TITLE_MAX = 200
NAME_MAX = 120
PITCH_MAX = 600
OWNER_MAX = 200
NOTE_MAX = 500
COUNTDOWN_MIN_SECONDS = 5
COUNTDOWN_MAX_SECONDS = 3600
EXPECTED_VOTERS_MAX = 100_000
SETTING_FIELDS = ("eligibility", "max_choices", "tie_rule", "expected_voters")


def _text(value: object, field: str, limit: int, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadRequest(N_("%(field)s must be text."), field=field)
    text = " ".join(value.split())
    if required and not text:
        raise BadRequest(N_("%(field)s is required."), field=field)
    if len(text) > limit:
        raise BadRequest(
            N_("%(field)s is too long: at most %(limit)s characters."), field=field, limit=limit
        )
    return text


def check_draft(
    title: object,
    method: object,
    winners: object,
    finalists: Sequence[Mapping[str, object]],
    settings: Mapping[str, object] | None = None,
) -> PollDraft:
    """A valid `PollDraft` from loose input, or BadRequest naming the field at fault.

    `settings` holds the loose `SETTING_FIELDS` (absent, None or "": the default)."""
    clean_title = _text(title, "title", TITLE_MAX, required=True)
    try:
        clean_method = Method(str(method)) if method else Method.SINGLE
    except ValueError:
        raise BadRequest(
            N_("The method %(value)s is unknown: use single, ranked or approval."),
            field="method", value=method,
        ) from None  # fmt: skip
    if not MIN_FINALISTS <= len(finalists) <= MAX_FINALISTS:
        raise BadRequest(
            N_("A poll needs from %(min)s to %(max)s finalists; %(count)s were given."),
            field="finalists", min=MIN_FINALISTS, max=MAX_FINALISTS, count=len(finalists),
        )  # fmt: skip
    drafts: list[FinalistDraft] = []
    for number, item in enumerate(finalists, start=1):
        if not isinstance(item, Mapping):
            raise BadRequest(N_("Finalist %(number)s must be an object."), number=number)
        drafts.append(
            FinalistDraft(
                name=_text(item.get("name"), f"finalists[{number}].name", NAME_MAX, True),
                pitch=_text(item.get("pitch"), f"finalists[{number}].pitch", PITCH_MAX, False),
                owner=_text(item.get("owner"), f"finalists[{number}].owner", OWNER_MAX, False),
            )
        )
    names = [d.name.casefold() for d in drafts]
    if len(set(names)) != len(names):
        raise BadRequest(N_("Two finalists have the same name."), field="finalists")
    if winners in (None, ""):
        clean_winners = min(DEFAULT_WINNERS, len(drafts))
    else:
        try:
            clean_winners = int(str(winners))
        except ValueError:
            clean_winners = 0
        if not 1 <= clean_winners <= len(drafts):
            raise BadRequest(
                N_("The number of winners must be from 1 to %(max)s, not %(value)s."),
                field="winners", max=len(drafts), value=winners,
            )  # fmt: skip
    clean_settings = check_settings(clean_method, len(drafts), settings or {})
    return PollDraft(clean_title, clean_method, clean_winners, tuple(drafts), clean_settings)


def _absent(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _whole(value: object) -> int | None:
    """A whole number from JSON (an int) or a form (ASCII digits), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return parse_whole(value, 7) if isinstance(value, str) else None


def check_settings(method: Method, finalists: int, raw: Mapping[str, object]) -> PollSettings:
    """The poll's settings from loose input, or BadRequest naming the field at fault."""
    eligibility, rule, limit = raw.get("eligibility"), raw.get("tie_rule"), raw.get("max_choices")
    try:
        clean_eligibility = (
            Eligibility.OPEN if _absent(eligibility) else Eligibility(str(eligibility))
        )
    except ValueError:
        raise BadRequest(
            N_("Who may vote (eligibility) must be open or badge, not %(value)s."),
            field="eligibility",
            value=eligibility,
        ) from None
    try:
        clean_rule = TieRule.LOTS if _absent(rule) else TieRule(str(rule))
    except ValueError:
        raise BadRequest(
            N_("The tie rule (tie_rule) must be lots or decision, not %(value)s."),
            field="tie_rule",
            value=rule,
        ) from None
    clean_limit = None
    if method is Method.APPROVAL:
        clean_limit = _whole(limit)
        if clean_limit is None or not 1 <= clean_limit < finalists:
            raise BadRequest(
                N_(
                    "Approval voting needs max_choices: how many finalists a voter may "
                    "approve, a whole number from 1 to %(max)s."
                ),
                field="max_choices",
                max=finalists - 1,
            )
    elif not _absent(limit):
        raise BadRequest(
            N_("max_choices is only for approval voting; leave it out for %(method)s."),
            field="max_choices",
            method=method.value,
        )
    expected = check_expected_voters(raw.get("expected_voters"))
    return PollSettings(clean_eligibility, clean_limit, clean_rule, expected)


def check_expected_voters(value: object) -> int | None:
    """The number of voters an organiser expects (None: not said), or BadRequest."""
    if _absent(value):
        return None
    number = _whole(value)
    if number is None or not 1 <= number <= EXPECTED_VOTERS_MAX:
        raise BadRequest(
            N_(
                "The expected number of voters (expected_voters) must be a whole number "
                "from 1 to %(max)s."
            ),
            field="expected_voters",
            max=EXPECTED_VOTERS_MAX,
        )
    return number


def parse_choices(poll: Poll, raw: Sequence[str]) -> tuple[int, ...]:
    """The voter's choices as finalist ids in rank order, or BadRequest in plain words."""
    values = [value.strip() for value in raw if value.strip()]
    try:
        choices = tuple(int(value) for value in values)
    except ValueError:
        raise BadRequest(N_("That choice is not one of the finalists."), field="choice") from None
    try:
        choices = tally.normal_choices(poll.method, choices)
        tally.check_choices(poll.method, poll.finalist_ids, choices, poll.settings.max_choices)
    except ValueError as problem:
        reason = str(problem)
        if reason == "no choice":
            raise BadRequest(N_("Choose a finalist before you vote."), field="choice") from None
        if reason == "too many choices":
            raise BadRequest(
                N_("You can choose at most %(max)s."), field="choice",
                max=poll.choice_limit,
            ) from None  # fmt: skip
        if reason == "duplicate choice":
            raise BadRequest(
                N_("You chose the same finalist more than once."), field="choice"
            ) from None
        raise BadRequest(N_("That choice is not one of the finalists."), field="choice") from None
    return choices


def standings_view(poll: Poll, standings: Sequence[Standing]) -> list[dict[str, Any]]:
    names = {f.id: f.name for f in poll.finalists}
    return [
        {"finalist_id": s.finalist_id, "name": names.get(s.finalist_id, "?"),
         "score": s.score, "place": s.place, "tied": s.tied}
        for s in standings
    ]  # fmt: skip


def decided_winners(poll: Poll, standings: Sequence[Standing],
                    resolutions: Sequence[TieResolution]) -> tuple[int, ...]:  # fmt: skip
    return tally.winners(standings, poll.winners, [r.order for r in resolutions])


def open_ties_view(
    poll: Poll, standings: Sequence[Standing], resolutions: Sequence[TieResolution]
) -> list[dict[str, Any]]:
    """The ties for a winning place that no recorded resolution settles yet."""
    resolved = {frozenset(r.order) for r in resolutions}
    return [
        {"finalist_ids": list(group.finalist_ids), "place": group.place, "score": group.score}
        for group in tally.ties_to_resolve(standings, poll.winners)
        if frozenset(group.finalist_ids) not in resolved
    ]


def resolutions_view(resolutions: Sequence[TieResolution]) -> list[dict[str, Any]]:
    return [
        {
            "order": list(r.order),
            "rule": r.rule.value,
            "seed": r.seed,
            "note": r.note,
            "decided_by": r.decided_by,
            "decided_at": r.decided_at,
        }
        for r in resolutions
    ]


def result_view(poll: Poll, snapshot: Snapshot, locked: LockedResult | None) -> dict[str, Any]:
    """The results as the API returns them: locked counts once closed, running before."""
    if locked is not None:
        standings, ballots, resolutions = locked.standings, locked.ballots, locked.resolutions
    else:
        running = tally.count(poll.method, poll.finalist_ids, snapshot.counts)
        standings, ballots, resolutions = running.standings, running.ballots, ()
    return {
        "poll_id": poll.id,
        "status": poll.status.value,
        "method": poll.method.value,
        "ballots": ballots,
        "tally": standings_view(poll, standings),
        "winners": list(decided_winners(poll, standings, resolutions)),
        "open_ties": open_ties_view(poll, standings, resolutions),
        "resolutions": resolutions_view(resolutions),
        "locked_at": locked.locked_at if locked else None,
    }


def reveal_target(poll: Poll, locked: LockedResult, place: object = None) -> int:
    """How many places must be shown to reveal `place` (None: the next place).

    Revealing a place that is shown already is fine (the store then changes nothing);
    a place that is not the next one, or one that an open tie still blocks, is a
    Conflict that says which place comes next or what must happen first."""
    if poll.status is not PollStatus.CLOSED:
        raise Conflict(N_("Places can be revealed only after the poll is closed."))
    if place is None:
        if poll.revealed >= poll.winners:
            raise Conflict(N_("Every winning place has been revealed."))
        target = poll.revealed + 1
    else:
        number = place if isinstance(place, int) and not isinstance(place, bool) else None
        if number is None or not 1 <= number <= poll.winners:
            raise BadRequest(
                N_("The place must be a whole number from 1 to %(max)s."),
                field="place",
                max=poll.winners,
            )
        target = poll.winners - number + 1
        if target <= poll.revealed:
            return target
        if target != poll.revealed + 1:
            raise Conflict(
                N_("Place %(place)s is not next: reveal place %(next)s first."),
                place=number,
                next=poll.winners - poll.revealed,
            )
    if len(decided_winners(poll, locked.standings, locked.resolutions)) < poll.winners:
        raise Conflict(N_("A tie for a winning place must be resolved before the reveal."))
    return target


def check_results_showable(poll: Poll) -> None:
    """Conflict unless every winning place is revealed: the full result comes after."""
    if not poll.reveal_complete:
        raise Conflict(N_("The full result can be shown once every winning place is revealed."))


def countdown_seconds(value: object) -> int | None:
    """Seconds for a countdown from loose input (None or "" cancels it), or BadRequest."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        number = None
    elif isinstance(value, int):
        number = value
    else:
        text = value.strip()
        number = int(text) if text.isascii() and text.isdecimal() and len(text) <= 6 else None
    if number is None or not COUNTDOWN_MIN_SECONDS <= number <= COUNTDOWN_MAX_SECONDS:
        raise BadRequest(
            N_("The countdown must be from %(min)s to %(max)s seconds."),
            field="seconds",
            min=COUNTDOWN_MIN_SECONDS,
            max=COUNTDOWN_MAX_SECONDS,
        )
    return number


_ANNOUNCED = {
    TieRule.LOTS: N_(
        "This poll announced that a tie is settled by drawing lots, so no decision can be "
        "recorded instead."
    ),
    TieRule.DECISION: N_(
        "This poll announced that a tie is settled by the organisers' recorded decision, so "
        "lots cannot be drawn instead."
    ),
}


def check_note(value: object) -> str:
    """A recorded decision's note (who decided, and why): required, at most NOTE_MAX."""
    if value is not None and not isinstance(value, str):
        raise BadRequest(N_("%(field)s must be text."), field="note")
    text = " ".join((value or "").split())
    if not text:
        raise BadRequest(N_("Say who decided and why, in the note."), field="note")
    if len(text) > NOTE_MAX:
        raise BadRequest(
            N_("%(field)s is too long: at most %(limit)s characters."), field="note", limit=NOTE_MAX
        )
    return text


def make_resolution(
    poll: Poll, locked: LockedResult, rule: str, order: Sequence[int], note: str, who: str
) -> TieResolution:
    """A checked tie resolution: `lots` draws the order from a fresh recorded seed.

    Only the rule the poll announced (`poll.tie_rule`) is taken: Conflict otherwise."""
    try:
        clean_rule = TieRule(rule)
    except ValueError:
        raise BadRequest(N_("The rule must be lots or decision."), field="rule") from None
    if clean_rule is not poll.tie_rule:
        raise Conflict(_ANNOUNCED[poll.tie_rule], field="rule")
    try:
        group = tally.check_resolution(locked.standings, poll.winners, order)
    except ValueError:
        raise BadRequest(
            N_("Those finalists are not an open tie for a winning place."), field="order"
        ) from None
    seed = None
    final_order = tuple(order)
    if clean_rule is TieRule.LOTS:
        seed = secrets.token_hex(8)
        final_order = tally.draw_lots(group.finalist_ids, seed)
    elif not note.strip():
        raise BadRequest(N_("Say who decided and why, in the note."), field="note")
    clean_note = " ".join(note.split())
    if len(clean_note) > NOTE_MAX:
        raise BadRequest(
            N_("%(field)s is too long: at most %(limit)s characters."), field="note", limit=NOTE_MAX
        )
    return TieResolution(final_order, clean_rule, seed, clean_note, who, now_iso())
