"""Badge polls on the ballot: one ballot per badge, whatever the device, on every backend.

A badge is scanned (its QR code opens `/p/CODE?badge=…`) or typed; forged, unknown,
revoked and other polls' badges get 403 and nothing is counted. The phones read
English, so that these tests do not wait for the catalogues' new translations.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from live.config import Settings
from live.store.models import Eligibility, FinalistDraft, Poll, PollDraft, PollSettings
from live.tally import Method
from live.tokens import VoterTokens, new_badge_code
from live.web import ballot, limits
from tests.conftest import BASE_URL, services_of

pytestmark = pytest.mark.asyncio

ORG = "org@example.no"
JSON = {"Accept": "application/json"}
NAMES = ("Alfa", "Bravo", "Charlie", "Delta", "Echo")
ENGLISH = {"live_lang": "en"}


@pytest.fixture
def settings(make_settings: Any, store_url: str) -> Settings:
    settings: Settings = make_settings(LIVE_STORE_URL=store_url)
    return settings


async def badge_poll(app: Starlette, badges: int = 3, method: Method = Method.SINGLE) -> Poll:
    store = services_of(app).store
    draft = PollDraft(
        "Finalen",
        method,
        1,
        tuple(FinalistDraft(name) for name in NAMES),
        PollSettings(eligibility=Eligibility.BADGE),
    )
    poll = await store.create_poll(draft, actor=ORG)
    await store.add_badges(poll.id, [new_badge_code() for _ in range(badges)], actor=ORG)
    return await store.open_poll(poll.id, actor=ORG)


async def codes_of(app: Starlette, poll: Poll) -> list[str]:
    return [badge.code for badge in await services_of(app).store.list_badges(poll.id)]


async def counted(app: Starlette, poll: Poll) -> dict[tuple[int, ...], int]:
    return dict((await services_of(app).store.snapshot(poll.id)).counts)


@pytest_asyncio.fixture
async def phones(client: httpx.AsyncClient) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Three phones, each with a cookie jar of its own."""
    made = [
        httpx.AsyncClient(transport=client._transport, base_url=BASE_URL, cookies=ENGLISH)
        for _ in range(3)
    ]
    yield made
    for phone in made:
        await phone.aclose()


async def vote(phone: httpx.AsyncClient, poll: Poll, *choices: int) -> httpx.Response:
    data = {"choice": [str(c) for c in choices]}
    return await phone.post(f"/p/{poll.code}", data=data, headers=JSON)


async def test_a_phone_without_a_badge_is_asked_for_the_code(
    client: httpx.AsyncClient, app: Starlette
) -> None:
    poll = await badge_poll(app)
    client.cookies.update(ENGLISH)
    page = await client.get(f"/p/{poll.code}")
    assert page.status_code == 200 and "set-cookie" not in page.headers
    assert 'id="badge-form"' in page.text and 'id="ballot"' not in page.text
    assert "Type the code on your badge" in page.text
    assert all(name in page.text for name in NAMES)  # the finalists are shown
    refused = await vote(client, poll, poll.finalists[0].id)
    assert refused.status_code == 403 and "badge holders" in refused.json()["error"]["message"]
    _, device = services_of(app).voter_tokens.issue(poll.id)  # an open poll's kind of token
    with_device = await client.post(
        f"/p/{poll.code}",
        data={"choice": str(poll.finalists[0].id)},
        headers={"Cookie": f"live_voter={device}"},
    )
    assert with_device.status_code == 403 and "text/html" in with_device.headers["content-type"]
    assert await counted(app, poll) == {}


async def test_the_qr_link_and_a_typed_code_open_the_same_ballot(
    app: Starlette, phones: list[httpx.AsyncClient]
) -> None:
    poll = await badge_poll(app)
    code = (await codes_of(app, poll))[0]
    scanned, typed, _ = phones
    answer = await scanned.get(f"/p/{poll.code}", params={"badge": code})
    assert answer.status_code == 303 and answer.headers["location"] == f"/p/{poll.code}"
    assert "live_voter=" in answer.headers["set-cookie"]
    sloppy = " ".join(code.replace("-", "").lower())  # spaces and lower case
    answer = await typed.post(f"/p/{poll.code}/badge", data={"badge": sloppy})
    assert answer.status_code == 303 and "live_voter=" in answer.headers["set-cookie"]
    pages = [await phone.get(f"/p/{poll.code}") for phone in (scanned, typed)]
    assert all('id="ballot"' in page.text and "badge-form" not in page.text for page in pages)
    assert pages[0].text == pages[1].text  # one voter: the same order of finalists


async def test_one_badge_on_three_phones_is_one_ballot_and_the_last_counts(
    app: Starlette, phones: list[httpx.AsyncClient]
) -> None:
    poll = await badge_poll(app)
    code = (await codes_of(app, poll))[0]
    ids = [f.id for f in poll.finalists]
    for phone in phones:
        await phone.post(f"/p/{poll.code}/badge", data={"badge": code})
    answers = [await vote(phone, poll, ids[n]) for n, phone in enumerate(phones)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["replaced"] for a in answers] == [False, True, True]
    assert len({a.json()["receipt"] for a in answers}) == 1
    assert await counted(app, poll) == {(ids[2],): 1}
    page = await phones[0].get(f"/p/{poll.code}")
    assert "Charlie" in page.text.split('id="recorded"')[1].split("</div>")[0]


