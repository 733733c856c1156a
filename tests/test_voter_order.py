"""Fair order: each voter's own random order of the finalists, the same on every visit."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from typing import TypeVar

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette

from live.finale.order import voter_order
from tests.conftest import BASE_URL, open_poll, path_of, services_of

T = TypeVar("T")
VOTERS = [f"voter-{n}" for n in range(6000)]
# Chi-square critical values at p = 0.001 (df 4 and 5): a fair shuffle fails this
# one time in a thousand, and these fixed ids make the test deterministic.
CHI2_DF4 = 18.467
CHI2_DF5 = 20.515


def chi_square(observed: Counter[T], categories: Sequence[T], total: int) -> float:
    expected = total / len(categories)
    return sum((observed[c] - expected) ** 2 / expected for c in categories)


def test_the_order_is_stable_per_voter_and_a_permutation() -> None:
    ids = [11, 12, 13, 14, 15, 16, 17]
    first = voter_order(ids, "some voter")
    assert first == voter_order(ids, "some voter") == voter_order(tuple(ids), "some voter")
    assert sorted(first) == ids
    assert len({voter_order(ids, f"v{n}") for n in range(50)}) > 40


@given(st.lists(st.integers(), unique=True, max_size=12), st.text(max_size=40))
def test_every_order_is_a_permutation_of_the_ids(ids: list[int], voter: str) -> None:
    order = voter_order(ids, voter)
    assert sorted(order) == sorted(ids) and order == voter_order(ids, voter)


def test_each_finalist_comes_first_equally_often() -> None:
    ids = [1, 2, 3, 4, 5]
    firsts = Counter(voter_order(ids, voter)[0] for voter in VOTERS)
    assert chi_square(firsts, ids, len(VOTERS)) < CHI2_DF4, firsts


def test_every_position_is_fair_for_every_finalist() -> None:
    ids = [1, 2, 3, 4, 5]
    orders = [voter_order(ids, voter) for voter in VOTERS]
    for position in range(len(ids)):
        seen = Counter(order[position] for order in orders)
        assert chi_square(seen, ids, len(VOTERS)) < CHI2_DF4, (position, seen)


def test_all_orders_of_three_are_equally_likely() -> None:
    ids = [7, 8, 9]
    seen = Counter(voter_order(ids, voter) for voter in VOTERS)
    orders = list(itertools.permutations(ids))
    assert chi_square(seen, orders, len(VOTERS)) < CHI2_DF5, seen


def listed_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'name="choice" value="(\d+)"', html)]


@pytest.mark.asyncio
async def test_each_phone_gets_its_own_order_and_keeps_it(
    client: httpx.AsyncClient, organiser: dict[str, str], app: Starlette
) -> None:
    poll = await open_poll(client, organiser)
    stage_order = [f["id"] for f in poll["finalists"]]
    url = path_of(poll["ballot_url"])
    tokens = services_of(app).voter_tokens
    orders = set()
    for _ in range(12):
        async with httpx.AsyncClient(transport=client._transport, base_url=BASE_URL) as phone:
            first = await phone.get(url)
            token = tokens.read(phone.cookies["live_voter"], poll["id"])
            expected = list(voter_order(stage_order, token.voter_id))
            assert listed_ids(first.text) == expected  # not another voter's cached page
            again = await phone.get(url)
            assert listed_ids(again.text) == expected
            await phone.post(url, data={"choice": str(expected[0])})
            voted = await phone.get(url)
            assert listed_ids(voted.text) == expected
            orders.add(tuple(expected))
    assert len(orders) > 1
    polls = await client.get("/api/polls/" + str(poll["id"]), headers=organiser)
    assert [f["id"] for f in polls.json()["finalists"]] == stage_order  # the stage's order
