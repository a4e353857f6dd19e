"""Acceptance: a negative value and a currency that is not ISO 4217 are refused at the mapping
stage, once, with one reason shared by every routed platform — one dead-letter record per
platform, not a refusal on some platforms and a delivery on others."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

import pytest
from confluent_kafka import Producer

from consumer.app import build_relay, run_relay
from consumer.codec import Codec
from consumer.config import load_settings
from consumer.delivery.credentials_api import StaticCredentials
from consumer.demo_settings import sandbox_credentials, sandbox_platforms
from consumer.kafka.dlq import H_EVENT_ID, H_PLATFORM, H_REASON, H_STAGE
from consumer.sample import SampleGenerator
from sandbox.testing import running_sandbox
from tests.integration.relay_harness import Scenario

pytestmark = pytest.mark.integration

PLATFORMS = ["meta", "google", "tiktok", "linkedin", "snap", "pinterest", "reddit", "microsoft"]


async def test_negative_value_and_bad_currency_are_refused_for_every_platform(kafka_bootstrap: str) -> None:
    scenario = Scenario(kafka_bootstrap, partitions=1)
    scenario.create_topics()
    events = SampleGenerator(seed=61).events(60, int(time.time() * 1000))
    purchases = [e for e in events if e["type"] == "purchase"]
    negative = {**purchases[0], "value": -12.5}
    bad_currency = {**purchases[1], "currency": "XXXX"}
    free = {**purchases[2], "value": 0.0}
    topic = next(t for t, kind in scenario.topics.items() if kind == "purchase")
    codec = Codec(None, scenario.topics)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for event in (negative, bad_currency, free):
        producer.produce(topic, value=codec.encode(event), key=event["event_id"].encode())
    assert producer.flush(30) == 0
    async with running_sandbox(seed=2) as sbx:
        config = scenario.config(sbx.base_url, PLATFORMS)
        config["platforms"] = sandbox_platforms(sbx.base_url, PLATFORMS)
        settings = load_settings(**config)
        tokens, extra = sandbox_credentials(PLATFORMS)
        relay = build_relay(settings, credentials=StaticCredentials(tokens, extra=extra))
        await asyncio.wait_for(
            run_relay(relay, stop_when=lambda e: e.stats.messages_finished >= 3, install_signals=False),
            timeout=120,
        )
    by_event: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    for record in scenario.dlq_records():
        by_event[record[H_EVENT_ID]][record[H_PLATFORM]] = (record[H_STAGE], record[H_REASON])
    assert by_event[negative["event_id"]] == {p: ("map", "value is negative") for p in PLATFORMS}
    assert by_event[bad_currency["event_id"]] == {
        p: ("map", "currency is not an ISO 4217 code") for p in PLATFORMS
    }
    refused_free = {p: why for p, why in by_event[free["event_id"]].items() if "value" in why[1]}
    assert refused_free == {}  # a value of 0 is allowed
