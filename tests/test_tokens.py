"""Voter tokens: one poll, one key; anything else is refused with a clear reason."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeSerializer

from live.errors import Forbidden
from live.tokens import VoterTokens, digest, new_secret

KEY = "k" * 40


def test_an_issued_token_reads_back_for_its_poll() -> None:
    tokens = VoterTokens(KEY)
    token, cookie = tokens.issue(7)
    assert tokens.read(cookie, 7) == token
    assert token.kind == "device"


def test_two_tokens_never_share_a_voter_id() -> None:
    tokens = VoterTokens(KEY)
    assert len({tokens.issue(1)[0].voter_id for _ in range(500)}) == 500


def test_a_token_for_another_poll_is_refused() -> None:
    tokens = VoterTokens(KEY)
    _, cookie = tokens.issue(7)
    with pytest.raises(Forbidden, match="another poll"):
        tokens.read(cookie, 8)


def test_a_token_signed_with_another_key_is_refused() -> None:
    _, cookie = VoterTokens("x" * 40).issue(7)
    with pytest.raises(Forbidden, match="not valid"):
        VoterTokens(KEY).read(cookie, 7)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),  # signature changed
        lambda c: c.replace(".", "x.", 1),  # payload changed
        lambda c: "garbage",
        lambda c: "",
    ],
)
def test_a_tampered_token_is_refused(mutate: object) -> None:
    tokens = VoterTokens(KEY)
    _, cookie = tokens.issue(7)
    assert callable(mutate)
    with pytest.raises(Forbidden):
        tokens.read(mutate(cookie), 7)


def test_a_validly_signed_but_malformed_payload_is_refused() -> None:
    forged = URLSafeSerializer(KEY, salt="live.voter-token.v1").dumps({"poll": 7})
    with pytest.raises(Forbidden, match="not valid"):
        VoterTokens(KEY).read(forged, 7)


def test_a_missing_token_says_so() -> None:
    with pytest.raises(Forbidden, match="no voter token"):
        VoterTokens(KEY).read(None, 7)


def test_credentials_are_random_and_kept_only_as_digests() -> None:
    first, second = new_secret(), new_secret()
    assert first != second and len(first) >= 40
    assert digest(first) == digest(first) != digest(second)
    assert first not in digest(first)
