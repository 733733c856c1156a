"""The finale theme, kept in memory for a moment.

Every stage and ballot page, and every request for the theme's stylesheet or logo, needs
the theme; it changes once or twice a year. A copy is kept for `TTL_SECONDS`, so a change
saved through another worker shows within that time; the worker that saved it knows at
once (`remember`). Pages name the theme's version in its URLs (`/theme.css?v=N`), so a
browser never mixes a page of one version with a stylesheet cached for another.
"""

from __future__ import annotations

import time

from live.finale.theme import RECORD_KEY, RECORD_KIND, Theme
from live.store import Store

TTL_SECONDS = 2.0


class ThemeCache:
    def __init__(self, store: Store, ttl: float = TTL_SECONDS) -> None:
        self._store = store
        self._ttl = ttl
        self._entry: tuple[float, Theme | None] | None = None

    async def current(self) -> Theme | None:
        """The saved theme, at most `ttl` seconds old; None if none was ever saved."""
        now = time.monotonic()
        if self._entry is not None and now - self._entry[0] < self._ttl:
            return self._entry[1]
        record = await self._store.get_record(RECORD_KIND, RECORD_KEY)
        theme = Theme.from_record(record) if record is not None else None
        self._keep(now, theme)
        return self._entry[1] if self._entry else theme

    def remember(self, theme: Theme) -> None:
        """Keep a theme this process has just saved, so its own next page shows it."""
        self._keep(time.monotonic(), theme)

    def _keep(self, now: float, theme: Theme | None) -> None:
        # Versions only rise: a read that started before a save and ends after it must not
        # put the older theme back.
        kept = self._entry[1] if self._entry else None
        if kept is not None and (theme is None or theme.version < kept.version):
            theme = kept
        self._entry = (now, theme)
