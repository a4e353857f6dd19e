"""Merge rules of the enricher, against the in-memory store."""

from __future__ import annotations

from typing import Any

import pytest

from consumer.enrich.enricher import Enricher
from consumer.enrich.memory_store import InMemoryClickIdStore
from consumer.enrich.model import StoredCapture
from consumer.enrich.ttl import TtlPolicy
from tests.enrich.conftest import DAY_MS, now_ms, purchase


def cap(cid: str, t: int, visitor: str, **ids: str) -> StoredCapture:
    return StoredCapture(cid, t, dict(ids), visitor)


async def setup(
    *records: tuple[list[str], StoredCapture], **kwargs: Any
) -> tuple[InMemoryClickIdStore, Enricher]:
    store = InMemoryClickIdStore(TtlPolicy.from_settings(kwargs.get("ttl_days_by_kind")))
    await store.upsert_many(list(records))
    return store, Enricher(store, **kwargs)


async def test_event_identifiers_win_and_linked_groups_stay_together() -> None:
    t = now_ms() - DAY_MS
    _, enricher = await setup(
        (
            ["external_id:u"],
            cap("c", t, "external_id:u", fbclid="F2", fbc="fb.1.1.F2", gbraid="GB", ttp="TTP"),
        )
    )
    event = purchase("e", now_ms(), {"fbc": "fb.1.9.F1", "gclid": "G1", "ttp": None}, external_id="u")
    await enricher.enrich_batch([event], now_ms())
    assert event["click_ids"] == {"fbc": "fb.1.9.F1", "gclid": "G1", "ttp": "TTP"}
    assert event["_enrichment"] == {"capture_id": "c", "added": ["ttp"]}


async def test_most_recent_capture_wins_as_a_whole() -> None:
    t = now_ms() - 5 * DAY_MS
    _, enricher = await setup(
        (["external_id:u"], cap("old", t, "external_id:u", gclid="G-OLD", fbp="fb.1.1.1")),
        (["session_id:s"], cap("new", t + DAY_MS, "session_id:s", ttclid="TT-NEW")),
    )
    event = purchase("e", now_ms(), external_id="u", session_id="s")
    await enricher.enrich_batch([event], now_ms())
    assert event["click_ids"] == {"ttclid": "TT-NEW"}  # nothing from "old"
    assert event["_enrichment"]["capture_id"] == "new"


async def test_equal_time_prefers_higher_priority_key() -> None:
    t = now_ms() - DAY_MS
    _, enricher = await setup(
        (["session_id:s"], cap("by-session", t, "session_id:s", gclid="S")),
        (["external_id:u"], cap("by-user", t, "external_id:u", gclid="U")),
    )
    event = purchase("e", now_ms(), external_id="u", session_id="s")
    await enricher.enrich_batch([event], now_ms())
    assert event["click_ids"] == {"gclid": "U"}


async def test_capture_with_nothing_live_is_skipped_for_an_older_usable_one() -> None:
    now = now_ms()
    _, enricher = await setup(
        (["external_id:u"], cap("gclid-click", now - 60 * DAY_MS, "external_id:u", gclid="G")),
        (["session_id:s"], cap("tt-click", now - 30 * DAY_MS, "session_id:s", ttclid="T")),
        ttl_days_by_kind={"ttclid": 28},
    )
    event = purchase("e", now, external_id="u", session_id="s")
    stats = await enricher.enrich_batch([event], now)
    assert event["click_ids"] == {"gclid": "G"} and stats.hit == 1


async def test_expired_and_after_event_are_counted_expired() -> None:
    now = now_ms()
    _, enricher = await setup(
        (["external_id:u"], cap("c", now - 30 * DAY_MS, "external_id:u", ttclid="T")),
        (["external_id:late"], cap("late", now, "external_id:late", gclid="G")),
        ttl_days_by_kind={"ttclid": 90},
    )
    # enrich far in the future: ttclid's 90 days passed, store still returns it (store clock is real)
    old = purchase("e1", now, external_id="u")
    late = purchase("e2", now - DAY_MS, external_id="late")  # capture is a day after the event
    stats = await enricher.enrich_batch([old, late], now + 61 * DAY_MS)
    assert (stats.expired, stats.hit, stats.miss) == (2, 0, 0)
    assert old["click_ids"] == {} and late["click_ids"] == {}
    assert late["_enrichment"] == {"capture_id": None, "added": []}


async def test_max_click_age_per_kind_uses_event_time() -> None:
    now = now_ms()
    _, enricher = await setup(
        (["external_id:u"], cap("c", now - 10 * DAY_MS, "external_id:u", ttclid="T", gclid="G")),
        max_click_age_days_by_platform_kind={"ttclid": 7},
    )
    event = purchase("e", now, external_id="u")
    await enricher.enrich_batch([event], now)
    assert event["click_ids"] == {"gclid": "G"}


async def test_one_lookup_per_batch_and_cache() -> None:
    t = now_ms() - DAY_MS
    store, enricher = await setup((["external_id:u"], cap("c", t, "external_id:u", gclid="G")))
    events = [purchase(f"e{i}", now_ms(), external_id="u" if i % 2 else "nobody") for i in range(10)]
    stats = await enricher.enrich_batch(events, now_ms())
    assert store.lookup_calls == 1 and stats.store_keys == 2
    assert (stats.hit, stats.miss) == (5, 5) and stats.added == {"gclid": 5}
    again = [purchase("x", now_ms(), external_id="u"), purchase("y", now_ms(), external_id="nobody")]
    stats2 = await enricher.enrich_batch(again, now_ms())
    assert store.lookup_calls == 1 and stats2.cache_hits == 2  # hits and misses both cached
    enricher.invalidate(["external_id:u"])
    await enricher.enrich_batch([purchase("z", now_ms(), external_id="u")], now_ms())
    assert store.lookup_calls == 2
    assert enricher.stats.hit == 7 and enricher.stats.miss == 6


async def test_event_without_click_ids_record_and_no_keys() -> None:
    _, enricher = await setup((["external_id:u"], cap("c", now_ms(), "external_id:u", gclid="G")))
    event: dict[str, Any] = {
        "type": "lead",
        "event_time": now_ms(),
        "lead_id": "L",
        "user": {"external_id": "u"},
    }
    nobody: dict[str, Any] = {"type": "lead", "event_time": now_ms(), "user": {}}
    stats = await enricher.enrich_batch([event, nobody], now_ms())
    assert event["click_ids"] == {"gclid": "G"} and stats.miss == 1


def test_bad_key_order_rejected() -> None:
    with pytest.raises(ValueError):
        Enricher(InMemoryClickIdStore(), key_order=["nope"])
