"""Where everything the service keeps lives. One URL picks the backend.

`make_store(url)` returns a `Store` (see `base.py` for the contract): `sqlite:///PATH`
for the embedded default, `redis://` for scale-out, `redis+sentinel://` for scale-out
that survives the loss of the Redis primary. Backends are imported lazily.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from live.store.base import ChangeListener, Store

__all__ = ["ChangeListener", "Store", "make_store"]


def make_store(url: str, *, redis_durability: str = "strict") -> Store:
    """The store for `url`, not yet opened. `redis_durability` (LIVE_REDIS_DURABILITY):
    whether a Redis that keeps less than the promise is refused (`strict`) or only
    warned about (`warn`) when the store opens."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from live.store.sqlite import SQLiteStore

        return SQLiteStore(Path(unquote(url[len("sqlite:///") :])).resolve())
    if scheme in ("redis", "rediss", "unix", "redis+sentinel"):
        from live.store.redis import RedisStore

        if redis_durability not in ("strict", "warn"):
            raise ValueError(f"no Redis durability mode {redis_durability!r}")
        return RedisStore(url, "strict" if redis_durability == "strict" else "warn")
    raise ValueError(f"no store for the URL scheme {scheme!r}")
