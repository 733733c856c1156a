"""Join codes: short, easy to read aloud and type on a phone."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L: a code read off a projector across a hall must not be ambiguous.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6


def new_poll_code() -> str:
    """A random join code such as `K7QF4M`."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """What a person typed, as a code: upper case, spaces and dashes dropped."""
    return "".join(text.split()).replace("-", "").upper()
