"""Voter tokens: one poll, one key; anything else is refused with a clear reason."""

from __future__ import annotations

import pytest
from itsdangerous import TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer

from live.errors import Forbidden, Gone, NotFound
from live.tokens import INVITATION_SECONDS, ContestLinks, VoterTokens, digest, new_secret

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


def test_a_flagged_token_keeps_its_flag() -> None:
    tokens = VoterTokens(KEY)
    token, cookie = tokens.issue(7, flagged=True)
    assert token.flagged and tokens.read(cookie, 7).flagged
    assert not tokens.read(tokens.issue(7)[1], 7).flagged


def test_a_token_from_before_the_flag_still_reads() -> None:
    old = URLSafeSerializer(KEY, salt="live.voter-token.v1").dumps([7, "abc", "device"])
    token = VoterTokens(KEY).read(old, 7)
    assert (token.voter_id, token.kind, token.flagged) == ("abc", "device", False)


def test_a_badge_token_is_the_badge_on_every_device() -> None:
    tokens = VoterTokens(KEY)
    first, cookie = tokens.issue_badge(7, "ABCDE-FGHJK")
    second, _ = tokens.issue_badge(7, "ABCDE-FGHJK")
    assert first == second == tokens.read(cookie, 7)
    assert first.voter_id == "badge:ABCDE-FGHJK" and first.kind == "badge"
    with pytest.raises(Forbidden, match="another poll"):
        tokens.read(cookie, 8)


@pytest.mark.parametrize(
    "payload",
    [
        [7, "abc", "admin"],  # no such kind
        [7, "abc", "device", "yes"],  # a flag that is not true/false
        [True, "abc", "device"],  # a poll id that is not a number
        [7, "abc", "device", False, "more"],
    ],
)
def test_a_signed_payload_of_the_wrong_shape_is_refused(payload: list[object]) -> None:
    forged = URLSafeSerializer(KEY, salt="live.voter-token.v1").dumps(payload)
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


def tamper(signed: str) -> str:
    return signed[:-2] + ("BB" if signed.endswith("AA") else "AA")


def test_an_idea_link_reads_back() -> None:
    links = ContestLinks(KEY)
    link = links.idea_link(12, "nonce-abc")
    assert links.read_idea_link(link) == (12, "nonce-abc")
    assert links.idea_link(13, "nonce-abc") != link
    assert "/" not in link and "?" not in link  # it goes in a URL path


@pytest.mark.parametrize(
    "link",
    [
        ContestLinks("x" * 40).idea_link(12, "nonce"),  # another key
        tamper(ContestLinks(KEY).idea_link(12, "nonce")),  # signature changed
        ContestLinks(KEY).idea_link(12, "nonce").replace(".", "x.", 1),  # payload changed
        URLSafeSerializer(KEY, salt="live.idea-link.v1").dumps({"idea": 12}),
        URLSafeSerializer(KEY, salt="live.idea-link.v1").dumps(["12", "nonce"]),
        URLSafeSerializer(KEY, salt="live.idea-link.v1").dumps([12, "nonce", "x"]),
        URLSafeSerializer(KEY, salt="live.voter-token.v1").dumps([12, "nonce"]),  # other salt
        ContestLinks(KEY).invitation("12"),
        "garbage",
        "",
        "æøå.ÆØÅ",
    ],
)
def test_a_forged_or_malformed_idea_link_is_not_found(link: str) -> None:
    with pytest.raises(NotFound, match="link to an idea"):
        ContestLinks(KEY).read_idea_link(link)


def test_an_invitation_reads_back() -> None:
    links = ContestLinks(KEY)
    assert links.read_invitation(links.invitation("inv-7")) == "inv-7"


def test_an_invitation_expires_after_a_week(monkeypatch: pytest.MonkeyPatch) -> None:
    links = ContestLinks(KEY)
    issued_at = 1_650_000_000
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: issued_at)
    link = links.invitation("inv-7")
    forged = ContestLinks("x" * 40).invitation("inv-7")
    monkeypatch.setattr(
        TimestampSigner, "get_timestamp", lambda self: issued_at + INVITATION_SECONDS
    )
    assert links.read_invitation(link) == "inv-7"
    monkeypatch.setattr(
        TimestampSigner, "get_timestamp", lambda self: issued_at + INVITATION_SECONDS + 1
    )
    with pytest.raises(Gone, match="expired"):
        links.read_invitation(link)
    with pytest.raises(Gone):
        links.read_invitation(link, max_age=0)
    with pytest.raises(NotFound):  # an old forgery is a forgery, not an expired invitation
        links.read_invitation(forged)
    assert links.read_invitation(link, max_age=INVITATION_SECONDS + 1) == "inv-7"


@pytest.mark.parametrize(
    "link",
    [
        ContestLinks("x" * 40).invitation("inv-7"),
        tamper(ContestLinks(KEY).invitation("inv-7")),
        URLSafeTimedSerializer(KEY, salt="live.invitation.v1").dumps(["inv-7"]),
        ContestLinks(KEY).idea_link(7, "inv-7"),
        "garbage",
        "",
    ],
)
def test_a_forged_invitation_is_not_found(link: str) -> None:
    with pytest.raises(NotFound, match="invitation link"):
        ContestLinks(KEY).read_invitation(link)
