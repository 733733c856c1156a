"""The scale-out store: everything in Redis, so any number of app processes share it.

Durability at acknowledgement needs Redis with `appendonly yes` and `appendfsync always`
(see ops/redis.conf), checked when the store opens (`_redis_durability`); with Sentinel
(`redis+sentinel://`) each write also waits for replicas (`_redis_client`, which also
says when a failed command may be sent again: only when it never left). Change notices
go out on pub/sub from inside the same atomic scripts; one listener task per process
hears them, and recovers by itself when Redis comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from live.errors import N_, Conflict, Forbidden, NotFound
from live.store import _redis_scripts as lua
from live.store._redis_accounts import RedisAccounts
from live.store._redis_batch import ScriptBatcher
from live.store._redis_client import CONNECTION_OPTIONS, CheckedPool, DurableRedis
from live.store._redis_common import P, guard
from live.store._redis_durability import Durability, check_durability
from live.store._redis_records import AUDIT_KEYS, RedisRecords, records_arguments
from live.store._redis_sentinel import SCHEME as SENTINEL_SCHEME
from live.store._redis_sentinel import SentinelLink
from live.store.base import (
    BADGE_REVOKED,
    BADGE_UNKNOWN,
    EXCLUDED,
    AlreadyDone,
    ChangeListener,
    StaleRecord,
    transition_conflict,
)
from live.store.codes import new_poll_code
from live.store.models import (
    Badge,
    Ballot,
    BallotRecord,
    CastOutcome,
    Eligibility,
    Exclusion,
    Finalist,
    LockedResult,
    Poll,
    PollDraft,
    PollSettings,
    PollStatus,
    RecordWrite,
    Snapshot,
    TieResolution,
    TieRule,
    badge_voter_id,
    poll_summary,
    tie_summary,
)
from live.store.timestamps import iso_from_ms, now_iso
from live.tally import Method
from live.tokens import VoterToken

log = logging.getLogger("live.store.redis")
RECONNECT_SECONDS = 1.0
LISTEN_POLL_SECONDS = 1.0
HEALTH_KEY = f"{P}health"  # written by `check_writable`; left out of backups


def _counts(raw: Any) -> tuple[tuple[tuple[int, ...], int], ...]:
    """Counts from a hash (dict) or a frozen flat list [pattern, n, pattern, n, …]."""
    items = raw.items() if isinstance(raw, dict) else zip(raw[::2], raw[1::2], strict=True)
    return tuple(sorted(
        (tuple(int(part) for part in pattern.split(",")), int(number))
        for pattern, number in items if int(number) > 0
    ))  # fmt: skip


def _choices(text: str) -> tuple[int, ...]:
    return tuple(int(c) for c in text.split(","))


def _resolution(raw: str) -> TieResolution:
    data = json.loads(raw)
    return TieResolution(tuple(data["order"]), TieRule(data["rule"]), data["seed"],
                         data["note"], data["decided_by"], data["decided_at"])  # fmt: skip


def _poll(fields: Mapping[Any, Any]) -> Poll:
    return Poll(
        id=int(fields["id"]),
        code=fields["code"],
        title=fields["title"],
        method=Method(fields["method"]),
        winners=int(fields["winners"]),
        status=PollStatus(fields["status"]),
        hide_counts=fields["hide_counts"] == "1",
        revealed=int(fields["revealed"]),
        version=int(fields["version"]),
        finalists=tuple(Finalist(**f) for f in json.loads(fields["finalists"])),
        created_at=fields["created_at"],
        opened_at=fields.get("opened_at"),
        closed_at=fields.get("closed_at"),
        closes_at_ms=int(fields["closes_at_ms"]) if fields.get("closes_at_ms") else None,
        show_results=fields.get("show_results") == "1",
        settings=PollSettings(
            Eligibility(fields.get("eligibility") or "open"),
            _number(fields.get("max_choices")),
            TieRule(fields.get("tie_rule") or "lots"),
            _number(fields.get("expected_voters")),
        ),
    )


def _number(raw: Any) -> int | None:
    return int(raw) if raw else None


def _settings_args(settings: PollSettings) -> list[str | int | float]:
    """The poll's settings as script arguments ('' for a number that is not set)."""
    return [
        settings.eligibility.value,
        "" if settings.max_choices is None else settings.max_choices,
        settings.tie_rule.value,
        "" if settings.expected_voters is None else settings.expected_voters,
    ]


