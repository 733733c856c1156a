"""The host console over HTTP: intents that are harmless to repeat, the two-step close,
the reveal by place, and what hosts may do (live/web/console.py)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from live.store.models import PollStatus, Role
from live.store.timestamps import now_ms
from tests.conftest import services_of
from tests.test_admin import csrf_of, logged_in, poll_form

pytestmark = pytest.mark.asyncio
JSON = {"Accept": "application/json"}


async def new_console(http: httpx.AsyncClient) -> tuple[str, str]:
    csrf = csrf_of((await http.get("/admin/polls/new")).text)
    created = await http.post("/admin/polls/new", data=poll_form(csrf))
    return created.headers["location"], csrf


async def act(
    http: httpx.AsyncClient, url: str, action: str, csrf: str, **fields: Any
) -> httpx.Response:
    return await http.post(f"{url}/{action}", data={"csrf": csrf, **fields}, headers=JSON)


def poll_id(url: str) -> int:
    return int(url.rstrip("/").rsplit("/", 1)[1])


async def audit_actions(app: Starlette) -> list[str]:
    return [entry.action for entry in await services_of(app).store.list_audit()]


async def close_now(http: httpx.AsyncClient, url: str, csrf: str) -> httpx.Response:
    """The second step as a person takes it: a moment after the first."""
    return await act(http, url, "close", csrf, confirm="yes", asked_at=str(now_ms() - 1500))


async def test_repeating_an_intent_changes_nothing(app: Starlette) -> None:
    async with logged_in(app) as http:
        url, csrf = await new_console(http)
        for _ in range(3):
            answer = await act(http, url, "open", csrf)
            assert answer.status_code == 200 and answer.json() == {"ok": True}
        assert (await audit_actions(app)).count("poll.open") == 1
        store = services_of(app).store
        poll = await store.get_poll(poll_id(url))
        version = poll.version
        assert (await act(http, url, "hide", csrf)).status_code == 200
        assert (await act(http, url, "hide", csrf)).status_code == 200
        assert (await store.get_poll(poll.id)).hide_counts
        assert (await close_now(http, url, csrf)).status_code == 200
        assert (await close_now(http, url, csrf)).status_code == 200  # closed already: fine
        assert (await audit_actions(app)).count("poll.close") == 1
        assert (await store.get_poll(poll.id)).version > version


async def test_closing_needs_a_second_step_that_a_double_tap_cannot_pass(app: Starlette) -> None:
    async with logged_in(app) as http:
        url, csrf = await new_console(http)
        await act(http, url, "open", csrf)
        store = services_of(app).store
        first = await act(http, url, "close", csrf)
        assert first.status_code == 409 and first.json()["error"]["code"] == "confirm"
        # The page that shows the second step stamps when it was shown...
        page = await http.get(f"{url}?confirm=close")
        asked_at = re.search(r'name="asked_at" value="(\d+)"', page.text)
        assert asked_at is not None and 'id="confirm-close"' in page.text
        # ...and a tap that lands on it right away (a double tap) is not taken.
        hasty = await act(http, url, "close", csrf, confirm="yes", asked_at=asked_at[1])
        assert hasty.status_code == 409 and hasty.json()["error"]["code"] == "confirm"
        for forged in ("", "abc", "²", "9" * 40):
            answer = await act(http, url, "close", csrf, confirm="yes", asked_at=forged)
            assert answer.status_code == 409
        assert (await store.get_poll(poll_id(url))).status is PollStatus.OPEN
        no_script = await http.post(f"{url}/close", data={"csrf": csrf})
        assert no_script.status_code == 303 and no_script.headers["location"].endswith(
            "?confirm=close"
        )
        assert (await close_now(http, url, csrf)).status_code == 200
        assert (await store.get_poll(poll_id(url))).status is PollStatus.CLOSED


async def test_places_are_revealed_by_name_never_by_next(app: Starlette) -> None:
    async with logged_in(app) as http:
        url, csrf = await new_console(http)
        await act(http, url, "open", csrf)
        store = services_of(app).store
        poll = await store.get_poll(poll_id(url))
        a, b, c = poll.finalist_ids
        code = poll.code
        for choice in (a, a, a, b, b, c):
            async with httpx.AsyncClient(
                transport=http._transport, base_url=str(http.base_url)
            ) as phone:
                await phone.get(f"/p/{code}")
                await phone.post(f"/p/{code}", data={"choice": str(choice)}, headers=JSON)
        too_early = await act(http, url, "reveal", csrf, place="3")
        assert too_early.status_code == 409
        await close_now(http, url, csrf)
        skipped = await act(http, url, "reveal", csrf, place="2")
        assert skipped.status_code == 409 and "3" in skipped.json()["error"]["message"]
        for place in ("3", "3", "3"):
            assert (await act(http, url, "reveal", csrf, place=place)).status_code == 200
        assert (await store.get_poll(poll.id)).revealed == 1
        for bad in ("0", "4", "x", "", "³"):
            assert (await act(http, url, "reveal", csrf, place=bad)).status_code in (400, 409)
        assert (await act(http, url, "reveal", csrf, place="2")).status_code == 200
        assert (await act(http, url, "reveal", csrf, place="1")).status_code == 200
        assert (await act(http, url, "reveal", csrf, place="2")).status_code == 200  # shown
        assert (await store.get_poll(poll.id)).revealed == 3
        assert (await audit_actions(app)).count("poll.reveal") == 3


async def test_a_host_runs_the_show_and_draws_lots_but_decisions_are_organisers(
    app: Starlette,
) -> None:
    async with logged_in(app) as organiser:
        url, _ = await new_console(organiser)
    async with logged_in(app, Role.HOST) as host:
        csrf = csrf_of((await host.get(url)).text)
        assert (await act(host, url, "open", csrf)).status_code == 200
        assert (await act(host, url, "countdown", csrf, seconds="60")).status_code == 200
        assert (await act(host, url, "countdown", csrf, seconds="")).status_code == 200
        assert (await close_now(host, url, csrf)).status_code == 200
        page = await host.get(url)
        assert "Trekk lodd" in page.text or "lots" in page.text.lower()
        ids = re.findall(r'name="order" value="(\d+)"', page.text)[:3]
        assert len(ids) == 3  # no ballots: all three tie for first
        decision = await act(host, url, "tie", csrf, rule="decision", order=ids, note="Jury")
        assert decision.status_code == 403
        shown = await act(host, url, "results", csrf, shown="1")
        assert shown.status_code == 403
        assert (await act(host, url, "tie", csrf, rule="lots", order=ids)).status_code == 200
        assert (await act(host, url, "tie", csrf, rule="lots", order=ids)).status_code == 200
        store = services_of(app).store
        locked = await store.get_result(poll_id(url))
        assert len(locked.resolutions) == 1 and locked.resolutions[0].seed
        for place in ("3", "2", "1"):
            assert (await act(host, url, "reveal", csrf, place=place)).status_code == 200


async def test_the_countdown_takes_whole_seconds_in_range(app: Starlette) -> None:
    async with logged_in(app) as http:
        url, csrf = await new_console(http)
        refused = await act(http, url, "countdown", csrf, seconds="60")
        assert refused.status_code == 409  # not open yet
        await act(http, url, "open", csrf)
        for bad in ("4", "3601", "x", "1e3", "٦٠", "-5"):
            answer = await act(http, url, "countdown", csrf, seconds=bad)
            assert answer.status_code == 400 and answer.json()["error"]["field"] == "seconds"
        assert (await act(http, url, "countdown", csrf, seconds="120")).status_code == 200
        poll = await services_of(app).store.get_poll(poll_id(url))
        assert poll.closes_at_ms is not None and poll.closes_at_ms > now_ms() + 100_000


async def test_the_full_result_comes_after_the_reveal_by_an_organiser(app: Starlette) -> None:
    async with logged_in(app) as http:
        url, csrf = await new_console(http)
        await act(http, url, "open", csrf)
        await close_now(http, url, csrf)
        early = await act(http, url, "results", csrf, shown="1")
        assert early.status_code == 409
        ids = re.findall(r'name="order" value="(\d+)"', (await http.get(url)).text)[:3]
        await act(http, url, "tie", csrf, rule="lots", order=ids)
        for place in ("3", "2", "1"):
            await act(http, url, "reveal", csrf, place=place)
        assert (await act(http, url, "results", csrf, shown="1")).status_code == 200
        assert (await services_of(app).store.get_poll(poll_id(url))).show_results


async def test_unknown_actions_and_errors_without_script_come_back_to_the_console(
    app: Starlette,
) -> None:
    async with logged_in(app) as http:
        url, csrf = await new_console(http)
        unknown = await http.post(f"{url}/explode", data={"csrf": csrf})
        assert unknown.status_code == 404
        early = await http.post(f"{url}/reveal", data={"csrf": csrf, "place": "3"})
        assert (
            early.status_code == 409
            and 'role="alert"' in early.text
            and 'id="console"' in early.text
        )
