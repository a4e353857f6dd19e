"""The LRU+TTL cache in front of the store, and the TTL policy."""

from __future__ import annotations

import pytest

from consumer.enrich.cache import CaptureCache, is_missing
from consumer.enrich.model import StoredCapture
from consumer.enrich.ttl import DAY_MS, TtlPolicy


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_cache_hits_misses_ttl_and_lru() -> None:
    clock = FakeClock()
    cache = CaptureCache(max_size=2, ttl_s=30, clock=clock)
    cap = StoredCapture("c", 1)
    assert is_missing(cache.get("a"))
    cache.put("a", cap)
    cache.put("b", None)  # a cached miss
    assert cache.get("a") == cap and cache.get("b") is None
    cache.put("c", None)  # evicts the least recently used ("a" was read before "b")
    assert is_missing(cache.get("a")) and not is_missing(cache.get("b"))
    clock.t += 31
    assert is_missing(cache.get("b"))
    cache.put("d", cap)
    cache.invalidate(["d"])
    assert is_missing(cache.get("d"))


def test_cache_disabled() -> None:
    cache = CaptureCache(max_size=0)
    cache.put("a", None)
    assert is_missing(cache.get("a")) and len(cache) == 0


def test_ttl_policy() -> None:
    ttl = TtlPolicy.from_settings({"ttclid": 28})
    assert ttl.ttl_ms("gclid") == 90 * DAY_MS and ttl.ttl_ms("ttclid") == 28 * DAY_MS
    assert ttl.is_live("ttclid", 0, 28 * DAY_MS - 1) and not ttl.is_live("ttclid", 0, 28 * DAY_MS)
    assert ttl.record_expiry_ms(5, ["ttclid"]) == 5 + 28 * DAY_MS
    assert ttl.record_expiry_ms(5, ["ttclid", "gclid"]) == 5 + 90 * DAY_MS
    with pytest.raises(ValueError, match="unknown"):
        TtlPolicy.from_settings({"tclid": 3})
    with pytest.raises(ValueError, match="positive"):
        TtlPolicy.from_settings({"gclid": 0})
