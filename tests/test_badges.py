"""Badges for organisers: the API (make, list, revoke), the badge page with its two-step
revoke, the printable A4 sheets and the CSV; on SQLite and on Redis."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
import qrcode
import qrcode.constants
from starlette.applications import Starlette

from live.config import Settings
from live.server import create_app
from live.store.models import (
    Eligibility,
    FinalistDraft,
    Poll,
    PollDraft,
    PollSettings,
    Role,
    badge_voter_id,
)
from live.tally import Method
from live.tokens import CODE_ALPHABET, TOKEN_KIND_BADGE, VoterToken, receipt_code
from live.web import badges
from tests.conftest import BASE_URL, api_headers, log_in, make_user, services_of

pytestmark = pytest.mark.asyncio

CODE = re.compile(f"[{CODE_ALPHABET}]{{5}}-[{CODE_ALPHABET}]{{5}}")


@pytest_asyncio.fixture
async def app(make_settings: Callable[..., Settings], store_url: str) -> AsyncIterator[Starlette]:
    """The app on each backend (`store_url` runs the test on SQLite and on Redis)."""
    application = create_app(make_settings(LIVE_STORE_URL=store_url))
    async with application.router.lifespan_context(application):
        yield application


async def make_poll(
    app: Starlette, eligibility: Eligibility = Eligibility.BADGE, status: str = "draft"
) -> Poll:
    store = services_of(app).store
    draft = PollDraft(
        "Finalen", Method.SINGLE, 2, tuple(FinalistDraft(name) for name in ("Alfa", "Bravo", "C")),
        settings=PollSettings(eligibility=eligibility),
    )  # fmt: skip
    poll = await store.create_poll(draft, actor="test")
    if status in ("open", "closed"):
        await store.open_poll(poll.id, actor="test")
    if status == "closed":
        await store.close_poll(poll.id, actor="test")
    return await store.get_poll(poll.id)


async def vote_with(app: Starlette, poll: Poll, code: str) -> None:
    """A ballot for the first finalist from the holder of badge `code`."""
    voter = badge_voter_id(code)
    token = VoterToken(poll.id, voter, TOKEN_KIND_BADGE)
    receipt = receipt_code("a test key", poll.id, voter)
    await services_of(app).store.cast_ballot(token, [poll.finalists[0].id], None, receipt)


async def make_badges(
    client: httpx.AsyncClient, headers: dict[str, str], poll: Poll, count: int
) -> list[dict[str, Any]]:
    made = await client.post(f"/api/polls/{poll.id}/badges", json={"count": count},
                             headers=headers)  # fmt: skip
    assert made.status_code == 201, made.text
    found: list[dict[str, Any]] = made.json()["badges"]
    return found


# --- the API --------------------------------------------------------------------------------


async def test_badges_are_made_with_typeable_codes_and_ballot_urls(
    app: Starlette, client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await make_poll(app)
    first = await make_badges(client, organiser, poll, 5)
    assert len(first) == 5 and all(set(badge) == {"code", "url"} for badge in first)
    for badge in first:
        assert CODE.fullmatch(badge["code"]), badge["code"]
        assert badge["url"] == f"{BASE_URL}/p/{poll.code}?badge={badge['code']}"
    more = await make_badges(client, organiser, poll, 3)  # again: more badges
    listed = (await client.get(f"/api/polls/{poll.id}/badges", headers=organiser)).json()
    assert (listed["made"], listed["used"], listed["revoked"]) == (8, 0, 0)
    codes = [badge["code"] for badge in listed["badges"]]
    assert sorted(codes) == sorted(b["code"] for b in first + more) and len(set(codes)) == 8
    one = listed["badges"][0]
    assert set(one) == {"code", "url", "used", "revoked", "created_at", "revoked_at"}
    assert one["used"] is False and one["revoked"] is False and one["revoked_at"] is None


async def test_ten_thousand_badges_at_once_all_differ(
    app: Starlette, client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await make_poll(app)
    made = await make_badges(client, organiser, poll, badges.MAX_BADGES)
    codes = {badge["code"] for badge in made}
    assert len(codes) == badges.MAX_BADGES and all(CODE.fullmatch(code) for code in codes)


BAD_COUNTS: list[Any] = [
    *({"count": value} for value in (0, 10_001, -1, 2.5, True, "5", None, [3])),
    {},
    [5],
    "5",
]


async def test_the_count_is_a_whole_number_from_1_to_10000(
    app: Starlette, client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await make_poll(app)
    for body in BAD_COUNTS:
        answer = await client.post(f"/api/polls/{poll.id}/badges", json=body, headers=organiser)
        assert answer.status_code == 400, body
        if isinstance(body, dict):
            assert answer.json()["error"]["field"] == "count"
    listed = (await client.get(f"/api/polls/{poll.id}/badges", headers=organiser)).json()
    assert listed["made"] == 0


async def test_a_poll_open_to_every_device_takes_no_badges(
    app: Starlette, client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await make_poll(app, Eligibility.OPEN)
    english = {**organiser, "Accept-Language": "en"}
    answer = await client.post(f"/api/polls/{poll.id}/badges", json={"count": 3}, headers=english)
    assert answer.status_code == 409 and "who may vote" in answer.json()["error"]["message"]


async def test_a_closed_poll_takes_no_badges_and_revokes_none(
    app: Starlette, client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await make_poll(app, status="open")
    code = (await make_badges(client, organiser, poll, 2))[0]["code"]
    await services_of(app).store.close_poll(poll.id, actor="test")
    more = await client.post(f"/api/polls/{poll.id}/badges", json={"count": 1},
                             headers=organiser)  # fmt: skip
    assert more.status_code == 409
    revoked = await client.post(f"/api/polls/{poll.id}/badges/{code}/revoke", headers=organiser)
    assert revoked.status_code == 409
    listed = (await client.get(f"/api/polls/{poll.id}/badges", headers=organiser)).json()
    assert (listed["made"], listed["revoked"]) == (2, 0)


async def test_revoking_takes_the_ballot_out_and_a_repeat_is_harmless(
    app: Starlette, client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await make_poll(app, status="open")
    code, other = (badge["code"] for badge in await make_badges(client, organiser, poll, 2))
    await vote_with(app, poll, code)
    await vote_with(app, poll, other)
    store = services_of(app).store
    listed = (await client.get(f"/api/polls/{poll.id}/badges", headers=organiser)).json()
    assert listed["used"] == 2 and (await store.snapshot(poll.id)).ballots == 2
    typed = code.replace("-", "").lower()  # as someone may type it
    first = await client.post(f"/api/polls/{poll.id}/badges/{typed}/revoke", headers=organiser)
    assert first.status_code == 200, first.text
    shown = first.json()
    assert shown["code"] == code and shown["revoked"] is True and shown["revoked_at"]
    assert shown["used"] is False and (await store.snapshot(poll.id)).ballots == 1
    again = await client.post(f"/api/polls/{poll.id}/badges/{code}/revoke", headers=organiser)
    assert again.status_code == 200 and again.json() == shown
    listed = (await client.get(f"/api/polls/{poll.id}/badges", headers=organiser)).json()
    assert (listed["made"], listed["used"], listed["revoked"]) == (2, 1, 1)


async def test_only_a_badge_of_this_poll_can_be_revoked(
    app: Starlette, client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll, elsewhere = await make_poll(app), await make_poll(app)
    foreign = (await make_badges(client, organiser, elsewhere, 1))[0]["code"]
    for code in (foreign, "AAAAA-AAAAA", "not-a-code", "O0O0O-I1I1I"):
        answer = await client.post(f"/api/polls/{poll.id}/badges/{code}/revoke",
                                   headers=organiser)  # fmt: skip
        assert answer.status_code == 404, code
    assert (await services_of(app).store.find_badge(foreign)).revoked_at is None  # type: ignore[union-attr]
    for method, path in (
        ("GET", "badges"),
        ("POST", "badges"),
        ("POST", f"badges/{foreign}/revoke"),
    ):
        missing = await client.request(method, f"/api/polls/999999/{path}", headers=organiser,
                                       json={"count": 1})  # fmt: skip
        assert missing.status_code == 404


async def test_a_taken_code_makes_the_batch_again(
    app: Starlette, client: httpx.AsyncClient, organiser: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    poll, other = await make_poll(app), await make_poll(app)
    taken = (await make_badges(client, organiser, other, 1))[0]["code"]
    fresh = iter([taken, "BBBBB-BBBBB"])
    monkeypatch.setattr(badges, "new_badge_code", lambda: next(fresh))
    made = await make_badges(client, organiser, poll, 1)
    assert [badge["code"] for badge in made] == ["BBBBB-BBBBB"]
    listed = (await client.get(f"/api/polls/{other.id}/badges", headers=organiser)).json()
    assert [badge["code"] for badge in listed["badges"]] == [taken]


async def test_badges_are_for_organisers_with_a_token(
    app: Starlette, client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await make_poll(app)
    code = (await make_badges(client, organiser, poll, 1))[0]["code"]
    host = await api_headers(app, "host@example.no", Role.HOST)
    requests = [("POST", "badges"), ("GET", "badges"), ("POST", f"badges/{code}/revoke")]
    for method, path in requests:
        url = f"/api/polls/{poll.id}/{path}"
        anonymous = await client.request(method, url, json={"count": 1})
        assert anonymous.status_code == 401, url
        refused = await client.request(method, url, json={"count": 1}, headers=host)
        assert refused.status_code == 403, url
    listed = (await client.get(f"/api/polls/{poll.id}/badges", headers=organiser)).json()
    assert (listed["made"], listed["revoked"]) == (1, 0)


# --- the organisers' pages ------------------------------------------------------------------


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


@contextlib.asynccontextmanager
async def logged_in(
    app: Starlette, role: Role = Role.ORGANISER
) -> AsyncIterator[httpx.AsyncClient]:
    email = f"{role.value}@example.no"
    await make_user(app, email, role)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        assert (await log_in(http, email)).status_code == 303
        yield http


async def test_the_pages_are_for_organisers(app: Starlette, organiser: dict[str, str]) -> None:
    poll = await make_poll(app)
    base = f"/admin/polls/{poll.id}/badges"
    pages = [base, f"{base}/print", f"{base}.csv"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL
    ) as anyone:
        for path in pages:
            answer = await anyone.get(path)
            assert answer.status_code == 303 and "/admin/login" in answer.headers["location"]
    async with logged_in(app, Role.HOST) as host:
        for path in pages:
            assert (await host.get(path)).status_code == 403, path
        made = await host.post(f"{base}/make", data={"csrf": "x", "count": "3"})
        assert made.status_code == 403
    listed = await services_of(app).store.list_badges(poll.id)
    assert listed == []


async def test_badges_are_made_on_the_page(app: Starlette) -> None:
    poll = await make_poll(app)
    base = f"/admin/polls/{poll.id}/badges"
    async with logged_in(app) as http:
        page = await http.get(base)
        assert page.status_code == 200
        csrf = csrf_of(page.text)
        forged = await http.post(f"{base}/make", data={"csrf": "forged", "count": "4"})
        assert forged.status_code == 403
        wrong = await http.post(f"{base}/make", data={"csrf": csrf, "count": "10001"})
        assert wrong.status_code == 400, wrong.text
        assert 'value="10001"' in wrong.text
        assert 'aria-invalid="true"' in wrong.text and 'id="error-summary"' in wrong.text
        made = await http.post(f"{base}/make", data={"csrf": csrf, "count": "4"})
        assert made.status_code == 303 and made.headers["location"] == f"{base}?made=4"
        shown = await http.get(made.headers["location"])
    codes = [badge.code for badge in await services_of(app).store.list_badges(poll.id)]
    assert len(codes) == 4 and all(code in shown.text for code in codes)
    assert 'role="region"' in shown.text and 'role="status"' in shown.text


async def test_the_page_explains_why_no_badges_can_be_made(app: Starlette) -> None:
    open_to_all = await make_poll(app, Eligibility.OPEN)
    closed = await make_poll(app, status="closed")
    async with logged_in(app) as http:
        for poll in (open_to_all, closed):
            page = await http.get(f"/admin/polls/{poll.id}/badges")
            assert page.status_code == 200 and 'name="count"' not in page.text
            refused = await http.post(f"/admin/polls/{poll.id}/badges/make",
                                      data={"csrf": csrf_of(page.text), "count": "2"})  # fmt: skip
            assert refused.status_code == 409 and 'role="alert"' in refused.text


async def test_revoking_on_the_page_takes_two_steps(
    app: Starlette, client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await make_poll(app, status="open")
    code = (await make_badges(client, organiser, poll, 2))[0]["code"]
    await vote_with(app, poll, code)
    base = f"/admin/polls/{poll.id}/badges"
    action = f"{base}/{code}/revoke"
    store = services_of(app).store
    async with logged_in(app) as http:
        page = await http.get(base)
        step = f"{base}?revoke={code}#revoke-confirm"
        assert f'href="{step}"' in page.text and f'action="{action}"' not in page.text
        confirm = await http.get(step.split("#")[0])
        assert f'action="{action}"' in confirm.text and 'id="revoke-confirm"' in confirm.text
        assert (await store.find_badge(code)).revoked_at is None  # type: ignore[union-attr]
        forged = await http.post(action, data={"csrf": "forged"})
        assert forged.status_code == 403
        assert (await store.find_badge(code)).revoked_at is None  # type: ignore[union-attr]
        done = await http.post(action, data={"csrf": csrf_of(confirm.text)})
        assert done.status_code == 303 and done.headers["location"] == f"{base}?revoked={code}"
        after = await http.get(f"{base}?revoke={code}")  # a revoked badge: no second step
        assert f'action="{action}"' not in after.text and code in after.text
    assert (await store.find_badge(code)).revoked_at is not None  # type: ignore[union-attr]
    assert (await store.snapshot(poll.id)).ballots == 0


def cards_of(html: str) -> list[str]:
    return re.findall(r'<p class="card-code">([^<]+)</p>', html)


async def test_the_sheets_hold_24_badges_each_with_qr_code_and_address(
    app: Starlette, client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await make_poll(app, status="open")
    codes = [badge["code"] for badge in await make_badges(client, organiser, poll, 30)]
    await vote_with(app, poll, codes[0])
    revoked = codes[1]
    await client.post(f"/api/polls/{poll.id}/badges/{revoked}/revoke", headers=organiser)
    base = f"/admin/polls/{poll.id}/badges/print"
    async with logged_in(app) as http:
        every = await http.get(base)
        unused = await http.get(f"{base}?unused=1")
        beyond = await http.get(f"{base}?part=2")
    assert every.status_code == 200 and unused.status_code == 200 and beyond.status_code == 404
    assert cards_of(every.text) == [c for c in codes if c != revoked]
    assert cards_of(unused.text) == codes[2:]
    assert every.text.count('<section class="sheet"') == 2
    assert every.text.count('<svg class="qr"') == 29
    assert f"testserver/p/{poll.code}" in every.text and poll.title in every.text


async def test_large_prints_come_in_parts(
    app: Starlette, client: httpx.AsyncClient, organiser: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(badges, "PRINT_SHEETS", 1)
    poll = await make_poll(app)
    codes = [badge["code"] for badge in await make_badges(client, organiser, poll, 50)]
    ordered = [badge.code for badge in await services_of(app).store.list_badges(poll.id)]
    base = f"/admin/polls/{poll.id}/badges/print"
    async with logged_in(app) as http:
        parts = [cards_of((await http.get(f"{base}?part={n}")).text) for n in (1, 2, 3)]
        assert (await http.get(f"{base}?part=4")).status_code == 404
    assert [len(part) for part in parts] == [24, 24, 2]
    assert [code for part in parts for code in part] == ordered and sorted(ordered) == sorted(codes)


async def test_the_csv_lists_every_badge(
    app: Starlette, client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await make_poll(app, status="open")
    codes = [badge["code"] for badge in await make_badges(client, organiser, poll, 3)]
    await vote_with(app, poll, codes[0])
    await client.post(f"/api/polls/{poll.id}/badges/{codes[2]}/revoke", headers=organiser)
    async with logged_in(app) as http:
        answer = await http.get(f"/admin/polls/{poll.id}/badges.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert f'filename="badges-{poll.code}.csv"' in answer.headers["content-disposition"]
    text = answer.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = [line.split(";") for line in text[1:].splitlines()]
    assert rows[0] == ["code", "url", "used", "revoked"]
    url = f"{BASE_URL}/p/{poll.code}?badge="
    by_code = {row[0]: row for row in rows[1:]}
    assert by_code[codes[0]] == [codes[0], url + codes[0], "yes", "no"]
    assert by_code[codes[1]] == [codes[1], url + codes[1], "no", "no"]
    assert by_code[codes[2]] == [codes[2], url + codes[2], "no", "yes"]


# --- the QR code ----------------------------------------------------------------------------


def modules_of(code: badges.QrCode) -> list[list[bool]]:
    """The dark modules the path draws, read back from its runs."""
    grid = [[False] * code.size for _ in range(code.size)]
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", code.path):
        for column in range(int(x), int(x) + int(width)):
            grid[int(y)][column] = True
    return grid


async def test_the_qr_path_draws_exactly_the_modules_of_the_code() -> None:
    for code in ("ABCDE-FGHJK", "22222-22222", "ZZZZZ-ZZZZZ"):
        url = f"https://live.example.no/p/ABC123?badge={code}"
        reference = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
        reference.add_data(url)
        reference.make(fit=True)
        drawn = badges.qr_code(url)
        assert modules_of(drawn) == [[bool(m) for m in row] for row in reference.get_matrix()]
        assert len(drawn.path) < 4000  # a sheet of 24 stays light
