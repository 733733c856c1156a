"""What an idea's contact person is told: the idea's state, on its private page and by mail.

The state is worked out from the records each time (`standing`), so the private page is
always right. Mail goes out on the sender's own saves and withdrawal (a receipt with the
private link and a summary), and when the state changes by someone else's hand: routed
or moved, nominated, not nominated, a finalist or not. A per-idea `idea-notice` record
keeps what the contact person was last told, written with compare-and-set before the
mail goes, so a change is mailed once however many processes notice it. Every text is
rendered in the language the idea was written in, not the reader's of the moment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from live import i18n
from live.config import Settings
from live.contest.editions import Edition, Stage, format_local
from live.contest.ideas import IdeaStatus
from live.contest.records import NOMINATIONS, Contest, Idea, nominations_key
from live.errors import N_
from live.mail import send_mail
from live.store.base import StaleRecord
from live.store.timestamps import now_iso

log = logging.getLogger("live.notices")
NOTICE = "idea-notice"  # record kind, keyed by idea id: {"told": state key, "at": ISO time}
NOTICE_ACTOR = "system"


class IdeaState(StrEnum):
    DRAFT = "draft"  # not submitted yet; the deadline has not passed
    NOT_SUBMITTED = "not_submitted"  # a draft when the deadline passed
    SUBMITTED = "submitted"  # received; editable and withdrawable until the deadline
    WITHDRAWN = "withdrawn"
    ROUTED = "routed"  # with its network, which may nominate it
    UNROUTED = "unrouted"  # waiting for an organiser to choose its network
    NOMINATED = "nominated"
    NOT_NOMINATED = "not_nominated"
    FINALIST = "finalist"
    NOT_FINALIST = "not_finalist"


# States whose arrival is news to the sender (mailed when someone else's action brings it).
NEWS = frozenset(
    {
        IdeaState.SUBMITTED,
        IdeaState.ROUTED,
        IdeaState.UNROUTED,
        IdeaState.NOMINATED,
        IdeaState.NOT_NOMINATED,
        IdeaState.FINALIST,
        IdeaState.NOT_FINALIST,
    }
)


@dataclass(frozen=True)
class Standing:
    """Where an idea stands, as its sender is told."""

    state: IdeaState
    network: str  # the receiving network's name; "" while unrouted
    open: bool = False  # before the submission deadline: the sender may still change it
    network_id: str = ""

    @property
    def told_key(self) -> str:
        """What the `idea-notice` record keeps: the state, and where the idea is while
        that can change (a move to another network is news too)."""
        if self.state in (IdeaState.SUBMITTED, IdeaState.ROUTED, IdeaState.UNROUTED):
            return f"routed:{self.network_id}"
        return self.state.value


def state_of(
    idea: Idea, edition: Edition, stage: Stage, *, nominated: bool, finalists: Sequence[int]
) -> IdeaState:
    """The idea's state in `stage`; `finalists` count only once the finale poll fixed them."""
    if idea.status is IdeaStatus.DRAFT:
        return IdeaState.DRAFT if stage is Stage.SUBMISSION else IdeaState.NOT_SUBMITTED
    if idea.status is IdeaStatus.WITHDRAWN:
        return IdeaState.WITHDRAWN
    if stage is Stage.SUBMISSION:
        return IdeaState.SUBMITTED
    if edition.poll_id is not None and finalists:
        if idea.id in finalists:
            return IdeaState.FINALIST
        return IdeaState.NOT_FINALIST if nominated else IdeaState.NOT_NOMINATED
    if nominated:
        return IdeaState.NOMINATED
    if stage is Stage.NOMINATION:
        return IdeaState.ROUTED if idea.network_id else IdeaState.UNROUTED
    return IdeaState.NOT_NOMINATED


