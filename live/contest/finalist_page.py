"""The public finalist page of an edition, so the audience can read before voting.

An organiser publishes it once the finalists are chosen (and may take it down again);
each change is a contest record of its own, written with compare-and-set and audited.
The page lists the finalists as the audience votes on them: from the finale poll in
its stage order once the poll exists, else the ideas in the order they were selected.
The ballot links to it (`FinaleLinks`), through a small cache: the ballot page is on
the hot path, and the store is asked at most once per poll version and `TTL_SECONDS`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from live.contest.editions import Edition
from live.contest.records import Contest, Reads, Write, transact
from live.errors import N_, BadRequest, Conflict, NotFound
from live.finale import polls
from live.store import Store
from live.store.models import Poll
from live.store.timestamps import now_iso

KIND = "finalists"  # beside the selection ("finalists"/year): the audit log names both so
PLACE_MAX = 200  # characters
TTL_SECONDS = 30.0  # how late another process's ballot pages may learn of a (un)publishing
_MAX_POLLS = 256


def page_key(year: int) -> str:
    return f"{year}:page"


@dataclass(frozen=True)
class FinalistPage:
    year: int
    published: bool
    place: str  # where the finale is held, as the organiser wrote it ("" if not given)
    by: str
    at: str

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> FinalistPage:
        return cls(
            int(data["year"]),
            bool(data["published"]),
            str(data.get("place", "")),
            str(data["by"]),
            str(data["at"]),
        )


@dataclass(frozen=True)
class Entry:
    """A finalist as the page shows it."""

    name: str
    owner: str
    pitch: str


async def read_page(store: Store, year: int) -> FinalistPage | None:
    """The edition's finalist page as last published or taken down; None if never."""
    record = await store.get_record(KIND, page_key(year))
    return None if record is None else FinalistPage.from_data(record.data)


async def publish(contest: Contest, actor: str, year: int, place: str) -> FinalistPage:
    """Publish the page (or change its place), on record; Conflict until the finalists
    are chosen, checked in the same write."""
    where = " ".join(place.split())
    if len(where) > PLACE_MAX:
        raise BadRequest(N_("Write at most %(limit)s characters."), "place", limit=PLACE_MAX)
    return await _write(contest, actor, year, published=True, place=where)


async def unpublish(contest: Contest, actor: str, year: int) -> FinalistPage:
    """Take the page down, on record; the public gets 404 again."""
    current = await read_page(contest.store, year)
    if current is None or not current.published:
        raise Conflict(N_("The finalist page is not published."))
    return await _write(contest, actor, year, published=False, place=current.place)


async def _write(
    contest: Contest, actor: str, year: int, *, published: bool, place: str
) -> FinalistPage:
    page = FinalistPage(year, published, place, actor, now_iso())

    async def plan(reads: Reads) -> list[Write]:
        if await reads.get("edition", str(year)) is None:
            raise NotFound(N_("There is no contest for %(year)s."), year=year)
        chosen = (await reads.get("finalists", str(year))) or {}
        if published and not chosen.get("idea_ids"):
            raise Conflict(N_("Choose the finalists before publishing their page."))
        await reads.get(KIND, page_key(year))
        action = "finalists.publish" if published else "finalists.unpublish"
        return [Write(KIND, page_key(year), page.__dict__, action)]

    await transact(contest.store, plan, actor=actor)
    return page


async def entries(contest: Contest, poll: Poll | None, chosen: list[int]) -> list[Entry]:
    """The finalists in the finale poll's stage order if there is one (as the audience
    votes on them), else the ideas `chosen` in their order."""
    if poll is not None:
        return [Entry(f.name, f.owner, f.pitch) for f in poll.finalists]
    ideas = [await contest.idea(idea_id) for idea_id in chosen]
    return [Entry(i.title, i.owner_label, pitch(str(i.answers.get("need", "")))) for i in ideas]


async def finale_poll(store: Store, edition: Edition) -> Poll | None:
    """The edition's finale poll, if it has one (and it was not deleted)."""
    if edition.poll_id is None:
        return None
    try:
        return await store.get_poll(edition.poll_id)
    except NotFound:
        return None


def pitch(text: str) -> str:
    """An idea's need as a finalist's pitch: its words, shortened with "…" as the poll's are."""
    words = " ".join(text.split())
    return words if len(words) <= polls.PITCH_MAX else words[: polls.PITCH_MAX - 1] + "…"


class FinaleLinks:
    """Which edition's published finalist page a poll's ballot links to, if any.

    Asked on every ballot page, so it answers from memory: per poll, for `TTL_SECONDS` at
    most (an edition names its finale poll; publishing does not change the poll, and a
    vote, which raises the poll's version, changes nothing here). One lookup at a time
    refreshes an entry, however many phones ask at once.
    """

    def __init__(self, store: Store, ttl: float = TTL_SECONDS) -> None:
        self._store = store
        self._ttl = ttl
        self._known: dict[int, tuple[float, int | None]] = {}
        self._lock = asyncio.Lock()

    async def year_for(self, poll: Poll) -> int | None:
        """The year of the edition whose finale poll `poll` is, when its page is published."""
        key = poll.id
        entry = self._known.get(key)
        if entry is not None and time.monotonic() - entry[0] < self._ttl:
            return entry[1]
        async with self._lock:
            entry = self._known.get(key)
            if entry is not None and time.monotonic() - entry[0] < self._ttl:
                return entry[1]
            year = await self._lookup(poll.id)
            if len(self._known) >= _MAX_POLLS:
                self._known.clear()
            self._known[key] = (time.monotonic(), year)
            return year

    def forget(self) -> None:
        """Drop every answer (this process published or took down a page)."""
        self._known.clear()

    async def _lookup(self, poll_id: int) -> int | None:
        for record in await self._store.list_records("edition"):
            if record.data.get("poll_id") == poll_id:
                year = int(record.data["year"])
                page = await read_page(self._store, year)
                return year if page is not None and page.published else None
        return None
