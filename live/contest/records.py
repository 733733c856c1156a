"""Contest records in the store: the directory, editions, ideas and their routing.

Every change is a read-modify-write with compare-and-set (`Store.put_records`), retried
when another writer got there first; the store writes the audit entry (who, what,
before, after) in the same atomic step. A rule read from another record than the one
written (an idea may move only while it is not nominated) holds too: `transact` writes
only if every record the rule read is still at the version it read. The rules
themselves live in the pure modules beside this one.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from live.contest.editions import Edition, Stage, now_in_oslo
from live.contest.ideas import IdeaStatus, check_withdrawable, owner_label, parse_owner
from live.contest.organisations import (
    CsvError,
    Directory,
    parse_municipalities,
    parse_networks,
)
from live.contest.routing import route
from live.errors import N_, BadRequest, Conflict, NotFound
from live.store import Store
from live.store.base import StaleRecord
from live.store.models import Record, RecordWrite
from live.store.timestamps import now_iso
from live.tokens import ContestLinks, new_secret

RETRIES = 30
RULES = "rules"  # `Idea.routed_by` when the call's rules placed the idea
ROUTING_NOTE_MAX = 500  # characters
AUDIT_TEXT_MAX = 200  # characters of each changed answer that an idea's audit entry keeps
# The answers that name the idea's contact person: kept in the idea only, erased after the
# retention period or on request (`privacy`), and never copied into the audit log.
PERSONAL_ANSWERS = ("contact_name", "contact_email", "contact_phone")
NOMINATIONS = "nominations"  # a network's nominations: one record per edition and network


def nominations_key(year: int, network_id: str) -> str:
    return f"{year}:{network_id}"


@dataclass(frozen=True)
class Write:
    """A record that a `transact` plan writes; `change` is what the audit entry keeps as
    before and after (None: the whole data)."""

    kind: str
    key: str
    data: dict[str, Any]
    action: str
    change: tuple[Any, Any] | None = None


class Reads:
    """The records a `transact` plan read, each once, and the version it read."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._found: dict[tuple[str, str], Record | None] = {}

    async def get(self, kind: str, key: str) -> dict[str, Any] | None:
        """The record's data (a copy to change at will), or None if it does not exist."""
        if (kind, key) not in self._found:
            self._found[(kind, key)] = await self._store.get_record(kind, key)
        record = self._found[(kind, key)]
        return None if record is None else copy.deepcopy(record.data)

    def version(self, kind: str, key: str) -> int:
        """The version read (0: absent); the record must have been read."""
        record = self._found[(kind, key)]
        return 0 if record is None else record.version

    def found(self, kind: str, key: str) -> dict[str, Any] | None:
        """The data read (not a copy: only to look at), or None if it did not exist."""
        record = self._found[(kind, key)]
        return None if record is None else record.data

    def checks(self) -> list[RecordWrite]:
        return [RecordWrite(kind, key, self.version(kind, key)) for kind, key in self._found]


async def transact(
    store: Store, plan: Callable[[Reads], Awaitable[list[Write]]], *, actor: str
) -> list[Record]:
    """Write what `plan` returns if no record it read has changed meanwhile, in one atomic
    step; else run it again on fresh data. Returns the written records in reading order.

    `plan` reads through its `Reads` (every record it writes, too) and may raise (a
    LiveError) to refuse the change: a rule it checks holds however many write at once."""
    for attempt in range(RETRIES):
        reads = Reads(store)
        writes = await plan(reads)
        planned = {(w.kind, w.key): w for w in writes}
        assert len(planned) == len(writes), "one write per record"
        batch = []
        for check in reads.checks():
            write = planned.pop((check.kind, check.key), None)
            batch.append(
                check
                if write is None
                else dataclasses.replace(
                    check,
                    data=write.data,
                    action=write.action,
                    change=audited_change(write, reads.found(check.kind, check.key)),
                )
            )
        assert not planned, "a plan reads every record it writes"
        try:
            return await store.put_records(batch, actor=actor)
        except StaleRecord:
            await asyncio.sleep(random.random() * 0.002 * (attempt + 1))
    raise StaleRecord