async def standing(contest: Contest, idea: Idea, edition: Edition) -> Standing:
    """Where `idea` stands now, from the records."""
    nominated = False
    if idea.network_id is not None:
        record = await contest.store.get_record(
            NOMINATIONS, nominations_key(idea.year, idea.network_id)
        )
        items = record.data.get("nominations", []) if record else []
        nominated = any(item["idea_id"] == idea.id for item in items)
    chosen = await contest.store.get_record("finalists", str(idea.year))
    stage = edition.stage(contest.clock())
    state = state_of(
        idea,
        edition,
        stage,
        nominated=nominated,
        finalists=list(chosen.data.get("idea_ids", [])) if chosen else [],
    )
    network = (await contest.directory()).networks.get(idea.network_id or "")
    return Standing(
        state, network.name if network else "", stage is Stage.SUBMISSION, idea.network_id or ""
    )


def _text(language: str, message: str, **params: object) -> str:
    translated = i18n.load_catalogues()[language].gettext(message)
    return translated % params if params else translated


def describe(standing: Standing, edition: Edition, language: str) -> tuple[str, str]:
    """The state's heading and explanation, in `language` (deadlines in Norwegian time)."""
    state, network = standing.state, standing.network
    when = {
        "deadline": format_local(edition.submission_deadline),
        "nomination_deadline": format_local(edition.nomination_deadline),
        "finale": format_local(edition.finale_at),
    }
    if state is IdeaState.DRAFT:
        return _text(language, N_("Draft: not submitted yet")), _text(
            language,
            N_(
                "The draft is saved, but it does not take part until you submit it. Submit it "
                "before the deadline, %(deadline)s (Norwegian time)."
            ),
            **when,
        )
    if state is IdeaState.NOT_SUBMITTED:
        return _text(language, N_("Not submitted")), _text(
            language,
            N_("The deadline passed before the idea was submitted, so it does not take part."),
        )
    if state is IdeaState.WITHDRAWN:
        if standing.open:
            body = N_(
                "You withdrew the idea, so it does not take part. You can submit it "
                "again until the deadline, %(deadline)s (Norwegian time)."
            )
        else:
            body = N_("You withdrew the idea, so it did not take part.")
        return _text(language, N_("Withdrawn")), _text(language, body, **when)
    if state is IdeaState.SUBMITTED:
        where = (
            _text(language, N_("It goes to %(network)s."), network=network)
            if network
            else _text(language, N_("An organiser will choose which network receives it."))
        )
        return _text(language, N_("Submitted: the idea is received")), " ".join(
            (
                _text(
                    language,
                    N_(
                        "You can change the idea or withdraw it until the deadline, "
                        "%(deadline)s (Norwegian time)."
                    ),
                    **when,
                ),
                where,
            )
        )
    if state is IdeaState.ROUTED:
        return _text(language, N_("With %(network)s"), network=network), _text(
            language,
            N_(
                "The deadline for ideas has passed. %(network)s nominates up to three "
                "of its ideas for the jury by %(nomination_deadline)s (Norwegian "
                "time)."
            ),
            network=network,
            **when,
        )
    if state is IdeaState.UNROUTED:
        return _text(language, N_("Waiting for its network")), _text(
            language, N_("An organiser is choosing which network receives the idea.")
        )
    if state is IdeaState.NOMINATED:
        return _text(language, N_("Nominated by %(network)s"), network=network), _text(
            language,
            N_(
                "The idea goes on to the jury, which chooses the finalists for the "
                "finale, %(finale)s (Norwegian time)."
            ),
            **when,
        )
    if state is IdeaState.NOT_NOMINATED:
        return _text(language, N_("Not nominated")), _text(
            language,
            N_("The idea was not among those nominated for the jury. Thank you for taking part!"),
        )
    if state is IdeaState.FINALIST:
        return _text(language, N_("Finalist")), _text(
            language,
            N_(
                "The jury chose the idea as a finalist. The audience votes for the "
                "winner at the finale, %(finale)s (Norwegian time)."
            ),
            **when,
        )
    return _text(language, N_("Not a finalist")), _text(
        language,
        N_(
            "The idea was nominated, but the jury did not choose it as a finalist. "
            "Thank you for taking part!"
        ),
    )


class Event(StrEnum):
    """The sender's own actions, each confirmed by mail."""

    SAVED = "saved"  # a draft saved
    SUBMITTED = "submitted"  # submitted, or submitted again after a withdrawal
    CHANGED = "changed"  # a submitted idea changed
    WITHDRAWN = "withdrawn"


