"""The bulletin: every counted ballot of a closed poll, published so anyone can recount.

A bulletin is a JSON document (`FORMAT`) with the poll's rules, its finalists in the
stage's order, every counted ballot as `{"receipt", "choices"}` sorted by receipt (an
order unrelated to voting order), the ballots taken out by a recorded decision apart
with that decision, the tie resolutions, the tally, the winners and `digest`.

The digest is "sha256:" and the hex SHA-256 of the *canonical form*: the document
without its `digest` key, serialised as
`json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` and encoded
as UTF-8. The document holds only whole numbers, text, lists, objects and null, so the
form is the same in any language that sorts keys by code point. The README says so too.

`verify` checks a bulletin without trusting whoever published it: the digest, every
ballot against the method's rules, a recount with `live.tally`, the winners with the
recorded tie resolutions, and each drawn lot against its seed. People's e-mail
addresses never appear: the bulletin is public.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from live import tally
from live.errors import N_, Conflict
from live.store import Store
from live.store.models import BallotRecord, Exclusion, LockedResult, Poll, PollStatus, TieRule
from live.tally import Method, Standing

FORMAT = "live-bulletin/1"
DIGEST_PREFIX = "sha256:"
CACHE_ENTRIES = 64  # bulletins kept per store: one per closed poll version
NOT_CLOSED = N_("The list of ballots is published once the poll is closed.")

_Document = dict[str, Any]
_caches: WeakKeyDictionary[Store, OrderedDict[tuple[int, int], _Document]] = WeakKeyDictionary()


def canonical(document: Mapping[str, Any]) -> bytes:
    """The bytes the digest is taken over: the document without `digest`, in canonical JSON."""
    rest = {key: value for key, value in document.items() if key != "digest"}
    text = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def digest_of(document: Mapping[str, Any]) -> str:
    """ "sha256:<hex>" of the canonical form of `document`."""
    return DIGEST_PREFIX + hashlib.sha256(canonical(document)).hexdigest()


def _ballot_key(ballot: BallotRecord) -> tuple[str, tuple[int, ...]]:
    return ballot.receipt, tuple(ballot.choices)


def build(
    poll: Poll,
    result: LockedResult,
    ballots: Sequence[BallotRecord],
    exclusions: Sequence[Exclusion],
) -> _Document:
    """The bulletin of a closed poll from its locked result and its stored ballots.

    The tally and winners are the locked result's; the ballots are the stored ones, so a
    recount of the bulletin checks the one against the other."""
    counted = sorted((b for b in ballots if b.excluded_by is None), key=_ballot_key)
    excluded = sorted((b for b in ballots if b.excluded_by is not None), key=_ballot_key)
    standings = result.standings
    document: _Document = {
        "format": FORMAT,
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
        "finalists": [{"id": f.id, "name": f.name, "owner": f.owner} for f in poll.finalists],
        "ballots": [{"receipt": b.receipt, "choices": list(b.choices)} for b in counted],
        "excluded": [
            {"receipt": b.receipt, "choices": list(b.choices), "exclusion": b.excluded_by}
            for b in excluded
        ],
        "exclusions": [
            {"id": e.id, "note": e.note, "decided_at": e.decided_at, "ballots": e.ballots}
            for e in exclusions
        ],
        "tie_resolutions": [
            {
                "order": list(r.order),
                "rule": r.rule.value,
                "seed": r.seed,
                "note": r.note,
                "decided_at": r.decided_at,
            }
            for r in result.resolutions
        ],
        "tally": [
            {"finalist_id": s.finalist_id, "score": s.score, "place": s.place} for s in standings
        ],
        "winners": list(
            tally.winners(standings, poll.winners, [r.order for r in result.resolutions])
        ),
        "locked_at": result.locked_at,
    }
    document["digest"] = digest_of(document)
    return document


async def bulletin_for(store: Store, poll_id: int) -> _Document:
    """The bulletin of a closed poll, built once per poll version; Conflict before closing."""
    return await _bulletin(store, await store.get_poll(poll_id))


async def digest_for(store: Store, poll: Poll) -> str | None:
    """The bulletin's digest for a closed poll (None before closing)."""
    if poll.status is not PollStatus.CLOSED:
        return None
    digest: str = (await _bulletin(store, poll))["digest"]
    return digest


async def _bulletin(store: Store, poll: Poll) -> _Document:
    if poll.status is not PollStatus.CLOSED:
        raise Conflict(NOT_CLOSED)
    cache = _caches.setdefault(store, OrderedDict())
    key = (poll.id, poll.version)
    found = cache.get(key)
    if found is not None:
        cache.move_to_end(key)
        return found
    result = await store.get_result(poll.id)
    document = build(
        poll, result, await store.list_ballots(poll.id), await store.list_exclusions(poll.id)
    )
    cache[key] = document
    while len(cache) > CACHE_ENTRIES:
        cache.popitem(last=False)
    return document


# --- checking a bulletin ------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """What `verify` found: `ok` when nothing is wrong; each problem in plain English.

    `tally` and `winners` are the recount's, whatever the document claims."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    tally: tuple[Standing, ...] = ()
    winners: tuple[int, ...] = ()
    readable: bool = True  # False: not a bulletin at all, so nothing was recounted


class _Malformed(ValueError):
    """The document is not a bulletin this program can read."""


