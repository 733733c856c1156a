"""Who may own an idea, and where the idea goes (the call's rules).

- Owners: a municipality, a county municipality, a regional network, the college, or a
  company owned by municipalities or county municipalities (linked to its owner).
  Anyone else takes part only together with one of these as the idea owner.
- An idea goes to the regional network of its municipality; a county municipality's idea
  goes to the college. A company's idea follows its owner. Oslo is both municipality and
  county and has no county network: its ideas, and any owner we cannot place, land in the
  unrouted queue for an organiser to assign.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from live.contest.organisations import COLLEGE_ID, Directory, NetworkKind

OSLO_MUNICIPALITY = "0301"
OSLO_COUNTY = "03"


class OwnerKind(StrEnum):
    MUNICIPALITY = "municipality"
    COUNTY_MUNICIPALITY = "county_municipality"
    NETWORK = "network"
    COLLEGE = "college"
    MUNICIPAL_COMPANY = "municipal_company"
    COUNTY_COMPANY = "county_company"


@dataclass(frozen=True)
class IdeaOwner:
    """An idea owner. `ref` is a municipality number, a county number or a network id;
    for a company, the number of the municipality or county that owns it."""

    kind: OwnerKind
    ref: str
    company_name: str = ""


class Ineligible(ValueError):
    """The owner may not own an idea; the message says why in plain words."""


@dataclass(frozen=True)
class Routing:
    network_id: str | None  # None: the unrouted queue
    reason: str


def check_owner(owner: IdeaOwner, directory: Directory) -> None:
    """Raise Ineligible unless the owner is one the call allows."""
    kind = owner.kind
    if kind in (OwnerKind.MUNICIPALITY, OwnerKind.MUNICIPAL_COMPANY):
        if owner.ref not in directory.municipalities:
            raise Ineligible(f"{owner.ref!r} is not a municipality number")
    elif kind in (OwnerKind.COUNTY_MUNICIPALITY, OwnerKind.COUNTY_COMPANY):
        if owner.ref not in directory.counties:
            raise Ineligible(f"{owner.ref!r} is not a county number")
    elif kind is OwnerKind.NETWORK:
        network = directory.networks.get(owner.ref)
        if network is None or network.kind is not NetworkKind.REGIONAL:
            raise Ineligible(f"{owner.ref!r} is not a regional digitalisation network")
    elif kind is OwnerKind.COLLEGE and owner.ref != COLLEGE_ID:
        raise Ineligible(f"the college is {COLLEGE_ID!r}, not {owner.ref!r}")
    is_company = kind in (OwnerKind.MUNICIPAL_COMPANY, OwnerKind.COUNTY_COMPANY)
    if is_company and not owner.company_name.strip():
        raise Ineligible("a company needs its name beside its owner")


def route(owner: IdeaOwner, directory: Directory) -> Routing:
    """The network (or the college) that receives an idea from `owner`."""
    try:
        check_owner(owner, directory)
    except Ineligible as problem:
        return Routing(None, f"unknown owner: {problem}")
    kind = owner.kind
    if kind in (OwnerKind.COLLEGE, OwnerKind.NETWORK):
        return Routing(owner.ref, "a network's own idea stays with it")
    if kind in (OwnerKind.COUNTY_MUNICIPALITY, OwnerKind.COUNTY_COMPANY):
        if owner.ref == OSLO_COUNTY:
            return Routing(None, "Oslo has no county network: an organiser assigns it")
        return Routing(COLLEGE_ID, "county municipalities' ideas go to the college")
    municipality = directory.municipalities[owner.ref]
    if municipality.number == OSLO_MUNICIPALITY or municipality.network_id is None:
        return Routing(None, f"{municipality.name} has no county network: an organiser assigns it")
    return Routing(municipality.network_id, f"{municipality.name} is in {municipality.county_name}")
