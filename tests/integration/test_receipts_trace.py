"""Receipts and `trace` against the real broker and the sandbox: every terminal (event, platform)
outcome has exactly one receipt, receipts per platform equal the sandbox's accepted count plus
the DLQ count, and `trace` tells the right journey for a delivered, a rejected and a
dead-lettered (exhausted) event."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from confluent_kafka import Consumer, TopicPartition

from consumer.app import build_relay, run_relay
from consumer.cli import main as cli_main
from consumer.config import load_settings
from consumer.delivery.credentials_api import StaticCredentials
from consumer.demo_settings import sandbox_credentials
from consumer.kafka.dlq import H_EVENT_ID, H_PLATFORM, headers_dict
from consumer.receipts.cli import trace_event
from consumer.receipts.codec import ReceiptCodec
from sandbox.faults import is_rejected
from sandbox.testing import running_sandbox
from tests.integration.relay_harness import Scenario

pytestmark = pytest.mark.integration

N = 60
PLATFORMS = ["meta", "tiktok"]
REJECT_RATE = 0.2


def read_all(bootstrap: str, topic: str) -> list[tuple[int, int, dict[str, Any]]]:
    """Every receipt in ``topic`` with its partition and offset."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"rt-{uuid.uuid4().hex[:6]}"})
    meta = consumer.list_topics(topic, timeout=10).topics[topic]
    ends = {
        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in meta.partitions
    }
    consumer.assign([TopicPartition(topic, p, 0) for p in ends])
    codec = ReceiptCodec()
    out: list[tuple[int, int, dict[str, Any]]] = []
    while len(out) < sum(ends.values()):
        for msg in consumer.consume(500, 1.0):
            if msg.error() is None:
                out.append((msg.partition(), msg.offset(), codec.decode(msg.value())))
    consumer.close()
    return out