_SUBJECTS = {
    Event.SAVED: N_("Your draft is saved: %(title)s"),
    Event.SUBMITTED: N_("Your idea is submitted: %(title)s"),
    Event.CHANGED: N_("Your changes are saved: %(title)s"),
    Event.WITHDRAWN: N_("Your idea is withdrawn: %(title)s"),
}


def compose(
    idea: Idea, edition: Edition, standing: Standing, link: str, event: Event | None
) -> tuple[str, str]:
    """The mail's subject and body in the idea's language: a receipt for `event`, or
    (None) the news of the idea's new state."""
    language = idea.language if idea.language in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
    title = " ".join(idea.title.split())
    heading, explanation = describe(standing, edition, language)
    if event is None:
        subject = _text(language, N_("News about your idea: %(title)s"), title=title)
    else:
        subject = _text(language, _SUBJECTS[event], title=title)
    answers = idea.answers
    summary = [
        (N_("Idea number"), str(idea.id)),
        (N_("Title"), title),
        (N_("Idea owner"), idea.owner_label),
        (N_("Network"), standing.network),
        (N_("Contact person"), str(answers.get("contact_name", ""))),
        (N_("Contest"), edition.title),
    ]
    lines = [
        _text(language, N_("Hello %(name)s,"), name=answers.get("contact_name") or ""),
        "",
        f"{heading}.",
        explanation,
        "",
        _text(language, N_("Summary")),
        *(f"{_text(language, label)}: {value}" for label, value in summary if value),
        "",
        _text(
            language,
            N_(
                "Your private link is the way back to the idea. Keep it: anyone "
                "who has it can read the idea, and change it until the deadline."
            ),
        ),
        link,
        "",
        _text(
            language,
            N_(
                "You get this mail because this address is given as the contact "
                "person for the idea in the KS idea competition."
            ),
        ),
    ]
    return subject, "\n".join(lines) + "\n"


async def _claim(contest: Contest, idea_id: int, key: str, *, force: bool) -> bool:
    """Record that the contact person is told `key`; False if they were told it already
    (unless `force`) or another process claimed it in the meantime."""
    record = await contest.store.get_record(NOTICE, str(idea_id))
    if record is not None and record.data.get("told") == key and not force:
        return False
    try:
        await contest.store.put_record(
            NOTICE,
            str(idea_id),
            {"told": key, "at": now_iso()},
            expected_version=record.version if record else 0,
            actor=NOTICE_ACTOR,
            action="idea.notice",
        )
    except StaleRecord:
        return force
    return True


async def tell(
    settings: Settings,
    contest: Contest,
    idea_id: int,
    link_of: Callable[[Idea], str],
    event: Event | None = None,
) -> bool:
    """Mail the idea's contact person: the receipt for `event`, or else the news if its
    state changed since they were last told. True if a mail went out. Never raises: a
    failure is logged, and the action that called this stands."""
    if settings.smtp_url is None:
        return False  # mail is off: the private page says it all
    try:
        idea = await contest.idea(idea_id)
        email = str(idea.answers.get("contact_email") or "")
        edition, _ = await contest.edition(idea.year)
        now = await standing(contest, idea, edition)
        if not email or (event is None and now.state not in NEWS):
            return False
        if not await _claim(contest, idea_id, now.told_key, force=event is not None):
            return False
        subject, body = compose(idea, edition, now, link_of(idea), event)
        return await send_mail(settings, email, subject, body)
    except Exception:  # a notice must never undo or fail the action that caused it
        log.exception("telling the contact person of idea %s failed", idea_id)
        return False


async def tell_edition(
    settings: Settings, contest: Contest, year: int, link_of: Callable[[Idea], str]
) -> int:
    """Tell every sender of a submitted idea in the edition whose state changed (after the
    nominations, the finalists); how many mails went out."""
    if settings.smtp_url is None:
        return 0
    try:
        ideas = await contest.ideas(year)
    except Exception:
        log.exception("listing the ideas of %s to tell their senders failed", year)
        return 0
    sent = 0
    for idea in ideas:
        if idea.status is IdeaStatus.SUBMITTED:
            sent += await tell(settings, contest, idea.id, link_of)
    return sent