def _ballot_record(raw: str) -> BallotRecord:
    data = json.loads(raw)
    return BallotRecord(
        receipt=data.get("x") or "", choices=tuple(int(c) for c in data["c"].split(",")),
        kind=data.get("k") or "device", flagged=data.get("f") == 1,
        excluded_by=data.get("e"), updated_at=data["u"],
    )  # fmt: skip


def _badge(code: str, poll_id: int, raw: str, used: bool) -> Badge:
    data = json.loads(raw)
    return Badge(code, poll_id, data["c"], data["r"] or None, used)


class RedisStore(RedisAccounts, RedisRecords):
    def __init__(self, url: str, durability: Durability = "strict") -> None:
        self._durability: Durability = durability
        self._sentinel = SentinelLink(url) if url.startswith(f"{SENTINEL_SCHEME}:") else None
        if self._sentinel is not None:
            pool: CheckedPool = self._sentinel.primary_pool()
        else:
            pool = CheckedPool.from_url(url, **CONNECTION_OPTIONS)
        # The client closes the pool with it.
        self._redis: DurableRedis = DurableRedis.from_pool(pool)  # type: ignore[assignment]
        self._listeners: list[ChangeListener] = []
        self._listener_task: asyncio.Task[None] | None = None
        self._opened = False
        self._closing = False
        self._scripts = {
            name: self._redis.register_script(getattr(lua, name))
            for name in ("CREATE_POLL", "UPDATE_POLL", "TRANSITION", "HIDE_COUNTS", "COUNTDOWN",
                         "REVEAL_TO", "SHOW_RESULTS", "CAST_BALLOT", "RESOLVE_TIE",
                         "EXPECTED_VOTERS", "ADD_BADGES", "REVOKE_BADGE", "EXCLUDE_FLAGGED")
        }  # fmt: skip
        self._casts = ScriptBatcher(self._redis, self._scripts["CAST_BALLOT"])

    async def _run(self, script: str, keys: list[str], args: list[str | int | float]) -> Any:
        async with guard():
            return await self._scripts[script](keys=keys, args=args)

    async def open(self) -> None:
        """Connect, and check that Redis keeps what the store acknowledges (before the
        first write, so that even that one waits for replicas when it must)."""
        async with guard():
            await self._redis.ping()
            self._redis.wait_policy = await check_durability(
                self._redis, self._durability, self._sentinel
            )
        await self._upgrade_accounts()
        self._opened = True
        if self._listeners:
            self._start_listening()

    async def close(self) -> None:
        self._closing = True
        task = self._listener_task
        if task is not None:
            # The listener notices `_closing` within a second. Cancelling it while it
            # waits inside redis-py's get_message() can leave it stuck for good, so
            # cancellation is only the fallback, and close() never waits without bound.
            _, pending = await asyncio.wait({task}, timeout=LISTEN_POLL_SECONDS * 3)
            if pending:
                task.cancel()
                await asyncio.wait({task}, timeout=LISTEN_POLL_SECONDS)
        await self._redis.aclose()
        if self._sentinel is not None:
            await self._sentinel.aclose()

    def is_alive(self) -> bool:
        task = self._listener_task  # it retries by itself; ended only by a bug or close()
        return task is None or not task.done()

    async def check_writable(self) -> None:
        async with guard():
            await self._redis.ping()
            await self._redis.set(HEALTH_KEY, now_iso(), px=60_000)

    def add_listener(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)
        if self._opened:
            self._start_listening()

    def _start_listening(self) -> None:
        """One listener task per store, started once somebody listens (a CLI never does)."""
        if self._listener_task is None:
            self._listener_task = asyncio.create_task(self._listen(), name="live-redis-listener")

    async def _listen(self) -> None:
        """Hear change notices from every process; reconnect by itself after a failure."""
        while not self._closing:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(lua.CHANNEL)
                while not self._closing:
                    message = await pubsub.get_message(timeout=LISTEN_POLL_SECONDS)
                    if message is not None:
                        self._dispatch(str(message["data"]))
            except Exception as error:
                log.warning("change listener lost Redis (%s); retrying", error)
                await asyncio.sleep(RECONNECT_SECONDS)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pubsub.aclose(), LISTEN_POLL_SECONDS)  # type: ignore[no-untyped-call]

    def _dispatch(self, data: str) -> None:
        poll_id, version, kind = data.split(":")
        for listener in self._listeners:
            try:
                listener(int(poll_id), int(version), kind == "p")
            except Exception:
                log.exception("a change listener failed")

    # Polls -------------------------------------------------------------------
    async def _finalists_json(self, draft: PollDraft) -> str:
        async with guard():
            last = int(await self._redis.incrby(f"{P}seq:finalist", len(draft.finalists)))
        first = last - len(draft.finalists) + 1
        return json.dumps([
            {"id": first + n, "name": f.name, "pitch": f.pitch, "owner": f.owner}
            for n, f in enumerate(draft.finalists)
        ], ensure_ascii=False)  # fmt: skip

    async def create_poll(
        self, draft: PollDraft, *, actor: str, records: Sequence[RecordWrite] = ()
    ) -> Poll:
        finalists = await self._finalists_json(draft)
        async with guard():
            poll_id = int(await self._redis.incr(f"{P}seq:poll"))
        record_keys, record_args, _ = records_arguments(records, poll_id)
        summary = json.dumps(poll_summary(draft), ensure_ascii=False)
        for _ in range(20):
            code = new_poll_code()
            answer = await self._run(
                "CREATE_POLL",
                [f"{P}poll:{poll_id}", f"{P}poll-code:{code}", f"{P}polls", *AUDIT_KEYS,
                 *record_keys],
                [poll_id, code, now_iso(), draft.title, draft.method.value, draft.winners,
                 finalists, actor, summary, *_settings_args(draft.settings), *record_args],
            )  # fmt: skip
            if answer[0] == "stale":
                raise StaleRecord()
            if answer[0] == "ok":
                return await self.get_poll(poll_id)
        raise Conflict(N_("Could not find a free poll code. Try again."))

    def _check(self, answer: list[Any], poll_id: int) -> list[Any]:
        if answer[0] == "missing":
            raise NotFound(N_("There is no poll with id %(poll_id)s."), poll_id=poll_id)
        return answer

    async def update_poll(self, poll_id: int, draft: PollDraft, *, actor: str) -> Poll:
        finalists = await self._finalists_json(draft)
        answer = self._check(await self._run(
            "UPDATE_POLL", [f"{P}poll:{poll_id}", *AUDIT_KEYS],
            [poll_id, draft.title, draft.method.value, draft.winners, finalists, now_iso(),
             actor, json.dumps(poll_summary(draft), ensure_ascii=False),
             *_settings_args(draft.settings)],
        ), poll_id)  # fmt: skip
        if answer[0] == "conflict":
            raise Conflict(N_("Only a draft poll can be edited, before voting opens."))
        return await self.get_poll(poll_id)

    async def get_poll(self, poll_id: int) -> Poll:
        async with guard():
            fields = await self._redis.hgetall(f"{P}poll:{poll_id}")
        if not fields:
            raise NotFound(N_("There is no poll with id %(poll_id)s."), poll_id=poll_id)
        return _poll(fields)

    async def find_poll(self, code: str) -> Poll:
        async with guard():
            poll_id = await self._redis.get(f"{P}poll-code:{code}")
        if poll_id is None:
            raise NotFound(N_("There is no poll with the code %(code)s."), code=code)
        return await self.get_poll(int(str(poll_id)))

    async def list_polls(self) -> list[Poll]:
        async with guard():
            ids = await self._redis.zrevrange(f"{P}polls", 0, -1)
            async with self._redis.pipeline(transaction=False) as pipe:
                for poll_id in ids:
                    pipe.hgetall(f"{P}poll:{poll_id!s}")
                rows = await pipe.execute()
        return [_poll(fields) for fields in rows if fields]

    async def _transition(
        self,
        poll_id: int,
        source: PollStatus,
        target: PollStatus,
        stamp: str,
        actor: str,
        due: str = "",
        after: Any = None,
    ) -> list[Any]:
        action = "poll.open" if target is PollStatus.OPEN else "poll.close"
        answer = self._check(await self._run(
            "TRANSITION",
            [f"{P}poll:{poll_id}", f"{P}counts:{poll_id}", f"{P}result:{poll_id}", *AUDIT_KEYS],
            [poll_id, source.value, target.value, stamp, due, now_iso(), actor, action,
             json.dumps(after)],
        ), poll_id)  # fmt: skip
        if answer[0] == "conflict":
            raise transition_conflict(PollStatus(answer[1]), target)
        return answer

    async def open_poll(self, poll_id: int, *, actor: str) -> Poll:
        await self._transition(poll_id, PollStatus.DRAFT, PollStatus.OPEN, now_iso(), actor)
        return await self.get_poll(poll_id)

    async def close_poll(self, poll_id: int, *, actor: str) -> Poll:
        await self._transition(poll_id, PollStatus.OPEN, PollStatus.CLOSED, now_iso(), actor)
        return await self.get_poll(poll_id)

    async def close_if_due(self, poll_id: int, closes_at_ms: int, *, actor: str) -> bool:
        try:
            answer = await self._transition(
                poll_id,
                PollStatus.OPEN,
                PollStatus.CLOSED,
                iso_from_ms(closes_at_ms),
                actor,
                due=str(closes_at_ms),
                after={"closes_at_ms": closes_at_ms},
            )
        except (Conflict, NotFound):
            return False
        return bool(answer[0] == "ok")

    async def set_countdown(self, poll_id: int, seconds: int | None, *, actor: str) -> Poll:
        answer = self._check(
            await self._run(
                "COUNTDOWN",
                [f"{P}poll:{poll_id}", *AUDIT_KEYS],
                [
                    poll_id,
                    "" if seconds is None else seconds,
                    now_iso(),
                    actor,
                    json.dumps({"seconds": seconds}),
                ],
            ),
            poll_id,
        )
        if answer[0] == "conflict":
            raise Conflict(N_("A countdown can run only while voting is open."))
        return await self.get_poll(poll_id)

    async def set_expected_voters(self, poll_id: int, expected: int | None, *, actor: str) -> Poll:
        self._check(
            await self._run(
                "EXPECTED_VOTERS",
                [f"{P}poll:{poll_id}", *AUDIT_KEYS],
                [poll_id, "" if expected is None else expected, now_iso(), actor],
            ),
            poll_id,
        )
        return await self.get_poll(poll_id)

    async def set_hide_counts(self, poll_id: int, hidden: bool, *, actor: str) -> Poll:
        self._check(
            await self._run(
                "HIDE_COUNTS",
                [f"{P}poll:{poll_id}", *AUDIT_KEYS],
                [poll_id, "1" if hidden else "0", now_iso(), actor],
            ),
            poll_id,
        )
        return await self.get_poll(poll_id)

    async def reveal_to(self, poll_id: int, revealed: int, limit: int, *, actor: str) -> Poll:
        answer = self._check(
            await self._run(
                "REVEAL_TO",
                [f"{P}poll:{poll_id}", *AUDIT_KEYS],
                [poll_id, revealed, limit, now_iso(), actor],
            ),
            poll_id,
        )
        if answer[0] == "conflict" and answer[1] == "not-closed":
            raise Conflict(N_("Places can be revealed only after the poll is closed."))
        if answer[0] == "conflict":
            raise Conflict(N_("There is no further decided place to reveal."))
        return await self.get_poll(poll_id)

    async def set_show_results(self, poll_id: int, shown: bool, *, actor: str) -> Poll:
        answer = self._check(
            await self._run(
                "SHOW_RESULTS",
                [f"{P}poll:{poll_id}", *AUDIT_KEYS],
                [poll_id, "1" if shown else "0", now_iso(), actor, json.dumps({"shown": shown})],
            ),
            poll_id,
        )
        if answer[0] == "conflict":
            raise Conflict(N_("The full result can be shown only after the poll is closed."))
        return await self.get_poll(poll_id)

    # Ballots -----------------------------------------------------------------
    async def cast_ballot(
        self, token: VoterToken, choices: Sequence[int], sent_at: int | None, receipt: str = ""
    ) -> CastOutcome:
        poll_id = token.poll_id
        async with guard():
            answer = self._check(await self._casts.call(
                [f"{P}poll:{poll_id}", f"{P}ballots:{poll_id}", f"{P}counts:{poll_id}",
                 f"{P}badges:{poll_id}"],
                [poll_id, token.voter_id, ",".join(map(str, choices)),
                 "" if sent_at is None else sent_at, now_iso(), token.kind, receipt,
                 1 if token.flagged else 0],
            ), poll_id)  # fmt: skip
        if answer[0] == "conflict" and answer[1] == "closed":
            raise Conflict(N_("Voting has closed. Thank you for taking part!"))
        if answer[0] == "conflict":
            raise Conflict(N_("Voting is not open for this poll."))
        if answer[0] == "forbidden":
            reason = {"badge-unknown": BADGE_UNKNOWN, "badge-revoked": BADGE_REVOKED}
            raise Forbidden(reason.get(answer[1], EXCLUDED))
        choices_text, revision, stamp = answer[1], int(answer[2]), answer[3]
        if answer[0] == "stale":
            ballot = Ballot(_choices(choices_text), revision, stamp, answer[4])
            return CastOutcome(ballot, False, True)
        ballot = Ballot(_choices(choices_text), revision, stamp, answer[5])
        return CastOutcome(ballot, bool(answer[4]), False)

    async def get_ballot(self, poll_id: int, voter_id: str) -> Ballot | None:
        async with guard():
            raw = await self._redis.hget(f"{P}ballots:{poll_id}", voter_id)
        if raw is None:
            return None
        data = json.loads(raw)
        return Ballot(_choices(data["c"]), int(data["r"]), data["u"], data.get("x") or "")

    async def list_ballots(self, poll_id: int) -> list[BallotRecord]:
        async with guard(), self._redis.pipeline(transaction=True) as pipe:
            pipe.exists(f"{P}poll:{poll_id}")
            pipe.hvals(f"{P}ballots:{poll_id}")
            exists, raw = await pipe.execute()
        if not exists:
            raise NotFound(N_("There is no poll with id %(poll_id)s."), poll_id=poll_id)
        return sorted((_ballot_record(r) for r in raw), key=lambda b: (b.receipt, b.choices))

    # Badges and exclusions -----------------------------------------------------
    async def add_badges(self, poll_id: int, codes: Sequence[str], *, actor: str) -> None:
        answer = self._check(
            await self._run(
                "ADD_BADGES",
                [f"{P}poll:{poll_id}", f"{P}badges:{poll_id}", f"{P}badge-polls", *AUDIT_KEYS],
                [poll_id, now_iso(), actor, *codes],
            ),
            poll_id,
        )
        if answer[0] == "conflict":
            raise Conflict(N_("Badges cannot be added once the poll is closed."))
        if answer[0] == "taken":
            raise Conflict(N_("A badge code was taken already. Try again."))

    async def list_badges(self, poll_id: int) -> list[Badge]:
        async with guard(), self._redis.pipeline(transaction=True) as pipe:
            pipe.exists(f"{P}poll:{poll_id}")
            pipe.hgetall(f"{P}badges:{poll_id}")
            pipe.hkeys(f"{P}ballots:{poll_id}")
            exists, badges, voters = await pipe.execute()
        if not exists:
            raise NotFound(N_("There is no poll with id %(poll_id)s."), poll_id=poll_id)
        voted = {str(v) for v in voters}
        found = sorted(badges.items(), key=lambda item: json.loads(item[1])["p"])
        return [_badge(c, poll_id, raw, badge_voter_id(c) in voted) for c, raw in found]

    async def find_badge(self, code: str) -> Badge | None:
        async with guard():
            poll_id = await self._redis.hget(f"{P}badge-polls", code)
            if poll_id is None:
                return None
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hget(f"{P}badges:{poll_id!s}", code)
                pipe.hexists(f"{P}ballots:{poll_id!s}", badge_voter_id(code))
                raw, used = await pipe.execute()
        return None if raw is None else _badge(code, int(str(poll_id)), raw, bool(used))

    async def revoke_badge(self, poll_id: int, code: str, *, actor: str) -> Badge:
        answer = self._check(
            await self._run(
                "REVOKE_BADGE",
                [
                    f"{P}poll:{poll_id}",
                    f"{P}badges:{poll_id}",
                    f"{P}ballots:{poll_id}",
                    f"{P}counts:{poll_id}",
                    *AUDIT_KEYS,
                ],
                [poll_id, code, now_iso(), actor],
            ),
            poll_id,
        )
        if answer[0] == "unknown":
            raise NotFound(N_("This poll has no badge with the code %(code)s."), code=code)
        if answer[0] == "already":
            raise AlreadyDone(N_("This badge has been revoked already."))
        if answer[0] == "conflict":
            raise Conflict(
                N_("Badges cannot be revoked once the poll is closed: the result is locked.")
            )
        badge = await self.find_badge(code)
        assert badge is not None
        return badge

    async def exclude_flagged(self, poll_id: int, note: str, *, actor: str) -> Exclusion:
        answer = self._check(
            await self._run(
                "EXCLUDE_FLAGGED",
                [
                    f"{P}poll:{poll_id}",
                    f"{P}ballots:{poll_id}",
                    f"{P}counts:{poll_id}",
                    f"{P}exclusions:{poll_id}",
                    f"{P}seq:exclusion",
                    *AUDIT_KEYS,
                ],
                [poll_id, note, now_iso(), actor],
            ),
            poll_id,
        )
        if answer[0] == "conflict":
            raise Conflict(N_("Ballots can be excluded only while voting is open."))
        if answer[0] == "none":
            raise Conflict(N_("No flagged ballot counts now: there is nothing to exclude."))
        return next(e for e in await self.list_exclusions(poll_id) if e.id == int(answer[1]))

    async def list_exclusions(self, poll_id: int) -> list[Exclusion]:
        async with guard():
            raw = await self._redis.lrange(f"{P}exclusions:{poll_id}", 0, -1)
        return [Exclusion(**json.loads(item)) for item in raw]

    async def _poll_with(
        self, poll_id: int, hash_name: str
    ) -> tuple[Poll, dict[str, str], tuple[TieResolution, ...]]:
        """The poll, one of its hashes (`counts` or `result`) and its tie resolutions,
        read in one transaction so that they belong to the same version."""
        async with guard(), self._redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(f"{P}poll:{poll_id}")
            pipe.hgetall(f"{P}{hash_name}:{poll_id}")
            pipe.hvals(f"{P}ties:{poll_id}")
            fields, other, ties = await pipe.execute()
        if not fields:
            raise NotFound(N_("There is no poll with id %(poll_id)s."), poll_id=poll_id)
        resolutions = tuple(sorted((_resolution(t) for t in ties), key=lambda r: r.decided_at))
        return _poll(fields), other, resolutions

    async def snapshot(self, poll_id: int) -> Snapshot:
        poll, counts, resolutions = await self._poll_with(poll_id, "counts")
        return Snapshot(poll, _counts(counts), resolutions)

    async def get_result(self, poll_id: int) -> LockedResult:
        poll, result, resolutions = await self._poll_with(poll_id, "result")
        if not result:
            raise Conflict(N_("The result is locked only when the poll closes."))
        frozen = json.loads(result["counts"])  # an empty hash freezes as {}, not []
        return LockedResult(
            poll_id=poll_id, method=poll.method, finalist_ids=poll.finalist_ids,
            counts=_counts(frozen if isinstance(frozen, list) else []),
            locked_at=result["locked_at"], resolutions=resolutions,
        )  # fmt: skip

    async def resolve_tie(self, poll_id: int, resolution: TieResolution) -> LockedResult:
        record = json.dumps({
            "order": list(resolution.order), "rule": resolution.rule.value,
            "seed": resolution.seed, "note": resolution.note,
            "decided_by": resolution.decided_by, "decided_at": resolution.decided_at,
        }, ensure_ascii=False)  # fmt: skip
        answer = await self._run(
            "RESOLVE_TIE",
            [f"{P}poll:{poll_id}", f"{P}result:{poll_id}", f"{P}ties:{poll_id}", *AUDIT_KEYS],
            [
                poll_id,
                ",".join(map(str, sorted(resolution.order))),
                record,
                now_iso(),
                resolution.decided_by,
                json.dumps(tie_summary(resolution), ensure_ascii=False),
            ],
        )
        if answer[0] == "conflict" and answer[1] == "not-locked":
            raise Conflict(N_("The result is locked only when the poll closes."))
        if answer[0] == "conflict":
            raise AlreadyDone(N_("This tie has already been resolved."))
        return await self.get_result(poll_id)