def dlq_headers_at(bootstrap: str, topic: str, partition: int, offset: int) -> dict[str, str]:
    """Headers of one dead-letter record."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"rt-{uuid.uuid4().hex[:6]}"})
    consumer.assign([TopicPartition(topic, partition, offset)])
    msg = None
    while msg is None or msg.error() is not None:
        msg = consumer.poll(5)
    consumer.close()
    return headers_dict(msg.headers())


async def test_receipts_match_outcomes_and_trace_tells_the_journey(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    scenario = Scenario(kafka_bootstrap, partitions=2)
    scenario.create_topics()
    scenario.produce(N, seed=41)
    receipts_topic = f"{scenario.prefix}.receipts"
    async with running_sandbox(
        faults={"tiktok": {"outage": {"status": 503}}, "meta": {"reject_event_rate": REJECT_RATE}}, seed=9
    ) as sandbox:
        config = scenario.config(
            sandbox.base_url,
            PLATFORMS,
            topics={"receipts": receipts_topic},
            ledger={"backend": "sqlite", "sqlite_path": str(tmp_path / "ledger.db")},
            delivery={
                "retry": {"max_attempts": 2, "base_delay_s": 0.05, "max_delay_s": 0.1, "budget_s": 2},
                "circuit": {"failure_threshold": 1000, "cooldown_s": 0.2},
                "delayed_retry": {"enabled": False},  # the relay gives up after its in-process attempts
            },
        )
        settings = load_settings(**config)
        tokens, extra = sandbox_credentials(PLATFORMS)
        relay = build_relay(settings, credentials=StaticCredentials(tokens, extra=extra))
        await run_relay(relay, stop_when=lambda e: e.stats.messages_finished >= N, install_signals=False)
        accepted = {e["event_id"] for e in sandbox.state.events("meta")}
        assert sandbox.state.stats()["tiktok"]["accepted_events"] == 0

    rejected = {e for e in scenario.produced if is_rejected(e, REJECT_RATE, 9, "meta")}
    assert rejected and accepted == set(scenario.produced) - rejected
    dlq = scenario.dlq_records()
    dlq_count = Counter(r[H_PLATFORM] for r in dlq)
    assert dlq_count == {"meta": len(rejected), "tiktok": N}

    receipts = read_all(kafka_bootstrap, receipts_topic)
    pairs = Counter((r["event_id"], r["platform"]) for _, _, r in receipts)
    assert set(pairs.values()) == {1}, "exactly one receipt per terminal outcome"
    per_platform = Counter(r["platform"] for _, _, r in receipts)
    assert per_platform["meta"] == len(accepted) + dlq_count["meta"]
    assert per_platform["tiktok"] == 0 + dlq_count["tiktok"]
    for _, _, r in receipts:
        assert r["source_topic"] in scenario.topics and r["match_keys"], r
        if r["outcome"] != "delivered":
            headers = dlq_headers_at(kafka_bootstrap, r["dlq_topic"], r["dlq_partition"], r["dlq_offset"])
            assert (headers[H_EVENT_ID], headers[H_PLATFORM]) == (r["event_id"], r["platform"])

    delivered_id = sorted(accepted)[0]
    rejected_id = sorted(rejected)[0]

    journey = (await asyncio.to_thread(trace_event, settings, delivered_id, timeout_s=30)).to_json()
    assert journey["event_type"] == scenario.produced[delivered_id]
    assert journey["consumed"][0]["topic"] in scenario.topics
    meta, tiktok = journey["platforms"]["meta"], journey["platforms"]["tiktok"]
    assert (meta["outcome"], meta["stage"], meta["http_status"], meta["dlq"]) == (
        "delivered",
        "deliver",
        200,
        None,
    )
    assert meta["ledger_accepted"] is True and meta["attempts"] >= 1
    assert (tiktok["outcome"], tiktok["http_status"], tiktok["ledger_accepted"]) == ("exhausted", 503, False)
    assert tiktok["dlq"]["topic"] == scenario.dlq and tiktok["attempts"] == 2

    journey = (await asyncio.to_thread(trace_event, settings, rejected_id, timeout_s=30)).to_json()
    meta = journey["platforms"]["meta"]
    assert (meta["outcome"], meta["stage"], meta["ledger_accepted"]) == ("rejected", "deliver", False)
    assert meta["dlq"]["topic"] == scenario.dlq and meta["reason"]

    # The command itself, text and JSON.
    path = tmp_path / "relay.yaml"
    path.write_text(yaml.safe_dump(config))
    assert await asyncio.to_thread(cli_main, ["trace", delivered_id, "--config", str(path), "--json"]) == 0
    assert await asyncio.to_thread(cli_main, ["trace", rejected_id, "--config", str(path)]) == 0
    assert await asyncio.to_thread(cli_main, ["trace", "no-such-event", "--config", str(path)]) == 1


def test_trace_cli_output(capsys: pytest.CaptureFixture[str], kafka_bootstrap: str, tmp_path: Path) -> None:
    """The text view names each platform's outcome, the DLQ location and the ledger answer."""
    from consumer.receipts.journey import Journey

    base = {
        "event_id": "ORD-9",
        "event_type": "purchase",
        "duplicate": False,
        "attempts": 2,
        "first_attempt_ms": 1_700_000_000_000,
        "last_attempt_ms": 1_700_000_001_000,
        "platform_ref": None,
        "match_keys": ["email", "fbc"],
        "enrichment_added": ["fbclid"],
        "event_time_ms": 1_699_999_999_000,
        "source_topic": "events.purchase",
        "source_partition": 1,
        "source_offset": 42,
        "dlq_topic": None,
        "dlq_partition": None,
        "dlq_offset": None,
        "receipt_time_ms": 1_700_000_002_000,
        "reason": None,
        "code": None,
    }
    receipts = [
        {
            **base,
            "platform": "meta",
            "outcome": "delivered",
            "stage": "deliver",
            "http_status": 200,
            "platform_ref": "AbCdTrace",
        },
        {
            **base,
            "platform": "google",
            "outcome": "rejected",
            "stage": "deliver",
            "http_status": 400,
            "code": "INVALID_GCLID",
            "reason": "Google: invalid click id",
            "dlq_topic": "capi.dlq",
            "dlq_partition": 0,
            "dlq_offset": 7,
        },
        {
            **base,
            "platform": "meta",
            "outcome": "delivered",
            "stage": "ledger",
            "attempts": 0,
            "receipt_time_ms": 1_700_000_009_000,
        },
    ]
    journey = Journey("ORD-9", receipts, scanned=10)
    journey.set_ledger({"meta": True, "google": False})
    text = journey.render()
    print(text)
    assert "consumed   events.purchase partition 1 offset 42" in text
    assert "enriched   fbclid" in text
    assert "meta       DELIVERED" in text and "platform ref AbCdTrace" in text
    assert "2 receipts: delivered/deliver, delivered/ledger" in text
    assert "google     REJECTED" in text and "INVALID_GCLID: Google: invalid click id" in text
    assert "dead-lettered capi.dlq partition 0 offset 7" in text
    data = journey.to_json()
    assert data["platforms"]["meta"]["stage"] == "deliver"  # the real delivery wins over a ledger skip
    assert json.dumps(data)
