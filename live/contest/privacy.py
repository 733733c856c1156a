"""Personal data about people: how long it is kept, and what one person can ask for.

An idea's contact person (name, e-mail address, phone: `records.PERSONAL_ANSWERS`) is
kept in the idea only; the audit log names it by reference (`records.redact_personal`).
Three things act on it here:

- **Retention.** When an edition's finale is `Edition.retention_months` behind, the
  contact details of its ideas that were not finalists are erased: set to "" with
  `contact_erased_at`, audited as `idea.erase_contact` (the entry says which fields were
  erased, never their values). `erase_expired` does it, each idea in one compare-and-set
  that also re-reads the edition and the finalists, so any number of processes may run it
  at once and again; `Retention` runs it at start and every hour in each process.
- **Export.** `export_person` gathers everything held about one e-mail address: the ideas
  it is the contact of, accounts, their API tokens, other records that name it, and the
  audit entries it made or that name it.
- **Erasure on request.** `erase_person` erases the contact details of every idea the
  address is the contact of (audited the same way, by the organiser who did it).

Files attached to ideas (`attachments`) belong to the idea, not to its contact person:
the export lists their names, types and sizes (not their bytes), and neither erasure
touches them; their sender removes them through the private link before the deadline.

The audit log is append-only: entries written before the audit log redacted contact
details (and entries whose actor was the address) keep it; `export_person` lists them and
`Holdings.left_in_audit` counts them, so an organiser can say so.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
from dataclasses import dataclass
from typing import Any

from live.contest.attachments import Attachments
from live.contest.editions import Edition
from live.contest.records import PERSONAL_ANSWERS, Contest, Idea, Reads, Write, read_idea, transact
from live.store.models import AuditEntry
from live.store.timestamps import now_iso

log = logging.getLogger("live.contest.privacy")

ERASE_ACTION = "idea.erase_contact"
RETENTION_ACTOR = "retention"  # who erased contact details at the end of the retention period
RETENTION_SECONDS = 3600.0  # how often each process looks for expired contact details
FAILURE_PAUSE_SECONDS = 60.0
AUDIT_PAGE = 5000
# Records other than ideas and accounts that may name a person (searched for the address);
# a new kind of record that can hold an e-mail address belongs here.
OTHER_KINDS = (
    "invitation",
    "nominations",
    "sheet",
    "scoring",
    "finalists",
    "edition",
    "idea-notice",
    "jury-assignment",
    "jury-reminder",
    "jury-member",
    "statement",
    "theme",
    "token-alerts",
    "directory",
)
_ADDRESS_CHARACTERS = r"[\w.+-]"


def normal_address(address: str) -> str:
    """An e-mail address as compared here: trimmed, case folded."""
    return address.strip().casefold()


def has_contact(idea: Idea) -> bool:
    """Whether the idea still holds any contact detail."""
    return any(idea.answers.get(name) for name in PERSONAL_ANSWERS)


def is_contact(idea: Idea, address: str) -> bool:
    return normal_address(str(idea.answers.get("contact_email") or "")) == normal_address(address)


def mentions(value: Any, address: str) -> bool:
    """Whether `value` (JSON data or text) names the address anywhere, as a whole address
    (ola@x.no is not found in kola@x.no)."""
    text = value if isinstance(value, str) else repr(value)
    pattern = (
        rf"(?<!{_ADDRESS_CHARACTERS}){re.escape(normal_address(address))}(?!{_ADDRESS_CHARACTERS})"
    )
    return re.search(pattern, text.casefold()) is not None


def _erased(idea: Idea) -> Write:
    answers = {**idea.answers, **dict.fromkeys(PERSONAL_ANSWERS, "")}
    erased = dataclasses.replace(idea, answers=answers, contact_erased_at=now_iso())
    return Write("idea", str(idea.id), erased.to_data(), ERASE_ACTION)


# Retention -----------------------------------------------------------------------------


async def erase_expired(contest: Contest) -> list[int]:
    """Erase the contact details of every idea that was not a finalist of an edition whose
    retention period has passed by `contest.clock()`; the ids of the ideas erased now."""
    now = contest.clock()
    expired = {e.year for e in await contest.editions() if e.contacts_erased_from <= now}
    erased: list[int] = []
    for record in await contest.store.list_records("idea"):
        idea = Idea.from_record(record)
        if idea.year not in expired or not has_contact(idea):
            continue

        async def plan(reads: Reads, idea_id: int = idea.id) -> list[Write]:
            current = await read_idea(reads, idea_id)
            year = str(current.year)
            edition = await reads.get("edition", year)
            finalists = (await reads.get("finalists", year)) or {}
            if (
                edition is None
                or Edition.from_data(edition).contacts_erased_from > now
                or idea_id in finalists.get("idea_ids", [])
                or not has_contact(current)
            ):
                return []
            return [_erased(current)]

        if await transact(contest.store, plan, actor=RETENTION_ACTOR):
            erased.append(idea.id)
    return erased


class Retention:
    """Runs `erase_expired` at start and every `RETENTION_SECONDS`; logs a failure and
    tries again later (an hour late is within any retention period)."""

    def __init__(self, contest: Contest) -> None:
        self._contest = contest
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="live-retention")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            pause = RETENTION_SECONDS
            try:
                erased = await erase_expired(self._contest)
                if erased:
                    log.info("retention: erased the contact details of ideas %s", erased)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("could not erase expired contact details; trying again", exc_info=True)
                pause = FAILURE_PAUSE_SECONDS
            await asyncio.sleep(pause)


# What is held about one address, its export and its erasure ------------------------------


@dataclass(frozen=True)
class Holdings:
    """Everything held about one e-mail address."""

    address: str
    ideas: list[Idea]  # those it is the contact person of
    accounts: list[dict[str, Any]]
    records: list[dict[str, Any]]  # other records that name it
    audit: list[AuditEntry]  # entries it made, that name it, or about its ideas
    left_in_audit: int  # of those, entries that hold the address itself (written before
    # redaction, or naming it as actor): the append-only log keeps them
    attachments: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # of its
    # ideas: names, types and sizes, never the bytes (erasure leaves the files)

    @property
    def is_empty(self) -> bool:
        return not (self.ideas or self.accounts or self.records or self.audit)


def _made_by(entry: AuditEntry, address: str) -> bool:
    actor = normal_address(entry.actor)
    wanted = normal_address(address)
    return actor == wanted or actor.startswith(wanted + " ")


async def contact_ideas(contest: Contest, address: str) -> list[Idea]:
    """The ideas whose contact person has the address, by number."""
    found = map(Idea.from_record, await contest.store.list_records("idea"))
    return sorted((i for i in found if is_contact(i, address)), key=lambda i: i.id)


async def find_person(contest: Contest, address: str) -> Holdings:
    """What the store holds about `address` (reads every idea, record and audit entry)."""
    store = contest.store
    ideas = await contact_ideas(contest, address)
    users = [
        u for u in await store.list_users() if normal_address(u.email) == normal_address(address)
    ]
    accounts = []
    for user in users:
        tokens = await store.list_api_tokens(user.id)
        accounts.append(
            {
                "id": user.id,
                "email": user.email,
                "role": user.role.value,
                "network_id": user.network_id,
                "created_at": user.created_at,
                "api_tokens": [dataclasses.asdict(token) for token in tokens],
            }
        )
    records = [
        {
            "kind": r.kind,
            "key": r.key,
            "version": r.version,
            "updated_at": r.updated_at,
            "data": r.data,
        }
        for kind in OTHER_KINDS
        for r in await store.list_records(kind)
        if mentions(r.data, address)
    ]
    attachments = [
        {"idea_id": idea.id, "name": a.name, "type": a.type, "size": a.size, "key": a.key}
        for idea in ideas
        for a in await Attachments(store).list(idea.id)
    ]
    subjects = {f"idea:{i.id}" for i in ideas} | {f"user:{u.id}" for u in users}
    subjects |= {f"idea-attachments:{i.id}" for i in ideas}
    subjects |= {f"attachment:{a['key']}" for a in attachments}
    audit, left = [], 0
    after_id = 0
    while page := await store.list_audit(after_id, AUDIT_PAGE):
        after_id = page[-1].id
        for entry in page:
            holds = _made_by(entry, address) or mentions([entry.before, entry.after], address)
            if holds or entry.subject in subjects:
                audit.append(entry)
                left += holds
    return Holdings(address.strip(), ideas, accounts, records, audit, left, attachments)


def export_data(holdings: Holdings) -> dict[str, Any]:
    """The JSON document an organiser hands to the person (no secret: no link nonce, no
    password hash, no token digest)."""

    def idea_data(idea: Idea) -> dict[str, Any]:
        data = idea.to_data()
        del data["nonce"]
        return data

    return {
        "address": holdings.address,
        "exported_at": now_iso(),
        "ideas": [idea_data(i) for i in holdings.ideas],
        "attachments": holdings.attachments,  # names only: the files stay with the ideas
        "accounts": holdings.accounts,
        "records": holdings.records,
        "audit": [dataclasses.asdict(entry) for entry in holdings.audit],
    }


async def erase_person(contest: Contest, address: str, *, actor: str) -> list[int]:
    """Erase the contact details of every idea whose contact is `address`, finalists too;
    the ids of the ideas erased. Accounts are not touched."""
    erased = []
    for idea in await contact_ideas(contest, address):

        async def plan(reads: Reads, idea_id: int = idea.id) -> list[Write]:
            current = await read_idea(reads, idea_id)
            if not is_contact(current, address) or not has_contact(current):
                return []
            return [_erased(current)]

        if await transact(contest.store, plan, actor=actor):
            erased.append(idea.id)
    return erased
