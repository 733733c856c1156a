"""Voter tokens and opaque credentials.

A `VoterToken` is issued on a voter's first visit to a ballot and kept in a cookie.
It is signed with the service's secret key (itsdangerous, HMAC-SHA256), names the poll
it belongs to and carries a random voter id; the store keeps one ballot per
(poll, voter id). It holds nothing secret and no personal data. A token that was
tampered with, signed with another key or issued for another poll is rejected.

Opaque credentials (session cookies, API bearer tokens, invitation secrets) are random
strings; the store keeps only their SHA-256 digest, so a leaked database grants nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from live.errors import N_, Forbidden, Gone, NotFound

_VOTER_SALT = "live.voter-token.v1"
TOKEN_KIND_DEVICE = "device"  # noqa: S105 - a kind of token, not a secret


@dataclass(frozen=True)
class VoterToken:
    poll_id: int
    voter_id: str
    kind: str = TOKEN_KIND_DEVICE


class VoterTokens:
    """Issues and checks voter tokens under one secret key."""

    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt=_VOTER_SALT)

    def issue(self, poll_id: int) -> tuple[VoterToken, str]:
        """A fresh token for `poll_id` and its signed cookie value."""
        token = VoterToken(poll_id=poll_id, voter_id=secrets.token_urlsafe(16))
        return token, self._serializer.dumps([token.poll_id, token.voter_id, token.kind])

    def read(self, value: str | None, poll_id: int) -> VoterToken:
        """The token in `value`, checked to belong to `poll_id`; Forbidden otherwise."""
        if not value:
            raise Forbidden(
                N_("Your browser sent no voter token. Open the ballot page again and vote there.")
            )
        try:
            payload = self._serializer.loads(value)
        except BadSignature:
            raise Forbidden(
                N_("Your voter token is not valid. Open the ballot page again to get a new one.")
            ) from None
        if (
            not isinstance(payload, list)
            or len(payload) != 3
            or not isinstance(payload[0], int)
            or not isinstance(payload[1], str)
            or not isinstance(payload[2], str)
        ):
            raise Forbidden(
                N_("Your voter token is not valid. Open the ballot page again to get a new one.")
            )
        if payload[0] != poll_id:
            raise Forbidden(
                N_("Your voter token belongs to another poll. Open this poll's ballot page.")
            )
        return VoterToken(poll_id=payload[0], voter_id=payload[1], kind=payload[2])


def new_secret() -> str:
    """A random credential for a session, an API token or an invitation."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What the store keeps of a credential: its SHA-256 digest, hex encoded."""
    return hashlib.sha256(secret.encode()).hexdigest()


_IDEA_SALT = "live.idea-link.v1"
_INVITATION_SALT = "live.invitation.v1"
INVITATION_SECONDS = 7 * 24 * 3600


class ContestLinks:
    """Signed private links: an idea's edit link and an invitation to set a password.

    An idea link names the idea and a random nonce kept on the idea, so a link that
    leaked can be replaced. An invitation link expires after `INVITATION_SECONDS` and
    is good once: the invitation record says when it was used.
    """

    def __init__(self, secret_key: str) -> None:
        self._ideas = URLSafeSerializer(secret_key, salt=_IDEA_SALT)
        self._invitations = URLSafeTimedSerializer(secret_key, salt=_INVITATION_SALT)

    def idea_link(self, idea_id: int, nonce: str) -> str:
        return self._ideas.dumps([idea_id, nonce])

    def read_idea_link(self, value: str) -> tuple[int, str]:
        """(idea id, nonce) from a link; NotFound for anything forged or malformed."""
        try:
            payload = self._ideas.loads(value)
        except BadSignature:
            payload = None
        if (not isinstance(payload, list) or len(payload) != 2
                or not isinstance(payload[0], int) or not isinstance(payload[1], str)):  # fmt: skip
            raise NotFound(N_("This link to an idea is not valid. Check that it is complete."))
        return payload[0], payload[1]

    def invitation(self, invitation_id: str) -> str:
        return self._invitations.dumps(invitation_id)

    def read_invitation(self, value: str, max_age: int = INVITATION_SECONDS) -> str:
        """The invitation id; Gone when expired, NotFound when forged."""
        try:
            payload = self._invitations.loads(value, max_age=max_age)
        except SignatureExpired:
            raise Gone(
                N_("This invitation has expired. Ask the organisers for a new one.")
            ) from None
        except BadSignature:
            payload = None
        if not isinstance(payload, str):
            raise NotFound(N_("This invitation link is not valid. Check that it is complete."))
        return payload
