"""A small bounded LRU with a TTL, in front of the click-ID store.

A burst of events for the same visitor (an order, then its items, then a qualified lead) should
cost one store round trip, not one per event; misses are cached too, because most events have
no capture and would otherwise hit the store every time. The TTL is short so a capture that
arrives moments later is still seen soon (the ingester can also ``invalidate`` keys it wrote).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from consumer.enrich.model import StoredCapture

_MISSING = object()


class CaptureCache:
    """LRU mapping identity key -> capture or ``None`` (a cached miss), each entry with a TTL."""

    def __init__(
        self, max_size: int = 10_000, ttl_s: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """A ``max_size`` of 0 or a ``ttl_s`` of 0 disables caching."""
        self._max = max(0, max_size)
        self._ttl = ttl_s
        self._clock = clock
        self._data: OrderedDict[str, tuple[float, StoredCapture | None]] = OrderedDict()

    def __len__(self) -> int:
        """Entries currently held (expired ones included until touched or evicted)."""
        return len(self._data)

    def get(self, key: str) -> StoredCapture | object | None:
        """The cached value, or the module's ``MISSING`` sentinel when absent or expired."""
        entry = self._data.get(key)
        if entry is None:
            return _MISSING
        if entry[0] <= self._clock():
            del self._data[key]
            return _MISSING
        self._data.move_to_end(key)
        return entry[1]

    def put(self, key: str, value: StoredCapture | None) -> None:
        """Remember a hit or (with ``None``) a miss; evicts the least recently used."""
        if self._max == 0 or self._ttl <= 0:
            return
        self._data[key] = (self._clock() + self._ttl, value)
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    def invalidate(self, keys: Iterable[str]) -> None:
        """Forget keys whose stored capture just changed."""
        for key in keys:
            self._data.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        self._data.clear()


def is_missing(value: object) -> bool:
    """Whether a :meth:`CaptureCache.get` result means "not cached"."""
    return value is _MISSING
