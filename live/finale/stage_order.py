"""The stage's fixed order of the finalists: the organiser's choice, or a draw.

A list read top to bottom favours its first names, so the stage's order is set on
purpose while the poll is a draft: chosen by the organiser or drawn. Each voter sees an
order of their own (`live.finale.order`). A draft is saved again in the new order, so
the finalists' ids may change, and the audit entry of the update shows the order.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from live import tally
from live.errors import N_, BadRequest, Conflict
from live.store.models import FinalistDraft, Poll, PollDraft, PollStatus


def draft_of(poll: Poll, order: Sequence[int]) -> PollDraft:
    """The poll as a draft with its finalists in `order` (a checked permutation of
    `poll.finalist_ids`), its title, method, winners and settings unchanged."""
    finalists = {f.id: f for f in poll.finalists}
    return PollDraft(
        poll.title,
        poll.method,
        poll.winners,
        tuple(
            FinalistDraft(finalists[i].name, finalists[i].pitch, finalists[i].owner) for i in order
        ),
        poll.settings,
    )


def check_order(poll: Poll, order: object) -> tuple[int, ...]:
    """`order` when it names every finalist of the poll once (Conflict unless the poll is
    a draft; BadRequest naming `order` otherwise)."""
    if poll.status is not PollStatus.DRAFT:
        raise Conflict(N_("The stage order is fixed once voting opens."))
    ids = (
        tuple(order)
        if isinstance(order, list)
        and all(isinstance(i, int) and not isinstance(i, bool) for i in order)
        else None
    )
    if ids is None or sorted(ids) != sorted(poll.finalist_ids):
        raise BadRequest(
            N_("order must list every finalist's id once, in the stage's order."), field="order"
        )
    return ids


def drawn_order(poll: Poll) -> tuple[int, ...]:
    """The poll's finalist ids in an order drawn from the operating system's CSPRNG."""
    if poll.status is not PollStatus.DRAFT:
        raise Conflict(N_("The stage order is fixed once voting opens."))
    order = list(poll.finalist_ids)
    secrets.SystemRandom().shuffle(order)
    return tuple(order)


def seeded_order(ids: Sequence[int], seed: str) -> tuple[int, ...]:
    """`ids` in an order drawn from `seed`: anyone with the seed and the ids can redo the
    draw (`tally.draw_lots`, as for ties)."""
    return tally.draw_lots(ids, seed)


def new_seed() -> str:
    """A fresh seed for `seeded_order`, to record beside the order it gives."""
    return secrets.token_hex(8)
