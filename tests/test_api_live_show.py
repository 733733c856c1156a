"""The live show through the JSON API: countdowns, the reveal by place, repeated intents."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette

from live.store.models import Role
from tests.conftest import api_headers, open_poll, services_of
from tests.test_api import open_poll_with_a_clear_podium, vote

pytestmark = pytest.mark.asyncio


async def test_a_countdown_closes_the_poll_by_itself(
    client: httpx.AsyncClient, organiser: dict[str, str], app: Starlette
) -> None:
    poll = await open_poll(client, organiser)
    url = f"/api/polls/{poll['id']}"
    assert poll["closes_at"] is None
    ids = [f["id"] for f in poll["finalists"]]
    assert (await vote(client, poll["ballot_url"], ids[0])).status_code == 200
    started = datetime.now(UTC)
    timed = await client.post(f"{url}/countdown", json={"seconds": 5}, headers=organiser)
    assert timed.status_code == 200
    closes_at = datetime.fromisoformat(timed.json()["closes_at"])
    assert closes_at.tzinfo is not None
    assert 4.5 <= (closes_at - started).total_seconds() <= 6.5
    for _ in range(100):  # generous: the closer runs within moments of the closing time
        await asyncio.sleep(0.1)
        current = (await client.get(url, headers=organiser)).json()
        if current["status"] == "closed":
            break
    assert current["status"] == "closed" and current["closes_at"] is None
    assert datetime.fromisoformat(current["closed_at"]) == closes_at
    late = await vote(client, poll["ballot_url"], ids[1])
    assert late.status_code == 409
    results = (await client.get(f"{url}/results", headers=organiser)).json()
    assert results["ballots"] == 1
    closes = [e for e in await services_of(app).store.list_audit() if e.action == "poll.close"]
    assert [(e.actor, e.subject) for e in closes] == [("countdown", f"poll:{poll['id']}")]


async def test_countdowns_are_checked_and_can_be_cancelled(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll(client, organiser)
    url = f"/api/polls/{poll['id']}/countdown"
    for body in ({"seconds": 4}, {"seconds": 3601}, {"seconds": "60"}, {"seconds": True},
                 {"seconds": 6.5}, {}, {"seconds": 10**400}):  # fmt: skip
        answer = await client.post(url, json=body, headers=organiser)
        assert answer.status_code == 400 and answer.json()["error"]["field"] == "seconds", body
    assert (await client.post(url, json={"seconds": 3600}, headers=organiser)).json()["closes_at"]
    cancelled = await client.post(url, json={"seconds": None}, headers=organiser)
    assert cancelled.status_code == 200 and cancelled.json()["closes_at"] is None
    await client.post(f"/api/polls/{poll['id']}/close", headers=organiser)
    after = await client.post(url, json={"seconds": 60}, headers=organiser)
    assert after.status_code == 409


async def test_reveal_takes_a_place_and_repeats_harmlessly(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll_with_a_clear_podium(client, organiser)
    url = f"/api/polls/{poll['id']}"
    assert (await client.post(f"{url}/close", headers=organiser)).status_code == 200
    assert (await client.post(f"{url}/close", headers=organiser)).status_code == 200  # again
    skipped = await client.post(f"{url}/reveal", json={"place": 1}, headers=organiser)
    assert skipped.status_code == 409 and "3" in skipped.json()["error"]["message"]
    for place in (0, 4, "3", None, True):
        answer = await client.post(f"{url}/reveal", json={"place": place}, headers=organiser)
        assert answer.status_code in (400, 200), place
        if place is not None:
            assert answer.status_code == 400 and answer.json()["error"]["field"] == "place"
    # {"place": null} is "no place": the next one, as a bare POST
    assert (await client.get(url, headers=organiser)).json()["revealed"] == 1
    again = await client.post(f"{url}/reveal", json={"place": 3}, headers=organiser)
    assert again.status_code == 200 and again.json()["revealed"] == 1
    second = await client.post(f"{url}/reveal", json={"place": 2}, headers=organiser)
    assert second.json()["revealed"] == 2
    assert (await client.post(f"{url}/reveal", headers=organiser)).json()["revealed"] == 3
    done = await client.post(f"{url}/reveal", json={"place": 1}, headers=organiser)
    assert done.status_code == 200 and done.json()["revealed"] == 3


async def test_the_full_result_is_the_organisers_choice_after_the_reveal(
    client: httpx.AsyncClient, organiser: dict[str, str], app: object
) -> None:
    poll = await open_poll_with_a_clear_podium(client, organiser)
    url = f"/api/polls/{poll['id']}"
    await client.post(f"{url}/close", headers=organiser)
    early = await client.post(f"{url}/show-results", json={"shown": True}, headers=organiser)
    assert early.status_code == 409
    for _ in range(3):
        await client.post(f"{url}/reveal", headers=organiser)
    host = await api_headers(app, "host@example.no", Role.HOST)  # type: ignore[arg-type]
    refused = await client.post(f"{url}/show-results", json={"shown": True}, headers=host)
    assert refused.status_code == 403
    bad = await client.post(f"{url}/show-results", json={"shown": "yes"}, headers=organiser)
    assert bad.status_code == 400
    shown = await client.post(f"{url}/show-results", json={"shown": True}, headers=organiser)
    assert shown.status_code == 200 and shown.json()["show_results"] is True
