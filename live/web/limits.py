"""Abuse limits that spare a hall.

A hall of 2,000 phones reaches us from one NAT address, so nothing a voter does is
limited per address. What is: logins, per account (attempts, forgotten when one
succeeds) and per address only as a generous ceiling; saves of the public idea form and
uses of invitation links, per address and generously. Each limit is a fixed window
counted in the store (`Store.hit`), so it holds across workers and hosts. Over a limit,
the answer is 429 with `Retry-After` and a message that says how long to wait.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from live.errors import N_, TooManyRequests
from live.store import Store


@dataclass(frozen=True)
class Limit:
    """At most `limit` hits per `window_seconds`, counted per subject (an account, an
    address); `message` says what was refused and takes `%(minutes)s`."""

    name: str
    limit: int
    window_seconds: int
    message: str


LOGIN_PER_ACCOUNT = Limit(
    "login-account",
    10,
    15 * 60,
    N_("Too many login attempts for this account. Wait %(minutes)s min and try again."),
)
LOGIN_PER_ADDRESS = Limit(
    "login-address",
    100,
    15 * 60,
    N_("Too many login attempts from your network. Wait %(minutes)s min and try again."),
)
IDEA_SAVES_PER_ADDRESS = Limit(
    "idea-address",
    120,
    10 * 60,
    N_(
        "Too many ideas saved from your network just now. Wait %(minutes)s min and save "
        "again; what you wrote is still in the form."
    ),
)
INVITATIONS_PER_ADDRESS = Limit(
    "invitation-address",
    60,
    15 * 60,
    N_("Too many uses of invitation links from your network. Wait %(minutes)s min and try again."),
)


def address_of(connection: HTTPConnection) -> str:
    """The caller's address as limits count it: an IPv6 caller by its /64 network (one
    household or phone holds a whole /64), an IPv4 caller by its address."""
    return _counted_address(connection.client.host if connection.client else "")


@functools.lru_cache(maxsize=4096)  # a hall's phones ask again and again from few addresses
def _counted_address(host: str) -> str:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def account_subject(email: str) -> str:
    """An account as limits count it: its e-mail address in any case, as a digest (so
    the counters hold no address, and any length of input makes a short key)."""
    return hashlib.sha256(email.strip().casefold().encode()).hexdigest()[:32]


def _key(limit: Limit, subject: str) -> str:
    return f"{limit.name}:{subject}"


async def check(store: Store, limit: Limit, subject: str, cost: int = 1) -> None:
    """Count `cost` hits for `subject` (0: only look); TooManyRequests when over the limit."""
    wait = await store.hit(_key(limit, subject), limit.window_seconds, limit.limit, cost)
    if wait is not None:
        raise TooManyRequests(limit.message, wait)


async def forget(store: Store, limit: Limit, subject: str) -> None:
    """Drop the hits counted for `subject` (a login that succeeded, a password reset)."""
    await store.clear_hits(_key(limit, subject))
