"""Where everything the service keeps lives. One URL picks the backend.

`open_store(url)` returns a `Store` (see `base.py` for the contract): `sqlite:///PATH`
for the embedded default, `redis://` for scale-out. Backends are imported lazily.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from live.store.base import ChangeListener, Store

__all__ = ["ChangeListener", "Store", "make_store"]


def make_store(url: str) -> Store:
    """The store for `url`, not yet opened."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from live.store.sqlite import SQLiteStore

        return SQLiteStore(Path(unquote(url[len("sqlite:///") :])).resolve())
    if scheme in ("redis", "rediss", "unix"):
        from live.store.redis import RedisStore

        return RedisStore(url)
    raise ValueError(f"no store for the URL scheme {scheme!r}")
