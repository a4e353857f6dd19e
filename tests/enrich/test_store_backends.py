"""One behavioural suite, run against the in-memory, SQLite and real Redis backends."""

from __future__ import annotations

from typing import Any

from consumer.enrich.capture import prepare_capture
from consumer.enrich.enricher import Enricher
from consumer.enrich.model import StoredCapture
from consumer.enrich.store import ClickIdStore
from tests.enrich.conftest import DAY_MS, capture, now_ms, purchase

FULL_IDS = {
    "fbclid": "IwAR2F4-dbP0l7Mn1IawQQ",
    "fbp": "fb.1.1771000000000.1098115397",
    "gclid": "Cj0KCQjwAbC-xyz_Q",
    "ttclid": "E.C.P.CsQB",
}


def prepared(record: dict[str, Any]) -> tuple[list[str], StoredCapture]:
    result = prepare_capture(record)
    assert result is not None
    return result


def enricher(store: ClickIdStore, **kwargs: Any) -> Enricher:
    kwargs.setdefault("ttl_days_by_kind", {"ttclid": 28})
    kwargs.setdefault("cache_ttl_s", 0)
    return Enricher(store, **kwargs)


async def test_purchase_with_only_user_id_gets_captured_ids(store: ClickIdStore) -> None:
    t = now_ms() - 2 * DAY_MS
    await store.upsert_many(
        [prepared(capture("c1", t, FULL_IDS, external_id="u-1", cookie_domain="shop.example.com"))]
    )
    event = purchase("e1", t + DAY_MS, external_id="u-1")
    stats = await enricher(store).enrich_batch([event], now_ms())
    assert stats.hit == 1
    ids = event["click_ids"]
    assert ids["fbc"] == f"fb.2.{t}.IwAR2F4-dbP0l7Mn1IawQQ"
    assert ids["fbp"] == FULL_IDS["fbp"]
    assert ids["gclid"] == FULL_IDS["gclid"]
    assert ids["ttclid"] == FULL_IDS["ttclid"]
    assert event["_enrichment"] == {"capture_id": "c1", "added": ["fbclid", "fbc", "fbp", "gclid", "ttclid"]}
    assert event["context"]["ip_address"] is None and event["context"]["user_agent"] is None


async def test_expired_capture_is_not_used(store: ClickIdStore) -> None:
    t = now_ms() - 100 * DAY_MS
    await store.upsert_many([prepared(capture("old", t, FULL_IDS, external_id="u-2"))])
    assert await store.lookup_many(["external_id:u-2"]) == {}
    event = purchase("e2", now_ms(), external_id="u-2")
    stats = await enricher(store).enrich_batch([event], now_ms())
    assert stats.miss == 1 and stats.hit == 0
    assert event["click_ids"] == {}


async def test_per_kind_ttl_drops_only_that_kind(store: ClickIdStore) -> None:
    t = now_ms() - 40 * DAY_MS  # ttclid (28 d) expired, the others (90 d) live
    await store.upsert_many([prepared(capture("c3", t, FULL_IDS, anonymous_id="a-3"))])
    event = purchase("e3", now_ms(), anonymous_id="a-3")
    await enricher(store).enrich_batch([event], now_ms())
    assert "ttclid" not in event["click_ids"]
    assert event["click_ids"]["gclid"] == FULL_IDS["gclid"]


async def test_two_visitors_never_get_each_others_ids(store: ClickIdStore) -> None:
    t = now_ms() - DAY_MS
    await store.upsert_many(
        [
            prepared(capture("va", t, {"gclid": "GCLID-A", "fbp": "fb.1.1.111"}, external_id="alice")),
            prepared(capture("vb", t + 1, {"gclid": "GCLID-B", "ttclid": "TT-B"}, external_id="bob")),
        ]
    )
    alice = purchase("ea", now_ms(), external_id="alice")
    bob = purchase("eb", now_ms(), external_id="bob")
    await enricher(store).enrich_batch([alice, bob], now_ms())
    assert alice["click_ids"] == {"gclid": "GCLID-A", "fbp": "fb.1.1.111"}
    assert bob["click_ids"] == {"gclid": "GCLID-B", "ttclid": "TT-B"}


async def test_upsert_is_idempotent_and_newer_wins(store: ClickIdStore) -> None:
    t = now_ms() - DAY_MS
    newer = prepared(capture("n", t + 1000, {"gclid": "NEW"}, session_id="s-1"))
    older = prepared(capture("o", t, {"gclid": "OLD"}, session_id="s-1"))
    await store.upsert_many([newer])
    await store.upsert_many([newer, older, newer])
    await store.upsert_many([older])
    found = await store.lookup_many(["session_id:s-1", "session_id:nobody"])
    assert list(found) == ["session_id:s-1"]
    assert found["session_id:s-1"] == newer[1]


async def test_same_time_tie_broken_by_capture_id_in_any_order(store: ClickIdStore) -> None:
    t = now_ms() - DAY_MS
    a = prepared(capture("a", t, {"gclid": "A"}, lead_id="L1"))
    b = prepared(capture("b", t, {"gclid": "B"}, lead_id="L1"))
    await store.upsert_many([b, a])
    assert (await store.lookup_many(["lead_id:L1"]))["lead_id:L1"].capture_id == "b"


async def test_capture_stored_under_every_key(store: ClickIdStore) -> None:
    t = now_ms()
    keys, stored = prepared(
        capture("m", t, {"msclkid": "MS"}, external_id="x", anonymous_id="y", email_sha256="A" * 64)
    )
    await store.upsert_many([(keys, stored)])
    found = await store.lookup_many(keys)
    assert set(found) == {"external_id:x", "anonymous_id:y", "email_sha256:" + "a" * 64}
    assert all(v == stored for v in found.values())
    await store.ping()
