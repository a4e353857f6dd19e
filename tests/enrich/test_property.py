"""Property: an event's added click IDs always come from one capture, never from two visitors."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from consumer.enrich.capture import prepare_capture
from consumer.enrich.enricher import Enricher
from consumer.enrich.memory_store import InMemoryClickIdStore
from consumer.enrich.ttl import TtlPolicy
from tests.enrich.conftest import DAY_MS, capture, purchase

NOW = 1_800_000_000_000
KINDS = ["gclid", "ttclid", "fbclid", "ttp", "msclkid", "epik", "rdt_cid"]
IDENTITY = ["external_id", "anonymous_id", "session_id", "email_sha256"]

capture_spec = st.fixed_dictionaries(
    {
        "visitor": st.integers(0, 3),
        "age_days": st.integers(0, 120),
        "keys": st.sets(st.sampled_from(IDENTITY), min_size=1),
        "kinds": st.sets(st.sampled_from(KINDS), min_size=1),
        # a shared value (e.g. a shared device's session) makes two visitors collide on a key
        "shared": st.booleans(),
    }
)
event_spec = st.fixed_dictionaries(
    {
        "visitor": st.integers(0, 3),
        "keys": st.sets(st.sampled_from(IDENTITY), min_size=1),
        "own": st.sets(st.sampled_from(KINDS)),
    }
)


def identity_value(kind: str, visitor: int, shared: bool) -> str:
    value = "shared" if shared else f"v{visitor}"
    return (value.encode().hex() * 64)[:64] if kind == "email_sha256" else value


def run(captures: list[dict[str, Any]], events: list[dict[str, Any]], disjoint: bool) -> None:
    async def scenario() -> None:
        store = InMemoryClickIdStore(TtlPolicy(by_kind={"ttclid": 28}), clock=lambda: NOW / 1000)
        records = []
        for n, spec in enumerate(captures):
            shared = spec["shared"] and not disjoint
            ids = {k: f"{k}|v{spec['visitor']}|c{n}" for k in spec["kinds"]}
            identity = {k: identity_value(k, spec["visitor"], shared) for k in spec["keys"]}
            prepared = prepare_capture(capture(f"c{n}", NOW - spec["age_days"] * DAY_MS, ids, **identity))
            assert prepared is not None
            records.append(prepared)
        await store.upsert_many(records)
        enricher = Enricher(store, ttl_days_by_kind={"ttclid": 28}, cache_ttl_s=0)
        batch = []
        for n, spec in enumerate(events):
            ids = {k: f"own-{n}" for k in spec["own"]}
            user = {k: identity_value(k, spec["visitor"], False) for k in spec["keys"] if k != "email_sha256"}
            if "email_sha256" in spec["keys"]:
                user["email"] = identity_value("email_sha256", spec["visitor"], False)
            batch.append(purchase(f"e{n}", NOW, ids, **user))
        await enricher.enrich_batch(batch, NOW)
        for spec, event in zip(events, batch, strict=True):
            info = event["_enrichment"]
            sources = set()
            for kind in info["added"]:
                value = event["click_ids"][kind]
                if kind == "fbc":
                    value = value.split(".", 3)[3]
                    kind = "fbclid"
                tag_kind, visitor, cap_id = value.split("|")
                assert tag_kind == kind
                sources.add((visitor, cap_id))
            assert len(sources) <= 1, f"combined captures {sources}"
            if sources:
                ((visitor, cap_id),) = sources
                assert cap_id == info["capture_id"]
                if disjoint:
                    assert visitor == f"v{spec['visitor']}"
            for kind in spec["own"]:
                assert event["click_ids"][kind].startswith("own-")  # the event's own ids win

    asyncio.run(scenario())


@settings(max_examples=150, deadline=None)
@given(st.lists(capture_spec, max_size=8), st.lists(event_spec, min_size=1, max_size=5))
def test_one_capture_per_event(captures: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    run(captures, events, disjoint=False)


@settings(max_examples=150, deadline=None)
@given(st.lists(capture_spec, max_size=8), st.lists(event_spec, min_size=1, max_size=5))
def test_never_another_visitors_ids(captures: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    run(captures, events, disjoint=True)
