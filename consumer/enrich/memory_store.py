"""An in-process click-ID store with the same semantics as the real backends.

Used by unit and property tests (and by other packages' tests and the demo) where a file or a
Redis server would only add noise. ``fail`` simulates an outage.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from consumer.enrich.model import StoredCapture
from consumer.enrich.store import CaptureRecord, Clock, StoreUnavailable, wall_clock_ms
from consumer.enrich.ttl import TtlPolicy


class InMemoryClickIdStore:
    """Dict-backed :class:`~consumer.enrich.store.ClickIdStore`; not shared between processes."""

    def __init__(self, ttl: TtlPolicy | None = None, *, clock: Clock = time.time) -> None:
        """Keep entries with their retention deadline computed from ``ttl``."""
        self._ttl = ttl or TtlPolicy()
        self._clock = clock
        self._data: dict[str, tuple[int, StoredCapture]] = {}
        self.fail = False
        self.lookup_calls = 0

    def _check(self) -> None:
        if self.fail:
            raise StoreUnavailable("in-memory store set to fail")

    async def upsert_many(self, records: Sequence[CaptureRecord]) -> None:
        """Store each capture under each key unless a newer capture is already there."""
        self._check()
        for keys, capture in records:
            expiry = self._ttl.record_expiry_ms(capture.capture_time_ms, capture.click_ids)
            for key in keys:
                current = self._data.get(key)
                if current is None or not current[1].is_newer_than(capture):
                    self._data[key] = (expiry, capture)

    async def lookup_many(self, keys: Sequence[str]) -> dict[str, StoredCapture]:
        """Live captures for the given keys."""
        self._check()
        self.lookup_calls += 1
        now = wall_clock_ms(self._clock)
        found: dict[str, StoredCapture] = {}
        for key in keys:
            entry = self._data.get(key)
            if entry is not None and entry[0] > now:
                found[key] = entry[1]
        return found

    async def purge_expired(self) -> int:
        """Drop expired entries; returns how many went."""
        now = wall_clock_ms(self._clock)
        dead = [k for k, (expiry, _) in self._data.items() if expiry <= now]
        for key in dead:
            del self._data[key]
        return len(dead)

    async def ping(self) -> None:
        """Fail only when told to."""
        self._check()

    async def close(self) -> None:
        """Nothing to release."""