async def change(
    store: Store, kind: str, key: str, fn: Callable[[dict[str, Any] | None], dict[str, Any]],
    *, actor: str, action: str,
) -> Record:  # fmt: skip
    """Write `fn(current data)` with compare-and-set, reading again if someone else wrote.

    `fn` may raise (a LiveError) to refuse the change; it sees the latest data each time,
    so a rule it checks (at most three nominations) holds however many write at once.
    """

    async def plan(reads: Reads) -> list[Write]:
        return [Write(kind, key, fn(await reads.get(kind, key)), action)]

    (record,) = await transact(store, plan, actor=actor)
    return record


async def is_nominated(reads: Reads, year: int, network_id: str | None, idea_id: int) -> bool:
    """Whether the network's nominations for the edition hold the idea (read into `reads`)."""
    if network_id is None:
        return False
    data = await reads.get(NOMINATIONS, nominations_key(year, network_id))
    return any(item["idea_id"] == idea_id for item in (data or {}).get("nominations", []))


def idea_change(before: dict[str, Any] | None, after: dict[str, Any]) -> tuple[Any, Any]:
    """What an idea's audit entry keeps: only the fields that changed (each answer on its
    own), each text cut at `AUDIT_TEXT_MAX` characters, never the link's nonce. So an
    entry stays small however long the idea and however often it is saved."""
    old, new = _flat_idea(before or {}), _flat_idea(after)
    changed = sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))
    return (
        None if before is None else {n: _cut(old[n]) for n in changed if n in old},
        {n: _cut(new[n]) for n in changed if n in new},
    )


def audited_change(write: Write, before: dict[str, Any] | None) -> tuple[Any, Any] | None:
    """What the audit entry of `write` keeps: its `change`, or the whole data. An idea's
    entry keeps only what changed (`idea_change`) with its personal answers redacted
    (`redact_personal`), so that erasing them from the idea erases them everywhere.
    Every contest write passes here (`transact`)."""
    if write.kind != "idea":
        return write.change
    old, new = write.change or idea_change(before, write.data)
    return (redact_personal(old, write.key), redact_personal(new, write.key))


def redact_personal(change: Any, idea_key: str) -> Any:
    """An idea's audit change with each personal answer (`PERSONAL_ANSWERS`, as
    `idea_change` names it, or inside whole answers) replaced by a marker naming where
    the value lives: {"personal": "idea:7#contact_email"}. An empty value stays as it is,
    so an entry still shows that a value was given, changed or erased."""
    if not isinstance(change, dict):
        return change
    redacted = {}
    for name, value in change.items():
        answer = name.removeprefix("answers.")
        if name == "answers" and isinstance(value, dict):
            value = redact_personal({f"answers.{k}": v for k, v in value.items()}, idea_key)
            value = {k.removeprefix("answers."): v for k, v in value.items()}
        elif answer in PERSONAL_ANSWERS and name != answer and value not in ("", None):
            value = {"personal": f"idea:{idea_key}#{answer}"}
        redacted[name] = value
    return redacted


def form_actor(idea_id: int) -> str:
    """Who the audit log names for a change on the public idea form: the idea's contact
    person, by reference (their address lives only in the idea, which erasure reaches)."""
    return f"idea:{idea_id} (idea form)"


def _flat_idea(data: dict[str, Any]) -> dict[str, Any]:
    flat = {name: value for name, value in data.items() if name not in ("answers", "nonce")}
    flat.update({f"answers.{name}": value for name, value in data.get("answers", {}).items()})
    return flat


def _cut(value: Any) -> Any:
    if isinstance(value, str) and len(value) > AUDIT_TEXT_MAX:
        return value[: AUDIT_TEXT_MAX - 1] + "…"
    return value


