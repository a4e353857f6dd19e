"""Fill the gaps in an event's click IDs from the capture the visitor left on the landing page.

Merge rules (docs/enrichment.md has the reasoning):
1. Identifiers already on the event win; a capture only fills empty fields.
2. One capture per event, used as a whole: the most recent usable capture among the event's
   identity keys. Identifiers from two captures (possibly two visitors sharing a device or an
   email) are never combined.
3. A capture supplies an identifier only while that kind's TTL has not passed (measured from
   the capture to ``now``), and, where configured, while the click is young enough for the
   platform at the event's own time. A capture made after the event is not used.
4. Linked identifiers move together: if the event has ``fbc`` or ``fbclid``, neither is filled;
   likewise for Google's ``gclid``/``gbraid``/``wbraid``.
5. Nothing but click IDs is copied (never IP or user agent).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from consumer.enrich.cache import CaptureCache, is_missing
from consumer.enrich.model import (
    CLICK_ID_KINDS,
    DEFAULT_KEY_ORDER,
    StoredCapture,
    identity_keys_for_event,
    validate_key_order,
)
from consumer.enrich.store import ClickIdStore, StoreUnavailable
from consumer.enrich.ttl import DAY_MS, DEFAULT_TTL_DAYS, TtlPolicy

LINKED_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"fbclid", "fbc"}),
    frozenset({"gclid", "gbraid", "wbraid"}),
)
"""Identifiers that describe the same click; the event's own member of a group blocks the rest."""

_GROUP_OF: dict[str, frozenset[str]] = {kind: group for group in LINKED_GROUPS for kind in group}


@dataclass
class EnrichStats:
    """Per-event lookup results, for metrics (``capi_enrich_lookups_total{result=...}``).

    ``hit``: a capture was used; ``miss``: no key or no capture; ``expired``: captures were
    found but none could supply anything (TTL, click age, or made after the event); ``error``:
    the store was unavailable (counted in the cumulative stats before the error is raised).
    """

    hit: int = 0
    miss: int = 0
    expired: int = 0
    error: int = 0
    cache_hits: int = 0
    store_keys: int = 0
    added: dict[str, int] = field(default_factory=dict)

    def merge(self, other: EnrichStats) -> None:
        """Add another batch's counts into this one (cumulative totals)."""
        self.hit += other.hit
        self.miss += other.miss
        self.expired += other.expired
        self.error += other.error
        self.cache_hits += other.cache_hits
        self.store_keys += other.store_keys
        for kind, count in other.added.items():
            self.added[kind] = self.added.get(kind, 0) + count


class Enricher:
    """Adds stored click IDs to batches of events; one store lookup per batch."""

    def __init__(
        self,
        store: ClickIdStore,
        *,
        key_order: Sequence[str] = DEFAULT_KEY_ORDER,
        ttl_days_by_kind: Mapping[str, float] | None = None,
        default_ttl_days: float = DEFAULT_TTL_DAYS,
        max_click_age_days_by_platform_kind: Mapping[str, float] | None = None,
        cache_size: int = 10_000,
        cache_ttl_s: float = 30.0,
        future_skew_ms: int = 300_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Configure the merge.

        ``max_click_age_days_by_platform_kind`` maps a click-ID kind (each belongs to one
        platform, e.g. ``{"ttclid": 28, "gclid": 90}``) to the oldest click, relative to the
        event's ``event_time``, that platform still attributes. ``future_skew_ms`` tolerates
        clock skew between the web tier and the producer before a capture counts as after the
        event.
        """
        self._store = store
        self._order = validate_key_order(key_order)
        self._ttl = TtlPolicy.from_settings(ttl_days_by_kind, default_ttl_days)
        max_age_days = max_click_age_days_by_platform_kind or {}
        self._max_age_ms = {k: int(d * DAY_MS) for k, d in max_age_days.items()}
        self._skew_ms = future_skew_ms
        self._cache = CaptureCache(cache_size, cache_ttl_s, clock)
        self.stats = EnrichStats()

    def invalidate(self, keys: Sequence[str]) -> None:
        """Drop cached entries for keys the capture ingester just wrote."""
        self._cache.invalidate(keys)

    async def enrich_batch(self, events: list[dict[str, Any]], now_ms: int) -> EnrichStats:
        """Enrich ``events`` in place and return this batch's counts.

        Raises :class:`StoreUnavailable` without touching any event when the store is down, so
        the caller can retry the same batch later.
        """
        stats = EnrichStats()
        keys_per_event = [identity_keys_for_event(e, self._order) for e in events]
        try:
            found = await self._lookup({k for keys in keys_per_event for k in keys}, stats)
        except StoreUnavailable:
            self.stats.error += len(events)
            raise
        for event, keys in zip(events, keys_per_event, strict=True):
            self._merge(event, [(i, found[k]) for i, k in enumerate(keys) if k in found], now_ms, stats)
        self.stats.merge(stats)
        return stats

    async def _lookup(self, keys: set[str], stats: EnrichStats) -> dict[str, StoredCapture]:
        found: dict[str, StoredCapture] = {}
        wanted: list[str] = []
        for key in keys:
            cached = self._cache.get(key)
            if is_missing(cached):
                wanted.append(key)
                continue
            stats.cache_hits += 1
            if isinstance(cached, StoredCapture):
                found[key] = cached
        if wanted:
            stats.store_keys += len(wanted)
            fetched = await self._store.lookup_many(wanted)
            for key in wanted:
                capture = fetched.get(key)
                self._cache.put(key, capture)
                if capture is not None:
                    found[key] = capture
        return found

    def _usable_kinds(self, capture: StoredCapture, event_time: int | None, now_ms: int) -> list[str]:
        if event_time is not None and capture.capture_time_ms > event_time + self._skew_ms:
            return []
        kinds = []
        for kind in capture.click_ids:
            if not self._ttl.is_live(kind, capture.capture_time_ms, now_ms):
                continue
            max_age = self._max_age_ms.get(kind)
            too_old = event_time is not None and event_time - capture.capture_time_ms > (max_age or 0)
            if max_age is not None and too_old:
                continue
            kinds.append(kind)
        return kinds

    def _merge(
        self,
        event: dict[str, Any],
        candidates: list[tuple[int, StoredCapture]],
        now_ms: int,
        stats: EnrichStats,
    ) -> None:
        event_time = event.get("event_time")
        event_time = event_time if isinstance(event_time, int) else None
        best: tuple[StoredCapture, list[str]] | None = None
        best_rank: tuple[int, int] | None = None
        for priority, capture in candidates:
            usable = self._usable_kinds(capture, event_time, now_ms)
            rank = (capture.capture_time_ms, -priority)
            if usable and (best_rank is None or rank > best_rank):
                best, best_rank = (capture, usable), rank
        if best is None:
            if candidates:
                stats.expired += 1
            else:
                stats.miss += 1
            event["_enrichment"] = {"capture_id": None, "added": []}
            return
        capture, usable = best
        stats.hit += 1
        click_ids = event.get("click_ids")
        if not isinstance(click_ids, dict):
            click_ids = {}
            event["click_ids"] = click_ids
        present = {k for k, v in click_ids.items() if v}
        blocked = {member for k in present for member in _GROUP_OF.get(k, (k,))}
        added = []
        for kind in CLICK_ID_KINDS:
            if kind in usable and kind not in blocked:
                click_ids[kind] = capture.click_ids[kind]
                added.append(kind)
                stats.added[kind] = stats.added.get(kind, 0) + 1
        event["_enrichment"] = {"capture_id": capture.capture_id, "added": added}
