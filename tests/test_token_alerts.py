"""Stuffing made visible: a cookieless script on one address is flagged, then refused new
tokens, while voters who hold a token vote on; on every backend."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from live.config import Settings, SettingsError
from live.finale import stuffing
from tests.conftest import BASE_URL, open_poll, path_of, services_of

JSON = {"Accept": "application/json"}
ALERT, CEILING = 5, 10


@pytest.fixture
def settings(make_settings: Any, store_url: str) -> Settings:
    made: Settings = make_settings(
        LIVE_STORE_URL=store_url,
        LIVE_TOKEN_ALERT_PER_MINUTE=str(ALERT),
        LIVE_TOKEN_CEILING_PER_MINUTE=str(CEILING),
    )
    return made


def from_address(app: Starlette, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 4321))
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL, cookies={"live_lang": "en"})


async def stuff_once(script: httpx.AsyncClient, url: str, choice: int) -> httpx.Response:
    """What the attacker's script does: drop the cookie, take a new token, vote."""
    script.cookies.clear()
    page = await script.get(url)
    if page.status_code != 200:
        return page
    return await script.post(url, data={"choice": str(choice)}, headers=JSON)


@pytest.mark.asyncio
async def test_a_cookieless_script_is_flagged_then_refused_new_tokens(
    client: httpx.AsyncClient, organiser: dict[str, str], app: Starlette
) -> None:
    poll = await open_poll(client, organiser)
    url = path_of(poll["ballot_url"])
    choice = poll["finalists"][0]["id"]
    store = services_of(app).store
    script, hall = from_address(app, "198.51.100.7"), from_address(app, "198.51.100.7")
    async with script, hall:
        await hall.get(url)  # a phone in the same hall took its token first
        answers = [await stuff_once(script, url, choice) for _ in range(CEILING + 2)]
        assert [a.status_code for a in answers] == [200] * (CEILING - 1) + [429] * 3
        refused = answers[-1]
        assert int(refused.headers["Retry-After"]) > 0
        assert "For mange nye velgere fra nettverket ditt" in refused.text  # bokmål by default
        assert "set-cookie" not in refused.headers
        # Voting with a token already held is never limited, even now.
        voted = await hall.post(url, data={"choice": str(choice)}, headers=JSON)
        assert voted.status_code == 200
    records = await store.list_ballots(poll["id"])
    assert len(records) == CEILING
    assert sum(1 for r in records if r.flagged) == CEILING - ALERT
    activity = await stuffing.token_activity(store, poll["id"])
    assert activity["alert_raised"] is True and activity["tokens_last_minute"] == CEILING
    (alert,) = activity["alerts"]
    assert alert["address"] == "198.51.100.7" and alert["tokens_per_minute"] == ALERT + 1
    assert (await store.get_record("token-alerts", str(poll["id"]))) is not None


@pytest.mark.asyncio
async def test_the_alert_outlasts_the_minute_and_spares_other_addresses(
    client: httpx.AsyncClient, organiser: dict[str, str], app: Starlette
) -> None:
    poll = await open_poll(client, organiser)
    url = path_of(poll["ballot_url"])
    choice = poll["finalists"][1]["id"]
    store = services_of(app).store
    async with from_address(app, "203.0.113.9") as script, from_address(app, "192.0.2.4") as other:
        for _ in range(ALERT + 1):
            await stuff_once(script, url, choice)
        assert (await stuff_once(other, url, choice)).status_code == 200
        # A new minute for the address: its rate is low again, but the alert holds.
        await store.clear_hits(f"tokens:{poll['id']}:203.0.113.9")
        assert (await stuff_once(script, url, choice)).status_code == 200
    flagged = [r.flagged for r in await store.list_ballots(poll["id"])]
    assert flagged.count(True) == 2 and flagged.count(False) == ALERT + 1
    assert len((await stuffing.token_activity(store, poll["id"]))["alerts"]) == 1


@pytest.mark.asyncio
async def test_a_quiet_poll_has_no_alert(
    client: httpx.AsyncClient, organiser: dict[str, str], app: Starlette
) -> None:
    poll = await open_poll(client, organiser)
    await client.get(path_of(poll["ballot_url"]))
    activity = await stuffing.token_activity(services_of(app).store, poll["id"])
    assert activity == {"tokens_last_minute": 1, "alerts": [], "alert_raised": False}


@pytest.mark.asyncio
async def test_alerts_from_several_addresses_at_once_are_all_recorded(
    app: Starlette, settings: Settings
) -> None:
    store = services_of(app).store
    addresses = [f"192.0.2.{n}" for n in range(1, 7)]

    async def burst(address: str) -> list[bool]:
        return [
            await stuffing.admit_new_token(store, settings, 99, address) for _ in range(ALERT + 1)
        ]

    flags = await asyncio.gather(*(burst(address) for address in addresses))
    assert all(flag == [False] * ALERT + [True] for flag in flags)
    recorded = (await stuffing.token_activity(store, 99))["alerts"]
    assert sorted(alert["address"] for alert in recorded) == addresses


@pytest.mark.parametrize(
    ("alert", "ceiling", "named"),
    [
        ("many", "6000", "LIVE_TOKEN_ALERT_PER_MINUTE"),
        ("300", "0", "LIVE_TOKEN_CEILING_PER_MINUTE"),
        ("300", "200", "LIVE_TOKEN_CEILING_PER_MINUTE"),  # below the alert rate
    ],
)
def test_bad_token_rates_stop_start_up_naming_the_key(
    make_settings: Any, alert: str, ceiling: str, named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        make_settings(LIVE_TOKEN_ALERT_PER_MINUTE=alert, LIVE_TOKEN_CEILING_PER_MINUTE=ceiling)


@pytest.mark.asyncio
async def test_a_process_sends_its_token_counts_in_batches(
    app: Starlette, settings: Settings
) -> None:
    """Counting stays exact in one process while the store hears of it in batches, not a
    write per token; the console's figure includes this process's latest hits."""
    store = services_of(app).store
    writes: list[int] = []
    real_hit = store.hit

    async def counted(key: str, window: int, limit: int, cost: int = 1) -> float | None:
        if key.startswith("tokens:") and cost:
            writes.append(cost)
        return await real_hit(key, window, limit, cost)

    roomy = dataclasses.replace(settings, token_ceiling_per_minute=1000)
    store.hit = counted  # type: ignore[method-assign]
    try:
        flags = [await stuffing.admit_new_token(store, roomy, 77, "192.0.2.50") for _ in range(40)]
    finally:
        store.hit = real_hit  # type: ignore[method-assign]
    assert flags == [False] * ALERT + [True] * (40 - ALERT)
    assert sum(writes) <= 80 and len(writes) <= 8, writes  # 2 keys, a few batches
    assert (await stuffing.token_activity(store, 77))["tokens_last_minute"] == 40
    assert await store.count_hits("tokens:77:192.0.2.50") == 40
