"""Settings, read once from `LIVE_*` environment variables (then `.env`, then defaults).

Every setting is documented in README.md; `tests/test_config.py` fails when one is not.
A bad value stops start-up with the key's name and the offending value in the message.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from starlette.config import Config

SETTING_KEYS = (
    "LIVE_DATA_DIR",
    "LIVE_STORE_URL",
    "REDIS_URL",
    "LIVE_REDIS_DURABILITY",
    "LIVE_SECRET_KEY",
    "LIVE_PUBLIC_URL",
    "LIVE_UPDATE_INTERVAL",
    "LIVE_LOG_LEVEL",
    "LIVE_LOG_FORMAT",
    "LIVE_METRICS_TOKEN",
    "LIVE_SMTP_URL",
    "LIVE_MAIL_FROM",
    "LIVE_ALLOWED_HOSTS",
    "LIVE_TOKEN_ALERT_PER_MINUTE",
    "LIVE_TOKEN_CEILING_PER_MINUTE",
)


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the key and the value."""


class Secret:
    """A string that never shows itself in a repr, a log line or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    store_url: str
    secret_key: Secret
    public_url: str | None
    update_interval: float
    log_level: str
    smtp_url: Secret | None = None  # invitations are also mailed when set
    mail_from: str = "idekonkurranse@localhost"
    # `strict`: a Redis that keeps less than an acknowledged vote needs is refused at
    # start-up; `warn`: it is logged loudly and used.
    redis_durability: str = "strict"
    log_format: str = "text"  # or "json": one object a line
    metrics_token: Secret | None = None  # /metrics wants it when set, else loopback only
    # Host headers answered (`.example.no`: it and its subdomains; `*`: any); the rest get
    # 400, so that no link or QR code is built from a foreign Host header.
    allowed_hosts: tuple[str, ...] = LOOPBACK_NAMES
    allow_own_addresses: bool = False  # also the machine's own names and IP addresses
    # New voter tokens per poll per client address per minute: above the alert rate the
    # console is alerted and the tokens are flagged; above the ceiling none is issued.
    # Never a limit on votes: a hall of phones shares one NAT address.
    token_alert_per_minute: int = 300
    token_ceiling_per_minute: int = 6000

    @property
    def is_https(self) -> bool:
        return (self.public_url or "").startswith("https:")

    @property
    def is_sqlite(self) -> bool:
        return self.store_url.startswith("sqlite:")


_LOG_LEVELS = ("debug", "info", "warning", "error")
_REDIS_DURABILITY = ("strict", "warn")
_LOG_FORMATS = ("text", "json")
_HOST_NAME = re.compile(r"\.?[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?")


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> Settings:
    """Read the settings once. `environ` defaults to the process environment."""
    env = dict(os.environ if environ is None else environ)
    if env_file is None and environ is None:
        candidate = Path.cwd() / ".env"
        env_file = candidate if candidate.is_file() else None
    config = Config(env_file=env_file, environ=env)

    data_dir = Path(config("LIVE_DATA_DIR", default="var")).expanduser().resolve()
    store_url = config("LIVE_STORE_URL", default="") or config("REDIS_URL", default="")
    if not store_url:
        store_url = f"sqlite:///{data_dir / 'live.sqlite3'}"
    _check_store_url(store_url)
    redis_durability = config("LIVE_REDIS_DURABILITY", default="strict").lower()
    if redis_durability not in _REDIS_DURABILITY:
        raise SettingsError(
            f"LIVE_REDIS_DURABILITY must be one of {_REDIS_DURABILITY}, got {redis_durability!r}"
        )

    public_url = config("LIVE_PUBLIC_URL", default="") or None
    if public_url is not None:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(
                f"LIVE_PUBLIC_URL must be an absolute http(s) URL, got {public_url!r}"
            )
        public_url = public_url.rstrip("/")

    raw_interval = config("LIVE_UPDATE_INTERVAL", default="0.1")
    try:
        update_interval = float(raw_interval)
    except ValueError:
        update_interval = -1.0
    if not 0.02 <= update_interval <= 5:
        raise SettingsError(
            f"LIVE_UPDATE_INTERVAL must be seconds between 0.02 and 5, got {raw_interval!r}"
        )

    log_level = config("LIVE_LOG_LEVEL", default="info").lower()
    if log_level not in _LOG_LEVELS:
        raise SettingsError(f"LIVE_LOG_LEVEL must be one of {_LOG_LEVELS}, got {log_level!r}")
    log_format = config("LIVE_LOG_FORMAT", default="text").lower()
    if log_format not in _LOG_FORMATS:
        raise SettingsError(f"LIVE_LOG_FORMAT must be one of {_LOG_FORMATS}, got {log_format!r}")
    metrics_token = config("LIVE_METRICS_TOKEN", default="") or None
    if metrics_token is not None and len(metrics_token) < 16:
        raise SettingsError("LIVE_METRICS_TOKEN must be at least 16 characters long")

    smtp_url = config("LIVE_SMTP_URL", default="") or None
    if smtp_url is not None:
        parts = urlsplit(smtp_url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            shown = parts._replace(netloc=parts.hostname or "").geturl()  # no password
            raise SettingsError(
                f"LIVE_SMTP_URL must be smtp://[user:password@]host[:port] or smtps://…, "
                f"got {shown!r}"
            )
    mail_from = config("LIVE_MAIL_FROM", default="idekonkurranse@localhost")
    if "@" not in mail_from:
        raise SettingsError(f"LIVE_MAIL_FROM must be an e-mail address, got {mail_from!r}")

    allowed_hosts, allow_own_addresses = _allowed_hosts(
        config("LIVE_ALLOWED_HOSTS", default=""), public_url
    )

    token_alert = _whole_number(config, "LIVE_TOKEN_ALERT_PER_MINUTE", 300)
    token_ceiling = _whole_number(config, "LIVE_TOKEN_CEILING_PER_MINUTE", 6000)
    if token_ceiling < token_alert:
        raise SettingsError(
            f"LIVE_TOKEN_CEILING_PER_MINUTE must be at least LIVE_TOKEN_ALERT_PER_MINUTE "
            f"({token_alert}), got {token_ceiling}"
        )

    raw_key = config("LIVE_SECRET_KEY", default="")
    if raw_key and len(raw_key) < 32:
        raise SettingsError("LIVE_SECRET_KEY must be at least 32 characters long")
    secret_key = Secret(raw_key or _persistent_secret(data_dir))

    return Settings(
        data_dir=data_dir,
        store_url=store_url,
        secret_key=secret_key,
        public_url=public_url,
        update_interval=update_interval,
        log_level=log_level,
        smtp_url=Secret(smtp_url) if smtp_url else None,
        mail_from=mail_from,
        redis_durability=redis_durability,
        log_format=log_format,
        metrics_token=Secret(metrics_token) if metrics_token else None,
        allowed_hosts=allowed_hosts,
        allow_own_addresses=allow_own_addresses,
        token_alert_per_minute=token_alert,
        token_ceiling_per_minute=token_ceiling,
    )


def _whole_number(config: Config, key: str, default: int) -> int:
    raw = config(key, default=str(default)).strip()
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 10_000_000:
        raise SettingsError(f"{key} must be a whole number from 1 to 10000000, got {raw!r}")
    return int(raw)


def _allowed_hosts(raw: str, public_url: str | None) -> tuple[tuple[str, ...], bool]:
    """The Host names answered, and whether the machine's own addresses are answered too.

    LIVE_ALLOWED_HOSTS, when set, is the list (with the host of LIVE_PUBLIC_URL). Unset:
    the host of LIVE_PUBLIC_URL, and this machine's own names and addresses (loopback for
    health checks, the LAN address a hall's phones use without a public URL). Links come
    from LIVE_PUBLIC_URL when it is set, and otherwise only from these names."""
    explicit: list[str] = []
    for item in raw.split(","):
        name = item.strip().lower()
        if not name:
            continue
        bare = name.removeprefix("[").removesuffix("]")
        if name != "*" and not _is_ip(bare) and not _HOST_NAME.fullmatch(name):
            raise SettingsError(
                f"LIVE_ALLOWED_HOSTS must be host names or addresses separated by commas "
                f"(no scheme, port or path), got {item.strip()!r}"
            )
        explicit.append(name if name == "*" else bare.rstrip("."))
    public_host = [(urlsplit(public_url).hostname or "").lower()] if public_url else []
    if explicit:
        return tuple(dict.fromkeys([*explicit, *public_host])), False
    hostname = socket.gethostname().lower()
    own = [*LOOPBACK_NAMES, hostname, f"{hostname}.local"]
    return tuple(dict.fromkeys([*public_host, *own])), True


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _check_store_url(url: str) -> None:
    scheme = urlsplit(url).scheme
    if scheme not in ("sqlite", "redis", "rediss", "unix", "redis+sentinel"):
        raise SettingsError(
            f"LIVE_STORE_URL must start with sqlite:///, redis:// or redis+sentinel://, got {url!r}"
        )
    if scheme == "redis+sentinel":
        from live.store._redis_sentinel import parse_sentinel_url

        try:
            parse_sentinel_url(url)
        except ValueError as error:
            shown = urlsplit(url)._replace(netloc=urlsplit(url).netloc.rpartition("@")[2])
            raise SettingsError(
                f"LIVE_STORE_URL must be redis+sentinel://HOST:PORT[,HOST:PORT…]/SERVICE[/DB] "
                f"({error}), got {shown.geturl()!r}"
            ) from None
    if scheme == "sqlite" and not url.startswith("sqlite:///"):
        raise SettingsError(f"LIVE_STORE_URL for SQLite must be sqlite:///PATH, got {url!r}")


def _persistent_secret(data_dir: Path) -> str:
    """The generated key, kept in the data dir so that tokens survive restarts."""
    path = data_dir / "secret_key"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"LIVE_DATA_DIR {str(data_dir)!r} cannot be created: {exc}") from exc
    if not path.exists():
        # Write aside, then link into place: when several workers start at once,
        # exactly one key wins and nobody ever reads a half-written file.
        tmp = data_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = path.read_text().strip()
    if len(key) < 32:
        raise SettingsError(f"the secret key file {str(path)!r} is empty or too short")
    return key
