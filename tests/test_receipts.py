"""Receipts: every acknowledged vote shows one, unique per voter and stable across changes."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.applications import Starlette

from live.config import Settings
from live.tokens import receipt_code
from tests.conftest import BASE_URL, open_poll, path_of, services_of

pytestmark = pytest.mark.asyncio

JSON = {"Accept": "application/json"}
RECEIPT = re.compile(r"^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$")


@pytest.fixture
def settings(make_settings: object, store_url: str) -> Settings:
    assert callable(make_settings)
    made: Settings = make_settings(LIVE_STORE_URL=store_url)
    return made


def phone(client: httpx.AsyncClient) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=client._transport, base_url=BASE_URL, cookies={"live_lang": "en"}
    )


async def test_a_receipt_is_the_same_for_every_change_of_vote(
    client: httpx.AsyncClient, organiser: dict[str, str], app: Starlette
) -> None:
    poll = await open_poll(client, organiser)
    url = path_of(poll["ballot_url"])
    ids = [f["id"] for f in poll["finalists"]]
    async with phone(client) as voter:
        await voter.get(url)
        answers = [await voter.post(url, data={"choice": c}, headers=JSON) for c in ids[:3]]
        receipts = {answer.json()["receipt"] for answer in answers}
        assert len(receipts) == 1
        (receipt,) = receipts
        assert RECEIPT.match(receipt)
        token = services_of(app).voter_tokens.read(voter.cookies["live_voter"], poll["id"])
        secret = services_of(app).settings.secret_key.reveal()
        assert receipt == receipt_code(secret, poll["id"], token.voter_id)  # not the choice
        stored = await services_of(app).store.get_ballot(poll["id"], token.voter_id)
        assert stored is not None and stored.receipt == receipt
        page = await voter.get(url)  # the voter sees it again on the ballot
        assert "Your receipt code:" in page.text and receipt in page.text
        assert f'href="/p/{poll["code"]}/bulletin"' in page.text


async def test_receipts_are_unique_and_tell_nothing_of_the_choice(
    client: httpx.AsyncClient, organiser: dict[str, str], app: Starlette
) -> None:
    poll = await open_poll(client, organiser)
    url = path_of(poll["ballot_url"])
    same_choice = str(poll["finalists"][0]["id"])
    receipts = []
    for _ in range(40):
        async with phone(client) as voter:
            await voter.get(url)
            answer = await voter.post(url, data={"choice": same_choice}, headers=JSON)
            receipts.append(answer.json()["receipt"])
    assert len(set(receipts)) == 40
    listed = await services_of(app).store.list_ballots(poll["id"])
    assert sorted(r.receipt for r in listed) == sorted(receipts)


async def test_the_receipt_page_without_javascript_shows_the_code(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll(client, organiser)
    url = path_of(poll["ballot_url"])
    async with phone(client) as voter:
        await voter.get(url)
        answer = await voter.post(url, data={"choice": str(poll["finalists"][1]["id"])})
        page = await voter.get(answer.headers["location"])
        change = {"choice": str(poll["finalists"][2]["id"])}
        later = (await voter.post(url, data=change, headers=JSON)).json()
    found = re.search(r'class="receipt-code">([^<]+)<', page.text)
    assert found and RECEIPT.match(found.group(1))
    assert "published list of ballots" in page.text
    assert later["receipt"] == found.group(1)  # a later change keeps it


async def test_a_fresh_ballot_page_shows_no_receipt(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll(client, organiser)
    async with phone(client) as voter:
        page = await voter.get(path_of(poll["ballot_url"]))
    assert '<div class="receipt" hidden>' in page.text
    assert 'class="receipt-code"></strong>' in page.text