async def test_concurrent_votes_with_one_badge_on_many_phones_count_once(
    app: Starlette, phones: list[httpx.AsyncClient]
) -> None:
    poll = await badge_poll(app)
    code = (await codes_of(app, poll))[0]
    ids = [f.id for f in poll.finalists]
    for phone in phones:
        await phone.post(f"/p/{poll.code}/badge", data={"badge": code})
    answers = await asyncio.gather(*(vote(phones[n % 3], poll, ids[n % 5]) for n in range(30)))
    assert all(a.status_code == 200 for a in answers)
    assert sum(1 for a in answers if not a.json()["replaced"]) == 1
    assert sum((await counted(app, poll)).values()) == 1


async def test_unknown_malformed_and_forged_badges_count_nothing(
    client: httpx.AsyncClient, app: Starlette, phones: list[httpx.AsyncClient]
) -> None:
    poll = await badge_poll(app)
    code = (await codes_of(app, poll))[0]
    phone = phones[0]
    unknown = await phone.post(f"/p/{poll.code}/badge", data={"badge": "ZZZZZ-ZZZZZ"})
    assert unknown.status_code == 403 and "ZZZZZ-ZZZZZ" in unknown.text
    assert 'aria-invalid="true"' in unknown.text and "set-cookie" not in unknown.headers
    as_json = await phone.post(f"/p/{poll.code}/badge", data={"badge": "ZZZZZ-ZZZZZ"}, headers=JSON)
    assert as_json.status_code == 403 and as_json.json()["error"]["field"] == "badge"
    malformed = await phone.post(f"/p/{poll.code}/badge", data={"badge": "ABC-01"})
    assert malformed.status_code == 400 and 'role="alert"' in malformed.text
    scanned = await phone.get(f"/p/{poll.code}", params={"badge": "nonsense"})
    assert scanned.status_code == 400 and "set-cookie" not in scanned.headers
    tokens = services_of(app).voter_tokens
    _, not_a_badge = tokens.issue_badge(poll.id, "ZZZZZ-ZZZZZ")  # signed, but no such badge
    _, other_key = VoterTokens("another key entirely, 32+ chars long").issue_badge(poll.id, code)
    for cookie in (not_a_badge, other_key):
        answer = await client.post(
            f"/p/{poll.code}",
            data={"choice": str(poll.finalists[0].id)},
            headers={**JSON, "Cookie": f"live_voter={cookie}"},
        )
        assert answer.status_code == 403, cookie
    assert await counted(app, poll) == {}


async def test_a_badge_of_another_poll_is_refused(
    client: httpx.AsyncClient, app: Starlette, phones: list[httpx.AsyncClient]
) -> None:
    here, there = await badge_poll(app), await badge_poll(app)
    foreign = (await codes_of(app, there))[0]
    typed = await phones[0].post(f"/p/{here.code}/badge", data={"badge": foreign})
    assert typed.status_code == 403 and "another poll" in typed.text
    await phones[1].post(f"/p/{there.code}/badge", data={"badge": foreign})
    cookie = phones[1].cookies["live_voter"]
    carried = await client.post(
        f"/p/{here.code}",
        data={"choice": str(here.finalists[0].id)},
        headers={**JSON, "Cookie": f"live_voter={cookie}"},
    )
    assert carried.status_code == 403
    assert await counted(app, here) == {}


async def test_revoking_a_badge_while_open_takes_its_ballot_out(
    app: Starlette, phones: list[httpx.AsyncClient]
) -> None:
    poll = await badge_poll(app)
    code, other = (await codes_of(app, poll))[:2]
    ids = [f.id for f in poll.finalists]
    revoked_phone, kept_phone, _ = phones
    await revoked_phone.post(f"/p/{poll.code}/badge", data={"badge": code})
    await kept_phone.post(f"/p/{poll.code}/badge", data={"badge": other})
    assert (await vote(revoked_phone, poll, ids[0])).status_code == 200
    assert (await vote(kept_phone, poll, ids[1])).status_code == 200
    await services_of(app).store.revoke_badge(poll.id, code, actor=ORG)
    assert await counted(app, poll) == {(ids[1],): 1}
    again = await vote(revoked_phone, poll, ids[0])
    assert again.status_code == 403 and again.json()["error"]["code"] == "forbidden"
    as_page = await revoked_phone.post(f"/p/{poll.code}", data={"choice": str(ids[0])})
    assert as_page.status_code == 403 and 'role="alert"' in as_page.text
    reentered = await phones[2].post(f"/p/{poll.code}/badge", data={"badge": code})
    assert reentered.status_code == 403 and "revoked" in reentered.text
    assert await counted(app, poll) == {(ids[1],): 1}


async def test_guessing_codes_is_limited_per_address(
    app: Starlette, phones: list[httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    small = limits.Limit("badge-address", 3, 600, ballot.BADGE_GUESSES.message)
    monkeypatch.setattr(ballot, "BADGE_GUESSES", small)
    poll = await badge_poll(app)
    code = (await codes_of(app, poll))[0]
    guesses = [new_badge_code() for _ in range(4)]
    answers = [
        await phones[0].post(f"/p/{poll.code}/badge", data={"badge": guess}) for guess in guesses
    ]
    assert [a.status_code for a in answers] == [403, 403, 403, 429]
    assert int(answers[-1].headers["Retry-After"]) > 0 and "min" in answers[-1].text
    genuine = await phones[1].post(f"/p/{poll.code}/badge", data={"badge": code})
    assert genuine.status_code == 429  # same address: no more tries for a while
    typos = await phones[1].post(f"/p/{poll.code}/badge", data={"badge": "AB"})
    assert typos.status_code == 429
