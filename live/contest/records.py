"""Contest records in the store: the directory, editions, ideas and their routing.

Every change is a read-modify-write of one record with compare-and-set
(`Store.put_record`), retried when another writer got there first; the store writes the
audit entry (who, what, before, after) in the same atomic step. The rules themselves
live in the pure modules beside this one.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from live.contest.editions import Edition, Stage, now_in_oslo
from live.contest.ideas import IdeaStatus, owner_label, parse_owner
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
from live.store.models import Record
from live.store.timestamps import now_iso
from live.tokens import ContestLinks, new_secret

RETRIES = 30
RULES = "rules"  # `Idea.routed_by` when the call's rules placed the idea
ROUTING_NOTE_MAX = 500  # characters


async def change(
    store: Store, kind: str, key: str, fn: Callable[[dict[str, Any] | None], dict[str, Any]],
    *, actor: str, action: str,
) -> Record:  # fmt: skip
    """Write `fn(current data)` with compare-and-set, reading again if someone else wrote.

    `fn` may raise (a LiveError) to refuse the change; it sees the latest data each time,
    so a rule it checks (at most three nominations) holds however many write at once.
    """
    for attempt in range(RETRIES):
        current = await store.get_record(kind, key)
        data = fn(copy.deepcopy(current.data) if current else None)
        try:
            return await store.put_record(
                kind, key, data, expected_version=current.version if current else 0,
                actor=actor, action=action,
            )  # fmt: skip
        except StaleRecord:
            await asyncio.sleep(random.random() * 0.002 * (attempt + 1))
    raise StaleRecord


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
        data = dict(record.data)
        data["status"] = IdeaStatus(data["status"])
        return cls(**data, version=record.version)


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
        self, year: int, idea_id: int | None, answers: dict[str, Any], *, submit: bool
    ) -> Idea:
        """Save a draft or submit, before the deadline; the owner's network gets it.

        `answers` come from `ideas.check_idea`. An idea that an organiser re-routed
        stays where they put it."""
        edition, _ = await self.edition(year)
        edition.require(Stage.SUBMISSION, self.clock())
        directory = await self.directory()
        if idea_id is None:
            idea_id = await self.store.next_id("idea")
        actor = f"{answers.get('contact_email') or 'anonymous'} (idea form)"

        def save(data: dict[str, Any] | None) -> dict[str, Any]:
            if data is None:
                idea = Idea(idea_id, year, IdeaStatus.DRAFT, {}, "", None, "", RULES,
                            new_secret()[:22], now_iso())  # fmt: skip
            else:
                idea = Idea(**{**data, "status": IdeaStatus(data["status"])})
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
            submitted_at = idea.submitted_at or (now_iso() if submit else None)
            return dataclasses.replace(
                idea, status=status, answers=answers, owner_label=label, network_id=placed[0],
                routing_reason=placed[1], submitted_at=submitted_at,
            ).to_data()  # fmt: skip

        action = "idea.submit" if submit else "idea.save"
        return Idea.from_record(await change(self.store, "idea", str(idea_id), save,
                                             actor=actor, action=action))  # fmt: skip

    async def reroute(
        self, actor: str, idea_id: int, network_id: str | None, note: str, nominated: bool
    ) -> Idea:
        """Send an idea to another network (or back to the unrouted queue), on record."""
        directory = await self.directory()
        if network_id is not None and network_id not in directory.networks:
            raise BadRequest(N_("Choose a network from the list."), "network_id")
        if not note.strip():
            raise BadRequest(N_("Say why the idea moves; the note is kept on record."), "note")
        if len(note.strip()) > ROUTING_NOTE_MAX:
            raise BadRequest(N_("Write at most %(limit)s characters."), "note",
                             limit=ROUTING_NOTE_MAX)  # fmt: skip
        if nominated:
            raise Conflict(N_("The idea is nominated; withdraw the nomination before moving it."))

        def move(data: dict[str, Any] | None) -> dict[str, Any]:
            if data is None:
                raise NotFound(N_("There is no idea number %(number)s."), number=idea_id)
            data.update(network_id=network_id, routed_by=actor, routing_reason=note.strip())
            return data

        return Idea.from_record(await change(self.store, "idea", str(idea_id), move,
                                             actor=actor, action="idea.reroute"))  # fmt: skip


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
