"""An in-process ledger: for tests and single-process tools where nothing must survive a restart."""

from __future__ import annotations

import time
from collections.abc import Mapping

from consumer.ledger.base import LedgerBase, LedgerQuery
from consumer.storage import Clock, StoreUnavailable, wall_clock_ms


class MemoryLedger(LedgerBase):
    """A dict of (platform, event id) -> expiry; ``down = True`` simulates an outage."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._rows: dict[tuple[str, str], int] = {}
        self.down = False
        self.lookups = 0
        self.writes = 0

    def _check(self) -> None:
        if self.down:
            raise StoreUnavailable("memory ledger is down (simulated)")

    async def accepted_many(self, query: LedgerQuery) -> dict[str, set[str]]:
        """The live pairs among ``query``."""
        self._check()
        self.lookups += 1
        now = wall_clock_ms(self._clock)
        found: dict[str, set[str]] = {}
        for platform, ids in query.items():
            for event_id in ids:
                if self._rows.get((platform, event_id), 0) > now:
                    found.setdefault(platform, set()).add(event_id)
        return found

    async def record_many(self, accepted: LedgerQuery, ttl_s: Mapping[str, float]) -> None:
        """Store or extend each pair's expiry."""
        self._check()
        self.writes += 1
        now = wall_clock_ms(self._clock)
        for platform, ids in accepted.items():
            expiry = now + int(ttl_s[platform] * 1000)
            for event_id in ids:
                key = (platform, event_id)
                self._rows[key] = max(self._rows.get(key, 0), expiry)

    async def close(self) -> None:
        """Nothing to release."""
