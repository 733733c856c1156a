"""The console's hall panel and the exclusion of flagged ballots (live/web/console_hall.py):
who sees and who acts, the turnout against the expected number, the alert a cookieless
stuffer raises, and a recorded decision that takes its ballots out, in a second step a
double tap cannot pass, only while voting is open; with and without script."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from live.config import Settings
from live.finale.bulletin import digest_for
from live.finale.views import PHONE, STAGE, views_of
from live.server import create_app
from live.store.models import Role
from live.store.timestamps import now_ms
from live.tokens import new_badge_code
from tests.conftest import BASE_URL, api_headers, create_poll, services_of
from tests.test_admin import csrf_of, logged_in
from tests.test_console import act, close_now, new_console, poll_id

pytestmark = pytest.mark.asyncio
JSON = {"Accept": "application/json"}
ALERT_PER_MINUTE = 3


@pytest_asyncio.fixture
async def app(make_settings: Callable[..., Settings]) -> AsyncIterator[Starlette]:
    settings = make_settings(LIVE_TOKEN_ALERT_PER_MINUTE=str(ALERT_PER_MINUTE))
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def new_voters(app: Starlette, code: str, choice: int, number: int) -> None:
    """`number` cookieless phones from one address, each taking a new token and voting."""
    for _ in range(number):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL
        ) as phone:
            assert (await phone.get(f"/p/{code}")).status_code == 200
            sent = await phone.post(f"/p/{code}", data={"choice": str(choice)}, headers=JSON)
            assert sent.status_code == 200, sent.text


async def hall(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    answer = await http.get(f"{url}/hall", headers=JSON)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    found: dict[str, Any] = answer.json()
    return found


async def exclude(
    http: httpx.AsyncClient, url: str, csrf: str, note: str = "", shown_ms_ago: int = 1500
) -> httpx.Response:
    asked_at = str(now_ms() - shown_ms_ago)
    return await act(http, url, "exclude", csrf, confirm="yes", asked_at=asked_at, note=note)


async def stuffed_poll(app: Starlette, http: httpx.AsyncClient) -> tuple[str, str, int]:
    """An open poll: 2 voters before the alert, then 5 cookieless tokens from one address
    past the alert rate (3 a minute), of which the last 2 are flagged."""
    url, csrf = await new_console(http)
    await act(http, url, "open", csrf)
    poll = await services_of(app).store.get_poll(poll_id(url))
    first, second = poll.finalist_ids[:2]
    await new_voters(app, poll.code, first, ALERT_PER_MINUTE)
    await new_voters(app, poll.code, second, 2)
    return url, csrf, second


async def stuffed_poll_votes(app: Starlette, url: str) -> None:
    poll = await services_of(app).store.get_poll(poll_id(url))
    await new_voters(app, poll.code, poll.finalist_ids[0], ALERT_PER_MINUTE + 2)


async def test_hosts_see_the_hall_but_only_organisers_act(app: Starlette) -> None:
    async with logged_in(app) as organiser:
        url, org_csrf = await new_console(organiser)
        await act(organiser, url, "open", org_csrf)
        await stuffed_poll_votes(app, url)
    async with logged_in(app, Role.HOST) as host:
        page = await host.get(url)
        csrf = csrf_of(page.text)
        assert 'id="hall"' in page.text and 'id="expected-form"' not in page.text
        assert 'data-hall="exclude-step"' not in page.text and "exclude-dialog" not in page.text
        seen = await hall(host, url)
        assert seen["ballots"] == 5 and seen["flagged"] == 2 and seen["alert_raised"]
        assert (await act(host, url, "expected", csrf, expected_voters="800")).status_code == 403
        refused = await exclude(host, url, csrf, note="Host decided")
        assert refused.status_code == 403
        assert (await hall(host, url))["flagged"] == 2
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL
    ) as nobody:
        assert (await nobody.get(f"{url}/hall", headers=JSON)).status_code in (401, 403)


async def test_the_turnout_follows_the_expected_number(app: Starlette) -> None:
    async with logged_in(app) as http:
        url, csrf = await new_console(http)
        empty = await hall(http, url)
        assert empty["ballots"] == 0 and empty["expected_voters"] is None
        assert empty["texts"]["turnout"] == "0 stemmesedler. Forventet antall velgere er ikke satt."
        assert (await act(http, url, "expected", csrf, expected_voters="800")).status_code == 200
        await act(http, url, "open", csrf)
        poll = await services_of(app).store.get_poll(poll_id(url))
        await new_voters(app, poll.code, poll.finalist_ids[0], 2)
        seen = await hall(http, url)
        assert seen["expected_voters"] == 800 and seen["ballots"] == 2
        assert seen["tokens_last_minute"] == 2 and not seen["alert_raised"]
        assert re.search(r"2 .*800.*\(0\s*%\)", seen["texts"]["turnout"]), seen["texts"]
        for bad in ("0", "-1", "x", "100001", "1e3"):
            answer = await act(http, url, "expected", csrf, expected_voters=bad)
            assert answer.status_code == 400, bad
        assert (await act(http, url, "expected", csrf, expected_voters="")).status_code == 200
        assert (await hall(http, url))["expected_voters"] is None
        english = await http.get(f"{url}/hall?lang=en", headers=JSON)
        assert "2 ballots. No expected number of voters is set." in english.text
        audit = [e.action for e in await services_of(app).store.list_audit()]
        assert audit.count("poll.expected_voters") == 2


async def test_an_organiser_takes_the_flagged_ballots_out_by_a_recorded_decision(
    app: Starlette,
) -> None:
    async with logged_in(app) as http:
        url, csrf, flagged_choice = await stuffed_poll(app, http)
        store = services_of(app).store
        seen = await hall(http, url)
        assert seen["ballots"] == 5 and seen["flagged"] == 2 and seen["can_exclude"]
        assert seen["alert_raised"] and seen["alerts"][0]["address"]
        assert seen["texts"]["alert"] and seen["texts"]["alerts"]
        receipts = {ballot["receipt"] for ballot in seen["flagged_ballots"]}
        assert len(receipts) == 2 and all(re.fullmatch(r"\w{4}-\w{4}", r) for r in receipts)

        hasty = await exclude(http, url, csrf, note="Styret", shown_ms_ago=100)
        assert hasty.status_code == 409 and hasty.json()["error"]["code"] == "confirm"
        unconfirmed = await act(http, url, "exclude", csrf, note="Styret")
        assert unconfirmed.status_code == 409
        for empty in ("", "   "):
            answer = await exclude(http, url, csrf, note=empty)
            assert answer.status_code == 400 and answer.json()["error"]["field"] == "note"
        long = await exclude(http, url, csrf, note="x" * 501)
        assert long.status_code == 400
        assert (await hall(http, url))["flagged"] == 2

        note = "Kari Nordmann (jury chair) and the organiser: one address, 5 tokens a minute"
        done = await exclude(http, url, csrf, note=note)
        assert done.status_code == 200, done.text
        after = await hall(http, url)
        assert after["ballots"] == 3 and after["flagged"] == 0 and not after["can_exclude"]
        [decision] = after["exclusions"]
        assert decision["note"] == note and decision["ballots"] == 2
        assert decision["decided_by"] == "organiser@example.no"
        assert note in decision["text"] and "organiser@example.no" in decision["text"]
        snapshot = await store.snapshot(poll_id(url))
        assert dict(snapshot.counts).get((flagged_choice,), 0) == 0 and snapshot.ballots == 3
        again = await exclude(http, url, csrf, note=note)
        assert again.status_code == 409  # nothing flagged counts now
        assert [e.action for e in await store.list_audit()].count("poll.exclude") == 1
        page = await http.get(url)
        assert note in page.text and 'id="hall-exclusions"' in page.text


async def test_no_exclusion_after_closing(app: Starlette) -> None:
    async with logged_in(app) as http:
        url, csrf, _ = await stuffed_poll(app, http)
        await close_now(http, url, csrf)
        seen = await hall(http, url)
        assert seen["flagged"] == 2 and not seen["can_exclude"]
        answer = await exclude(http, url, csrf, note="Too late")
        assert answer.status_code == 409 and answer.json()["error"]["code"] != "confirm"
        page = await http.get(f"{url}?confirm=exclude")
        assert 'id="confirm-exclude"' not in page.text
        assert re.search(r'data-hall="exclude-step" disabled', page.text)


async def test_without_script_the_exclusion_is_a_second_step_that_keeps_the_note(
    app: Starlette,
) -> None:
    async with logged_in(app) as http:
        url, csrf, _ = await stuffed_poll(app, http)
        page = await http.get(url)
        assert "hall-alert-text" in page.text and 'data-hall="exclude-step"' in page.text
        step = await http.get(f"{url}?confirm=exclude")
        assert 'id="confirm-exclude"' in step.text
        seen = await hall(http, url)
        for ballot in seen["flagged_ballots"]:
            assert ballot["receipt"] in step.text
        asked_at = re.search(
            r'id="confirm-exclude".*?name="asked_at" value="(\d+)"', step.text, re.S
        )
        assert asked_at is not None
        form = {"csrf": csrf, "confirm": "yes", "asked_at": asked_at[1], "note": "Styret: ÆØÅ"}
        hasty = await http.post(f"{url}/exclude", data=form)
        assert hasty.status_code == 409 and 'id="confirm-exclude"' in hasty.text
        assert "Styret: ÆØÅ</textarea>" in hasty.text
        form["asked_at"] = str(now_ms() - 2000)
        no_note = await http.post(f"{url}/exclude", data={**form, "note": ""})
        assert no_note.status_code == 400 and 'id="confirm-exclude"' in no_note.text
        done = await http.post(f"{url}/exclude", data=form)
        assert done.status_code == 303 and done.headers["location"] == url
        assert (await hall(http, url))["flagged"] == 0
        expected = await http.post(f"{url}/expected", data={"csrf": csrf, "expected_voters": "40"})
        assert expected.status_code == 303
        assert "40" in (await hall(http, url))["texts"]["turnout"]


async def test_a_badge_poll_shows_its_badges(app: Starlette) -> None:
    headers = await api_headers(app, "api@example.no")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as api:
        made = await create_poll(api, headers, eligibility="badge")
    store = services_of(app).store
    codes = [new_badge_code() for _ in range(3)]
    await store.add_badges(made["id"], codes, actor="api@example.no")
    await store.revoke_badge(made["id"], codes[0], actor="api@example.no")
    async with logged_in(app, Role.HOST) as http:
        url = f"/admin/polls/{made['id']}"
        seen = await hall(http, url)
        assert seen["badges"] == {"made": 3, "used": 0, "revoked": 1}
        assert "tokens_last_minute" not in seen and "alert" not in seen["texts"]
        page = await http.get(url)
        assert f'href="/admin/polls/{made["id"]}/badges"' in page.text
        assert seen["texts"]["badges"] in page.text


async def test_the_stage_view_gets_the_digest_from_the_store_only_after_the_reveal(
    app: Starlette,
) -> None:
    store = services_of(app).store
    async with logged_in(app) as http:
        url, csrf = await new_console(http)
        await act(http, url, "open", csrf)
        poll = await store.get_poll(poll_id(url))
        for index, number in enumerate((3, 2, 1)):
            await new_voters(app, poll.code, poll.finalist_ids[index], number)
        await close_now(http, url, csrf)
        for place in ("3", "2", "1"):
            early = await views_of(store, await store.snapshot(poll.id))
            assert all("digest" not in view for view in early.values()), place
            assert "sha256" not in (await http.get(f"/s/{poll.code}")).text
            assert (await act(http, url, "reveal", csrf, place=place)).status_code == 200
        done = await views_of(store, await store.snapshot(poll.id))
        digest = await digest_for(store, await store.get_poll(poll.id))
        assert digest and done[STAGE]["digest"] == digest and "digest" not in done[PHONE]
        stage = await http.get(f"/s/{poll.code}")
        hexdigest = digest.split(":")[1]
        assert f"sha256:{hexdigest[:8]}…{hexdigest[-4:]}" in stage.text
        assert f"/p/{poll.code}/bulletin" in stage.text
