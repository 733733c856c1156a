"""Eligibility and routing rules from the call, on the shipped 2022 facts."""

from __future__ import annotations

import pytest

from live.contest.nominations import MAX_NOMINATIONS, places_left
from live.contest.organisations import (
    COLLEGE_ID,
    CsvError,
    Directory,
    parse_municipalities,
    parse_networks,
)
from live.contest.routing import IdeaOwner, Ineligible, OwnerKind, check_owner, route

DIRECTORY = Directory.shipped()


def test_the_shipped_facts_are_complete() -> None:
    assert len(DIRECTORY.municipalities) == 356
    assert len([n for n in DIRECTORY.networks.values() if n.kind == "regional"]) == 10
    assert COLLEGE_ID in DIRECTORY.networks
    assert len(DIRECTORY.counties) == 11  # ten counties and Oslo
    assert DIRECTORY.municipalities["1103"].network_id == "digi-rogaland"
    assert DIRECTORY.municipalities["0301"].network_id is None


@pytest.mark.parametrize(
    ("owner", "network"),
    [
        (IdeaOwner(OwnerKind.MUNICIPALITY, "1103"), "digi-rogaland"),  # Stavanger
        (IdeaOwner(OwnerKind.MUNICIPALITY, "1826"), "diginordland"),  # Hattfjelldal
        (IdeaOwner(OwnerKind.COUNTY_MUNICIPALITY, "46"), COLLEGE_ID),  # Vestland county
        (IdeaOwner(OwnerKind.MUNICIPAL_COMPANY, "1103", "Stavanger IKT AS"), "digi-rogaland"),
        (IdeaOwner(OwnerKind.COUNTY_COMPANY, "50", "Fylkesbuss AS"), COLLEGE_ID),
        (IdeaOwner(OwnerKind.NETWORK, "digivestland"), "digivestland"),
        (IdeaOwner(OwnerKind.COLLEGE, COLLEGE_ID), COLLEGE_ID),
    ],
)
def test_ideas_go_where_the_call_says(owner: IdeaOwner, network: str) -> None:
    check_owner(owner, DIRECTORY)
    assert route(owner, DIRECTORY).network_id == network


@pytest.mark.parametrize(
    "owner",
    [
        IdeaOwner(OwnerKind.MUNICIPALITY, "0301"),
        IdeaOwner(OwnerKind.COUNTY_MUNICIPALITY, "03"),
        IdeaOwner(OwnerKind.MUNICIPAL_COMPANY, "0301", "Oslo kommunale selskap AS"),
    ],
)
def test_oslo_lands_in_the_unrouted_queue(owner: IdeaOwner) -> None:
    routing = route(owner, DIRECTORY)
    assert routing.network_id is None and "Oslo" in routing.reason


@pytest.mark.parametrize(
    ("owner", "problem"),
    [
        (IdeaOwner(OwnerKind.MUNICIPALITY, "9999"), "not a municipality"),
        (IdeaOwner(OwnerKind.COUNTY_MUNICIPALITY, "99"), "not a county"),
        (IdeaOwner(OwnerKind.NETWORK, COLLEGE_ID), "not a regional"),
        (IdeaOwner(OwnerKind.NETWORK, "digi-nowhere"), "not a regional"),
        (IdeaOwner(OwnerKind.COLLEGE, "digiviken"), "the college is"),
        (IdeaOwner(OwnerKind.MUNICIPAL_COMPANY, "1103", " "), "company needs its name"),
    ],
)
def test_ineligible_owners_are_refused_and_unrouted(owner: IdeaOwner, problem: str) -> None:
    with pytest.raises(Ineligible, match=problem):
        check_owner(owner, DIRECTORY)
    assert route(owner, DIRECTORY).network_id is None


def test_search_finds_by_number_and_by_any_official_name() -> None:
    assert [m.number for m in DIRECTORY.search("1103")] == ["1103"]
    assert DIRECTORY.search("stav")[0].name == "Stavanger"
    assert DIRECTORY.search("Fuossko")[0].name == "Fauske"  # the Sami name
    assert DIRECTORY.search("") == []
    assert len(DIRECTORY.search("a", limit=5)) == 5


def test_imports_name_the_bad_line() -> None:
    header = (
        "municipality_number,name,all_official_names,county_number,county_name,"
        "network_id,sami_administrative_area\n"
    )
    with pytest.raises(CsvError, match="line 3: municipality_number"):
        parse_municipalities(
            header + "1103,Stavanger,,11,Rogaland,digi-rogaland,no\n"
            "11x3,Bad,,11,Rogaland,digi-rogaland,no\n"
        )
    with pytest.raises(CsvError, match="missing columns"):
        parse_municipalities("number,name\n1103,Stavanger\n")
    with pytest.raises(CsvError, match="line 2: kind"):
        parse_networks("network_id,name,kind,county_numbers\nx,X,county,11\n")
    with pytest.raises(CsvError, match="unknown networks"):
        Directory(parse_municipalities(header + "1103,Stavanger,,11,Rogaland,nope,no\n"), [])


def test_a_network_nominates_at_most_three() -> None:
    assert MAX_NOMINATIONS == 3
    assert [places_left(n) for n in range(5)] == [3, 2, 1, 0, 0]
