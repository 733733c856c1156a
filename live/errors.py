"""Errors are values with an HTTP status.

    LiveError                  500, never raised on purpose
    ├── BadRequest             400  the input is malformed or breaks a rule
    ├── Unauthorized           401  no or bad credentials (API)
    ├── Forbidden              403  credentials fine, not allowed (or a bad voter token)
    ├── NotFound               404
    ├── Conflict               409  the request clashes with the current state
    ├── Gone                   410  it existed but is used up or expired (an invitation)
    ├── PayloadTooLarge        413
    ├── TooManyRequests        429  an abuse limit: wait `retry_after` seconds
    └── Unavailable            503  a backing service is down; try again

`message` is an English msgid marked with `N_` so that the catalogue picks it up; it is
translated into the user's language where the error is rendered, with `params` filled in.
"""

from __future__ import annotations

from typing import Any, ClassVar


def N_(message: str) -> str:
    """Mark a string for the catalogue without translating it now."""
    return message


class LiveError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, field: str | None = None, **params: Any) -> None:
        if field is not None:
            params = {"field": field, **params}  # so a message can name its field
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params
        self.field = field


class BadRequest(LiveError):
    status = 400
    code = "bad_request"


class Unauthorized(LiveError):
    status = 401
    code = "unauthorized"


class Forbidden(LiveError):
    status = 403
    code = "forbidden"


class NotFound(LiveError):
    status = 404
    code = "not_found"


class Conflict(LiveError):
    status = 409
    code = "conflict"


class Gone(LiveError):
    status = 410
    code = "gone"


class PayloadTooLarge(LiveError):
    status = 413
    code = "payload_too_large"


class TooManyRequests(LiveError):
    """An abuse limit was reached; the answer carries `Retry-After: retry_after`."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: float, **params: Any) -> None:
        self.retry_after = max(1, int(-(-retry_after // 1)))  # whole seconds, rounded up
        super().__init__(message, minutes=-(-self.retry_after // 60), **params)


class Unavailable(LiveError):
    status = 503
    code = "unavailable"