def _get(container: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = container.get(key)
    whole = kind is int or (isinstance(kind, tuple) and int in kind)
    if (isinstance(value, bool) and whole) or not isinstance(value, kind):
        raise _Malformed(f"{where}{key} is missing or of the wrong type")
    return value


def _objects(document: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items: list[Mapping[str, Any]] = _get(document, key, list, "")
    if not all(isinstance(item, dict) for item in items):
        raise _Malformed(f"{key} must be a list of objects")
    return items


def _ids(values: Any, where: str) -> tuple[int, ...]:
    if not isinstance(values, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in values
    ):
        raise _Malformed(f"{where} must be a list of finalist ids")
    return tuple(values)


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    return False


def verify(document: Any) -> Verification:
    """Check a bulletin: digest, ballots, recount, winners and drawn lots."""
    try:
        return _verify(document)
    except _Malformed as problem:
        return Verification(False, [f"This is not a readable bulletin: {problem}."], readable=False)


def _verify(document: Any) -> Verification:
    if not isinstance(document, dict):
        raise _Malformed("it is not a JSON object")
    if document.get("format") != FORMAT:
        raise _Malformed(f"its format is not {FORMAT}")
    if _has_float(document):
        raise _Malformed("it holds a number with a fraction, where only whole numbers belong")
    problems: list[str] = []
    try:
        computed = digest_of(document)
    except (UnicodeEncodeError, TypeError, ValueError):
        raise _Malformed("its text cannot be put in canonical form") from None
    if document.get("digest") != computed:
        problems.append(
            f"The digest does not match the contents: it says {document.get('digest')!r}, "
            f"the contents give {computed!r}. The bulletin was changed after it was made."
        )
    poll = _get(document, "poll", dict, "")
    try:
        method = Method(_get(poll, "method", str, "poll."))
    except ValueError:
        raise _Malformed(f"the method {poll.get('method')!r} is unknown") from None
    limit = poll.get("max_choices")
    if method is Method.APPROVAL and (not isinstance(limit, int) or isinstance(limit, bool)):
        raise _Malformed("an approval poll needs poll.max_choices")
    places = _get(poll, "winners", int, "poll.")
    finalist_ids = tuple(
        _get(f, "id", int, "finalists[].") for f in _objects(document, "finalists")
    )
    counted = _objects(document, "ballots")
    excluded = _objects(document, "excluded")
    exclusion_ids = {_get(e, "id", int, "exclusions[].") for e in _objects(document, "exclusions")}
    receipts: Counter[str] = Counter()
    patterns: Counter[tuple[int, ...]] = Counter()
    for where, ballots in (("ballots", counted), ("excluded", excluded)):
        for ballot in ballots:
            receipt = _get(ballot, "receipt", str, f"{where}[].")
            choices = _ids(ballot.get("choices"), f"the choices of ballot {receipt}")
            receipts[receipt] += 1
            try:
                tally.check_choices(method, finalist_ids, choices, limit)
            except ValueError as reason:
                problems.append(
                    f"Ballot {receipt} is not valid for {method.value} voting: {reason}."
                )
            if where == "ballots":
                patterns[choices] += 1
            elif ballot.get("exclusion") not in exclusion_ids:
                problems.append(f"Excluded ballot {receipt} names no recorded exclusion decision.")
    problems += [f"Receipt {r} appears {n} times." for r, n in sorted(receipts.items()) if n > 1]
    recount = tally.count(method, finalist_ids, sorted(patterns.items())).standings
    problems += _tally_problems(document, recount)
    orders = _resolution_orders(document, recount, places, problems)
    winners = tally.winners(recount, places, orders)
    claimed = _ids(document.get("winners"), "winners")
    if claimed != winners:
        problems.append(
            f"The winners do not match the recount: the bulletin says {list(claimed)}, "
            f"the recount and the tie resolutions give {list(winners)}."
        )
    return Verification(not problems, problems, recount, winners)


def _tally_problems(document: Mapping[str, Any], recount: Sequence[Standing]) -> list[str]:
    claimed = [
        (
            _get(line, "finalist_id", int, "tally[]."),
            _get(line, "score", int, "tally[]."),
            _get(line, "place", int, "tally[]."),
        )
        for line in _objects(document, "tally")
    ]
    counted = [(s.finalist_id, s.score, s.place) for s in recount]
    if claimed == counted:
        return []
    said = {line[0]: line for line in claimed}
    problems = []
    for finalist_id, score, place in counted:
        line = said.get(finalist_id)
        if line is None:
            problems.append(f"The tally leaves out finalist {finalist_id}.")
        elif line[1:] != (score, place):
            problems.append(
                f"The tally does not match the recount for finalist {finalist_id}: the "
                f"bulletin says {line[1]} points (place {line[2]}), the recount gives "
                f"{score} points (place {place})."
            )
    if not problems:
        problems.append("The tally does not match the recount: its lines differ.")
    return problems


def _resolution_orders(
    document: Mapping[str, Any], recount: Sequence[Standing], places: int, problems: list[str]
) -> list[tuple[int, ...]]:
    orders = []
    for resolution in _objects(document, "tie_resolutions"):
        order = _ids(resolution.get("order"), "the order of a tie resolution")
        try:
            group = tally.check_resolution(recount, places, order)
        except ValueError:
            problems.append(f"The tie resolution {list(order)} resolves no tie of the recount.")
            continue
        if resolution.get("rule") == TieRule.LOTS.value:
            seed = resolution.get("seed")
            drawn = tally.draw_lots(group.finalist_ids, seed) if isinstance(seed, str) else None
            if drawn != order:
                problems.append(
                    f"The lots drawn with seed {seed!r} give {list(drawn or ())}, "
                    f"not the recorded order {list(order)}."
                )
                continue
        orders.append(order)
    return orders