@dataclass(frozen=True)
class Idea:
    id: int
    year: int
    status: IdeaStatus
    answers: dict[str, Any]
    owner_label: str
    network_id: str | None  # None: in the unrouted queue
    routing_reason: str
    routed_by: str  # RULES, or the organiser who re-routed it
    nonce: str
    created_at: str
    submitted_at: str | None = None
    language: str = "nb"  # the form's language at the last save: the contact person's
    withdrawn_at: str | None = None
    contact_erased_at: str | None = None  # when `PERSONAL_ANSWERS` were erased (`privacy`)
    version: int = 0

    @property
    def title(self) -> str:
        return str(self.answers.get("title", ""))

    def to_data(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        del data["version"]
        return data

    @classmethod
    def from_record(cls, record: Record) -> Idea:
        return cls.from_data(record.data, record.version)

    @classmethod
    def from_data(cls, data: dict[str, Any], version: int = 0) -> Idea:
        return cls(**{**data, "status": IdeaStatus(data["status"])}, version=version)


async def read_idea(reads: Reads, idea_id: int) -> Idea:
    """The idea as `reads` sees it (its version then checked when the plan writes)."""
    data = await reads.get("idea", str(idea_id))
    if data is None:
        raise NotFound(N_("There is no idea number %(number)s."), number=idea_id)
    return Idea.from_data(data, reads.version("idea", str(idea_id)))


class Contest:
    """The contest's records and the rules that guard each change to them."""

    def __init__(
        self, store: Store, links: ContestLinks, clock: Callable[[], datetime] = now_in_oslo
    ) -> None:
        self.store = store
        self.links = links
        self.clock = clock
        self._shipped = Directory.shipped()
        self._directory: tuple[int, Directory] = (0, self._shipped)

    # The directory of municipalities and networks ------------------------------
    async def directory(self) -> Directory:
        """The imported directory, or the shipped 2022 one; re-read only when it changed."""
        record = await self.store.get_record("directory", "current")
        if record is None:
            return self._shipped
        if self._directory[0] != record.version:
            self._directory = (record.version, _directory_from(record.data, self._shipped))
        return self._directory[1]

    async def import_directory(
        self, actor: str, municipalities: str | None, networks: str | None
    ) -> Directory:
        """Replace the municipalities and/or the networks from CSV in the shipped format."""

        def replace(data: dict[str, Any] | None) -> dict[str, Any]:
            data = data or {"municipalities": None, "networks": None}
            if municipalities is not None:
                data["municipalities"] = municipalities
            if networks is not None:
                data["networks"] = networks
            _directory_from(data, self._shipped)  # refuse a file that does not parse
            return data

        record = await change(self.store, "directory", "current", replace,
                              actor=actor, action="directory.import")  # fmt: skip
        return _directory_from(record.data, self._shipped)

    # Editions ------------------------------------------------------------------
    async def editions(self) -> list[Edition]:
        found = [Edition.from_data(r.data) for r in await self.store.list_records("edition")]
        return sorted(found, key=lambda e: -e.year)

    async def edition(self, year: int) -> tuple[Edition, int]:
        """The edition and the version of its record (for the next compare-and-set)."""
        record = await self.store.get_record("edition", str(year))
        if record is None:
            raise NotFound(N_("There is no contest for %(year)s."), year=year)
        return Edition.from_data(record.data), record.version

    async def save_edition(self, actor: str, edition: Edition, expected_version: int) -> None:
        """Create (`expected_version` 0) or update an edition that the organiser saw."""
        try:
            await self.store.put_record(
                "edition", str(edition.year), edition.to_data(), expected_version=expected_version,
                actor=actor, action="edition.create" if expected_version == 0 else "edition.update",
            )  # fmt: skip
        except StaleRecord:
            if expected_version == 0:
                raise Conflict(N_("There is a contest for %(year)s already."),
                               year=edition.year) from None  # fmt: skip
            raise

    # Ideas -----------------------------------------------------------------------
    async def ideas(self, year: int) -> list[Idea]:
        found = [Idea.from_record(r) for r in await self.store.list_records("idea")]
        return sorted((i for i in found if i.year == year), key=lambda i: i.id)

    async def idea(self, idea_id: int) -> Idea:
        record = await self.store.get_record("idea", str(idea_id))
        if record is None:
            raise NotFound(N_("There is no idea number %(number)s."), number=idea_id)
        return Idea.from_record(record)

    async def idea_by_link(self, link: str) -> Idea:
        idea_id, nonce = self.links.read_idea_link(link)
        idea = await self.idea(idea_id)
        if idea.nonce != nonce:
            raise NotFound(N_("This link to an idea is not valid. Check that it is complete."))
        return idea

    def link_for(self, idea: Idea) -> str:
        return self.links.idea_link(idea.id, idea.nonce)

    async def save_idea(
        self,
        year: int,
        idea_id: int | None,
        answers: dict[str, Any],
        *,
        submit: bool,
        language: str = "nb",
    ) -> Idea:
        """Save a draft or submit, before the deadline; the owner's network gets it.

        `answers` come from `ideas.check_idea`. An idea that an organiser re-routed, or
        that its network has nominated, stays where it is. The audit entry keeps what
        changed (`idea_change`)."""
        edition, _ = await self.edition(year)
        edition.require(Stage.SUBMISSION, self.clock())
        directory = await self.directory()
        if idea_id is None:
            idea_id = await self.store.next_id("idea")
        actor = form_actor(idea_id)

        key = str(idea_id)

        async def save(reads: Reads) -> list[Write]:
            data = await reads.get("idea", key)
            if data is None:
                idea = Idea(idea_id, year, IdeaStatus.DRAFT, {}, "", None, "", RULES,
                            new_secret()[:22], now_iso())  # fmt: skip
            else:
                idea = Idea.from_data(data)
            if idea.year != year:
                raise NotFound(N_("There is no idea number %(number)s."), number=idea_id)
            status = IdeaStatus.SUBMITTED if submit else idea.status
            placed = (idea.network_id, idea.routing_reason)
            label = ""
            if answers.get("owner"):
                owner = parse_owner(answers["owner"], answers.get("company_name", ""))
                label = owner_label(owner, directory)
                if idea.routed_by == RULES:
                    routing = route(owner, directory)
                    placed = (routing.network_id, routing.reason)
            if placed[0] != idea.network_id and await is_nominated(
                reads, year, idea.network_id, idea_id
            ):
                placed = (idea.network_id, idea.routing_reason)
            submitted_at = idea.submitted_at or (now_iso() if submit else None)
            saved = dataclasses.replace(
                idea, status=status, answers=answers, owner_label=label, network_id=placed[0],
                routing_reason=placed[1], submitted_at=submitted_at, language=language,
                withdrawn_at=None if submit else idea.withdrawn_at,
            ).to_data()  # fmt: skip
            action = "idea.submit" if submit else "idea.save"
            return [Write("idea", key, saved, action, idea_change(data, saved))]

        (record,) = await transact(self.store, save, actor=actor)
        return Idea.from_record(record)

    async def withdraw_idea(self, idea_id: int) -> Idea:
        """The sender withdraws a submitted idea, before the deadline, on record; it can
        be submitted again until then (`save_idea`)."""
        idea = await self.idea(idea_id)
        edition, _ = await self.edition(idea.year)
        edition.require(Stage.SUBMISSION, self.clock())
        actor = form_actor(idea_id)

        async def withdraw(reads: Reads) -> list[Write]:
            data = await reads.get("idea", str(idea_id))
            current = await read_idea(reads, idea_id)
            check_withdrawable(current.status)
            saved = dataclasses.replace(
                current, status=IdeaStatus.WITHDRAWN, withdrawn_at=now_iso()
            ).to_data()
            return [Write("idea", str(idea_id), saved, "idea.withdraw", idea_change(data, saved))]

        (record,) = await transact(self.store, withdraw, actor=actor)
        return Idea.from_record(record)

    async def reroute(self, actor: str, idea_id: int, network_id: str | None, note: str) -> Idea:
        """Send an idea to another network (or back to the unrouted queue), on record;
        Conflict while its network has it nominated (checked in the same write)."""
        directory = await self.directory()
        if network_id is not None and network_id not in directory.networks:
            raise BadRequest(N_("Choose a network from the list."), "network_id")
        if not note.strip():
            raise BadRequest(N_("Say why the idea moves; the note is kept on record."), "note")
        if len(note.strip()) > ROUTING_NOTE_MAX:
            raise BadRequest(
                N_("Write at most %(limit)s characters."), "note", limit=ROUTING_NOTE_MAX
            )

        async def move(reads: Reads) -> list[Write]:
            idea = await read_idea(reads, idea_id)
            if await is_nominated(reads, idea.year, idea.network_id, idea_id):
                raise Conflict(
                    N_("The idea is nominated; withdraw the nomination before moving it.")
                )
            moved = dataclasses.replace(
                idea, network_id=network_id, routed_by=actor, routing_reason=note.strip()
            )
            return [Write("idea", str(idea_id), moved.to_data(), "idea.reroute")]

        (record,) = await transact(self.store, move, actor=actor)
        return Idea.from_record(record)


def _directory_from(data: dict[str, Any], shipped: Directory) -> Directory:
    """The directory an import describes; a list it does not replace stays `shipped`."""
    try:
        municipalities = list(shipped.municipalities.values())
        networks = list(shipped.networks.values())
        if data.get("municipalities"):
            municipalities = parse_municipalities(data["municipalities"])
        if data.get("networks"):
            networks = parse_networks(data["networks"])
        return Directory(municipalities, networks)
    except CsvError as problem:
        raise BadRequest(
            N_("The file was not imported: %(problem)s"), problem=str(problem)
        ) from None
