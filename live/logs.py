"""Log lines: plain text, or one JSON object a line (`LIVE_LOG_FORMAT=json`); never a secret.

One configuration serves `live serve` (uvicorn's own loggers included: its access log
and errors) and the other `live` commands. `Redact` masks, in every record that reaches
a handler: bearer tokens; Authorization and Cookie headers; the values of our cookies;
password, token, CSRF and choice fields in forms, query strings and JSON; and the
secret part of invitation and idea links (`/invitasjon/…`, `/ideer/lenke/…`). The app
never logs a request body, hence no voter's choice; `choice=` is masked anyway, should a
library ever log a form.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
from datetime import UTC, datetime
from typing import Any

from live.config import Settings

MASK = "[redacted]"
# The names of fields that hold secrets (not a secret: hence the noqa).
_SECRET_NAMES = r"(?:password|passwd|secret|token|csrf|choice|api[_-]?key|authorization|cookie)"  # noqa: S105
_JSON_VALUE = r"""(?:'[^']*'|"[^"]*"|\[[^\]]*\]|[^,}\s]+)"""  # a string, a list, a scalar
_PATTERNS = [
    (re.compile(r"(?i)(\bbearer\s+)[^\s'\",;]+"), rf"\1{MASK}"),
    (re.compile(r"(?i)(\b(?:authorization|cookie|set-cookie)\s*:\s*)[^\r\n'\"]+"), rf"\1{MASK}"),
    (re.compile(r"(\blive_[a-z_]+=)[^;\s&'\"]+"), rf"\1{MASK}"),  # our cookies
    (re.compile(rf"(?i)(\b\w*{_SECRET_NAMES}\w*=)[^&\s'\";]+"), rf"\1{MASK}"),  # forms, queries
    (
        re.compile(rf"(?i)(['\"]\w*{_SECRET_NAMES}\w*['\"]\s*:\s*){_JSON_VALUE}"),
        rf"\1'{MASK}'",
    ),  # JSON and reprs of dicts
    (re.compile(r"(/(?:invitasjon|ideer/lenke)/)[^/\s?#'\"]+"), rf"\1{MASK}"),  # secret links
]
_ACCESS_FIELDS = ("client", "method", "path", "http", "status")


def redact(text: str) -> str:
    """`text` with every secret we know the shape of masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class Redact(logging.Filter):
    """Masks secrets in a record's message, arguments and traceback before any handler
    formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _is_access(record):  # keep the shape: the JSON formatter reads its fields
            assert isinstance(record.args, tuple)
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        else:
            record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _is_access(record: logging.LogRecord) -> bool:
    return (
        record.name == "uvicorn.access"
        and isinstance(record.args, tuple)
        and (len(record.args) == len(_ACCESS_FIELDS))
    )


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, pid; a request's
    client, method, path, http version and status; `exc` with a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        if _is_access(record):
            assert isinstance(record.args, tuple)
            entry.update(zip(_ACCESS_FIELDS, record.args, strict=True))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def config_dict(settings: Settings) -> dict[str, Any]:
    """A `logging.config.dictConfig` configuration; also uvicorn's `log_config`."""
    level = settings.log_level.upper()
    formatter: dict[str, Any] = (
        {"()": "live.logs.JsonFormatter"}
        if settings.log_format == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    handler = {"handlers": ["stderr"], "level": level, "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "live.logs.Redact"}},
        "formatters": {"live": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "live",
                "filters": ["redact"],
            }
        },
        "loggers": {"uvicorn": handler, "uvicorn.access": handler},
        "root": {"handlers": ["stderr"], "level": level},
    }


def configure(settings: Settings) -> None:
    """Set up logging for this process as `settings` say."""
    logging.config.dictConfig(config_dict(settings))
