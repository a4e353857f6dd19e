"""Acceptance: `dlq replay` writes receipts. After a Meta outage dead-lettered every event, a
replay with a refused token re-queues them (one `auth` receipt each, naming the new dead letter),
a dry run writes nothing, and a replay with Meta healthy delivers them: one `delivered` receipt
per event with ``replay_of`` = the replayed record and the original source position, and
`trace` reports the event delivered. Real broker, real relay, in-process sandbox."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from consumer.app import build_relay, run_relay
from consumer.delivery.credentials_api import StaticCredentials
from consumer.dlq_ops.filters import RecordFilter
from consumer.dlq_ops.replay import ReplayOptions, run_replay
from consumer.receipts.cli import trace_event
from consumer.receipts.codec import ReceiptCodec
from sandbox.testing import running_sandbox
from tests.conftest import NewTopicFactory
from tests.dlq_ops.conftest import TOKEN, credentials, produce_events, read_dlq, relay_settings, sample_events

pytestmark = pytest.mark.integration

N = 16


def read_receipts(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """Every receipt in ``topic`` (one partition: in write order)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"rr-{uuid.uuid4().hex[:6]}"})
    try:
        end = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
        consumer.assign([TopicPartition(topic, 0, 0)])
        codec = ReceiptCodec()
        out: list[dict[str, Any]] = []
        while len(out) < end:
            for msg in consumer.consume(500, 1.0):
                value = msg.value()
                if msg.error() is None and value is not None:
                    out.append(codec.decode(value))
        return out
    finally:
        consumer.close()


def committed(bootstrap: str, group: str, topic: str) -> int:
    """The group's committed offset on partition 0."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        (tp,) = consumer.committed([TopicPartition(topic, 0)], timeout=10)
        return int(tp.offset)
    finally:
        consumer.close()


async def test_replay_receipts_and_trace(kafka_bootstrap: str, new_topic: NewTopicFactory) -> None:
    topics = {"purchase": new_topic(), "lead": new_topic()}
    dlq, receipts_topic = new_topic(), new_topic()
    events = sample_events(N, seed=23)
    ids = {e["event_id"] for e in events}
    async with running_sandbox(faults={"meta": {"outage": {"status": 503}}}) as sbx:
        settings = relay_settings(
            kafka_bootstrap,
            {t: e for e, t in topics.items()},
            dlq,
            sbx.url_for,
            group=f"relay-{uuid.uuid4().hex[:8]}",
            topics={"events": {t: e for e, t in topics.items()}, "dlq": dlq, "receipts": receipts_topic},
        )
        produce_events(kafka_bootstrap, topics, events)
        relay = build_relay(settings, credentials=credentials())
        await run_relay(relay, stop_when=lambda e: e.stats.messages_finished >= N, install_signals=False)
        original = {r.event_id: r for r in read_dlq(kafka_bootstrap, dlq)}
        assert set(original) == ids
        relay_receipts = read_receipts(kafka_bootstrap, receipts_topic)
        assert Counter((r["platform"], r["outcome"]) for r in relay_receipts) == {
            ("meta", "exhausted"): N,
            ("tiktok", "delivered"): N,
        }
        source_of = {
            r["event_id"]: (r["source_topic"], r["source_partition"], r["source_offset"])
            for r in relay_receipts
        }
        sbx.set_faults("meta", outage=None)
        meta_only = RecordFilter.build(platforms=["meta"])
        group = f"replay-{uuid.uuid4().hex[:8]}"

        # A dry run writes no receipt.
        dry = await run_replay(
            settings, ReplayOptions(filter=meta_only, dry_run=True, progress=False, group=group)
        )
        assert dry.totals() == {"would_send": N} and dry.to_json()["receipts"] is None
        assert len(read_receipts(kafka_bootstrap, receipts_topic)) == 2 * N

        # Meta refuses the token: every record is re-queued, each with an `auth` receipt naming the
        # new dead letter, and committed only after that receipt was acknowledged.
        refused = StaticCredentials(tokens={"meta": "wrong-token", "tiktok": TOKEN})
        first = await run_replay(
            settings, ReplayOptions(filter=meta_only, progress=False, group=group), credentials=refused
        )
        assert first.totals() == {"requeued": N}, first.render()
        assert first.to_json()["receipts"] == {"topic": receipts_topic, "written": N, "unacked": 0}
        assert committed(kafka_bootstrap, group, dlq) == N
        requeued = {r.event_id: r for r in read_dlq(kafka_bootstrap, dlq)[N:]}
        assert set(requeued) == ids
        auth = read_receipts(kafka_bootstrap, receipts_topic)[2 * N :]
        assert len(auth) == N
        for r in auth:
            old, new = original[r["event_id"]], requeued[r["event_id"]]
            # (Meta answers a refused token with HTTP 400, OAuthException code 190)
            assert (r["platform"], r["outcome"], r["stage"], r["attempts"]) == (
                "meta",
                "auth",
                "deliver",
                1,
            ), r
            assert r["replay_of"] == {"topic": dlq, "partition": 0, "offset": old.offset, "replay": 1}
            assert (r["dlq_topic"], r["dlq_partition"], r["dlq_offset"]) == (dlq, 0, new.offset)
            assert (r["source_topic"], r["source_partition"], r["source_offset"]) == source_of[r["event_id"]]

        # Meta healthy: the re-queued records are delivered, one receipt each.
        second = await run_replay(
            settings, ReplayOptions(filter=meta_only, progress=False, group=group), credentials=credentials()
        )
        assert second.totals() == {"delivered": N}, second.render()
        assert committed(kafka_bootstrap, group, dlq) == 2 * N
        assert {e["event_id"]: e["count"] for e in sbx.state.events("meta")} == dict.fromkeys(ids, 1)
        delivered = read_receipts(kafka_bootstrap, receipts_topic)[3 * N :]
        assert len(delivered) == N and {r["event_id"] for r in delivered} == ids
        for r in delivered:
            assert (r["platform"], r["outcome"], r["stage"], r["http_status"]) == (
                "meta",
                "delivered",
                "deliver",
                200,
            )
            of = requeued[r["event_id"]]
            assert r["replay_of"] == {"topic": dlq, "partition": 0, "offset": of.offset, "replay": 2}
            assert r["dlq_topic"] is None and r["match_keys"] and r["event_time_ms"]
            assert (r["source_topic"], r["source_partition"], r["source_offset"]) == source_of[r["event_id"]]

    event_id = sorted(ids)[0]
    journey = await asyncio.to_thread(trace_event, settings, event_id, timeout_s=30, use_ledger=False)
    meta = journey.to_json()["platforms"]["meta"]
    assert (meta["outcome"], meta["dlq"], meta["receipts"]) == ("delivered", None, 3)
    assert meta["replay_of"]["offset"] == requeued[event_id].offset
    text = journey.render()
    assert f"DELIVERED (replay of {dlq}[0]@{requeued[event_id].offset})" in text, text
    assert journey.consumed == [source_of[event_id]]
