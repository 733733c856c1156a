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
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, TypeGuard

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from live.errors import N_, Forbidden, Gone, NotFound

_VOTER_SALT = "live.voter-token.v1"
TOKEN_KIND_DEVICE = "device"  # noqa: S105 - a kind of token, not a secret
TOKEN_KIND_BADGE = "badge"  # noqa: S105 - a kind of token, not a secret


@dataclass(frozen=True)
class VoterToken:
    """`flagged`: issued while its address took voter tokens faster than a hall does."""

    poll_id: int
    voter_id: str
    kind: str = TOKEN_KIND_DEVICE
    flagged: bool = False


class VoterTokens:
    """Issues and checks voter tokens under one secret key.

    The signed payload is `[poll id, voter id, kind, flagged]`; tokens issued before
    the flag existed carry the first three and read as not flagged."""

    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt=_VOTER_SALT)

    def issue(self, poll_id: int, flagged: bool = False) -> tuple[VoterToken, str]:
        """A fresh device token for `poll_id` and its signed cookie value; `flagged` when
        its address takes tokens faster than a hall does (`live.finale.stuffing`)."""
        token = VoterToken(poll_id, secrets.token_urlsafe(16), TOKEN_KIND_DEVICE, flagged)
        return token, self._sign(token)

    def issue_badge(self, poll_id: int, code: str) -> tuple[VoterToken, str]:
        """The token of badge `code` (as printed) in `poll_id` and its cookie value: the
        same voter id on every device, so a badge has one ballot. The caller checks the
        badge first; the store checks it again when the vote is cast."""
        from live.store.models import badge_voter_id  # the store imports this module

        token = VoterToken(poll_id, badge_voter_id(code), TOKEN_KIND_BADGE)
        return token, self._sign(token)

    def _sign(self, token: VoterToken) -> str:
        return self._serializer.dumps([token.poll_id, token.voter_id, token.kind, token.flagged])

    def read(self, value: str | None, poll_id: int) -> VoterToken:
        """The token in `value`, checked to belong to `poll_id`; Forbidden otherwise."""
        if not value:
            raise Forbidden(
                N_("Your browser sent no voter token. Open the ballot page again and vote there.")
            )
        try:
            payload = self._serializer.loads(value)
        except BadSignature:
            payload = None
        if not _is_token_payload(payload):
            raise Forbidden(
                N_("Your voter token is not valid. Open the ballot page again to get a new one.")
            )
        if payload[0] != poll_id:
            raise Forbidden(
                N_("Your voter token belongs to another poll. Open this poll's ballot page.")
            )
        flagged = len(payload) == 4 and payload[3]
        return VoterToken(payload[0], payload[1], payload[2], flagged)


def _is_token_payload(payload: object) -> TypeGuard[list[Any]]:
    return (
        isinstance(payload, list)
        and len(payload) in (3, 4)
        and type(payload[0]) is int
        and isinstance(payload[1], str)
        and payload[2] in (TOKEN_KIND_DEVICE, TOKEN_KIND_BADGE)
        and (len(payload) == 3 or type(payload[3]) is bool)
    )


# Codes people read and type: no 0/O, 1/I/L look-alikes.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BADGE_CODE_LENGTH = 10  # 31**10: 49.5 bits from a CSPRNG
RECEIPT_LENGTH = 8
_RECEIPT_SALT = b"live.receipt.v1"


def _grouped(text: str) -> str:
    half = len(text) // 2
    return f"{text[:half]}-{text[half:]}"


def new_badge_code() -> str:
    """A fresh badge code, as printed and typed: `ABCDE-FGHJK`."""
    return _grouped("".join(secrets.choice(CODE_ALPHABET) for _ in range(BADGE_CODE_LENGTH)))


def normalise_badge_code(typed: str) -> str | None:
    """The badge code in `typed` (any case, spaces or dashes anywhere) in its printed
    form, or None when it cannot be one (wrong length or a character no code has)."""
    letters = "".join(ch for ch in typed.upper() if ch not in " -\t\u00a0")
    if len(letters) != BADGE_CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in letters):
        return None
    return _grouped(letters)


def receipt_code(secret_key: str, poll_id: int, voter_id: str) -> str:
    """A voter's receipt in a poll: `ABCD-EFGH`, the same for every submission of the voter
    (so it survives a change of vote) and telling nothing about the choice. Derived by
    HMAC from the service's secret, so nobody without the key can link it to a voter."""
    mac = hmac.new(
        secret_key.encode(), _RECEIPT_SALT + f":{poll_id}:{voter_id}".encode(), hashlib.sha256
    ).digest()
    number = int.from_bytes(mac, "big")
    letters = []
    for _ in range(RECEIPT_LENGTH):
        number, index = divmod(number, len(CODE_ALPHABET))
        letters.append(CODE_ALPHABET[index])
    return _grouped("".join(letters))


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
