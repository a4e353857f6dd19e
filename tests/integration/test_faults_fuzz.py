"""Acceptance: thousands of hostile messages mixed with valid events (Confluent wire format, a
Schema Registry client). Every valid event is delivered; every hostile message ends in the
dead-letter topic with a reason (10 KB identifiers may also be delivered: platforms take them);
every partition is committed to its end (lag 0); the relay's memory stays bounded.

Hostile kinds: random bytes, truncated Avro, a record of another event type, an unknown schema
id, a record type outside the contract, empty and null values, non-UTF-8 strings, absurd event
times, 10 KB identifiers. Each carries a ``fuzz-id`` header; dead-letter records keep original
headers, so each one's fate can be found.
"""

from __future__ import annotations

import asyncio
import os
import random
import struct
import time
import uuid
from collections import Counter, defaultdict
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from consumer.app import build_relay, run_relay
from consumer.codec import Codec
from consumer.config import load_settings
from consumer.delivery.credentials_api import StaticCredentials
from consumer.demo_settings import sandbox_credentials
from consumer.kafka.dlq import H_REASON
from consumer.sample import SampleGenerator
from sandbox.testing import running_sandbox
from tests.integration.relay_harness import Scenario, verify

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TWO = ["meta", "google"]
VALID = 2_000
HOSTILE = 3_000
MUST_DEAD_LETTER = (
    "random", "truncated", "wrong_type", "unknown_id", "foreign_record", "empty", "null", "non_utf8",
    "absurd_time",
)  # fmt: skip
KINDS = (*MUST_DEAD_LETTER, "long_id")


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Hostile:
    """Makes hostile message values of each kind from valid events."""

    def __init__(self, codec: Codec, ids: dict[str, int], foreign_id: int, rng: random.Random) -> None:
        self.codec, self.ids, self.foreign_id, self.rng = codec, ids, foreign_id, rng

    def make(self, kind: str, event: dict[str, Any]) -> tuple[bytes | None, dict[str, Any] | None]:
        """(value, event if it still decodes to an event of the contract)."""
        rng, encode = self.rng, self.codec.encode
        good = encode(event, self.ids[event["type"]])
        if kind == "random":
            return os.urandom(rng.randrange(1, 3000)), None
        if kind == "truncated":
            return good[: rng.randrange(5, len(good) - 1)], None
        if kind == "wrong_type":
            other = "lead" if event["type"] != "lead" else "purchase"
            return good[:1] + struct.pack(">I", self.ids[other]) + good[5:], None
        if kind == "unknown_id":
            return good[:1] + struct.pack(">I", 900_000 + rng.randrange(1000)) + good[5:], None
        if kind == "foreign_record":
            return good[:1] + struct.pack(">I", self.foreign_id) + b"\x02", None
        if kind == "empty":
            return b"", None
        if kind == "null":
            return None, None
        if kind == "non_utf8":
            marker = event["event_id"].encode()
            return good.replace(marker, b"\xff\xfe" + marker[2:], 1), None
        if kind == "absurd_time":
            when = rng.choice([0, -1, 2**62, 253_402_300_800_000])
            bad = {**event, "event_id": f"absurd-{uuid.uuid4().hex}", "event_time": when}
            return encode(bad, self.ids[event["type"]]), bad
        long_id = {**event, "event_id": "L" * 10_240}
        long_id["user"] = {**event["user"], "external_id": "x" * 10_240}
        return encode(long_id, self.ids[event["type"]]), long_id


async def test_fuzz_hostile_messages_never_stop_the_line(kafka_bootstrap: str) -> None:
    scenario = Scenario(kafka_bootstrap)
    scenario.create_topics()
    registry = SchemaRegistryClient.new_client({"url": f"mock://fuzz-{uuid.uuid4().hex}"})
    codec = Codec(registry, scenario.topics)
    ids = {t: codec.schema_id_for(t) for t in ("purchase", "lead", "qualified")}
    foreign = '{"type":"record","name":"Foreign","namespace":"x.y","fields":[{"name":"a","type":"long"}]}'
    foreign_id = registry.register_schema("foreign-value", Schema(foreign, "AVRO"))
    rng = random.Random(97)
    hostile = Hostile(codec, ids, foreign_id, rng)
    topic_for = {t: name for name, t in scenario.topics.items()}
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "linger.ms": 20})
    kinds: dict[str, str] = {}
    long_ids: set[str] = set()
    events = list(SampleGenerator(seed=91).events(VALID + HOSTILE, int(time.time() * 1000)))
    for n, event in enumerate(events):
        if n < VALID:
            value, decodes, fuzz = codec.encode(event, ids[event["type"]]), event, None
        else:
            kind = KINDS[n % len(KINDS)]
            value, decodes = hostile.make(kind, event)
            fuzz = f"{kind}-{n}"
            kinds[fuzz] = kind
        if decodes is not None and (fuzz is None or fuzz.startswith("long_id")):
            scenario.produced[decodes["event_id"]] = decodes["type"]
            if fuzz is not None:
                long_ids.add(decodes["event_id"])
        headers = [("fuzz-id", fuzz.encode())] if fuzz else None
        while True:
            try:
                producer.produce(topic_for[event["type"]], value=value, key=str(n).encode(), headers=headers)
                break
            except BufferError:
                producer.poll(0.1)
    assert producer.flush(60) == 0

    total = VALID + HOSTILE
    samples: list[float] = []
    async with running_sandbox(seed=5) as sbx:
        config = scenario.config(sbx.base_url, TWO, topics={"receipts": f"{scenario.prefix}.receipts"})
        config["delivery"] = {"max_in_flight_events": 1_000}
        settings = load_settings(**config)
        tokens, extra = sandbox_credentials(TWO)
        relay = build_relay(settings, codec=codec, credentials=StaticCredentials(tokens, extra=extra))

        def finished(engine: Any) -> bool:
            samples.append(rss_mb())
            return bool(engine.stats.messages_finished >= total)

        await asyncio.wait_for(run_relay(relay, stop_when=finished, install_signals=False), timeout=300)
        delivered = {slug: sbx.state.events(slug) for slug in TWO}
        verdict = verify(scenario, TWO, delivered)
    assert scenario.fully_committed(), "lag is not 0"

    fates: dict[str, list[str]] = defaultdict(list)
    for record in scenario.dlq_records():
        if "fuzz-id" in record:
            fates[record["fuzz-id"]].append(record.get(H_REASON, ""))
    missing = Counter(kinds[f] for f in kinds if kinds[f] in MUST_DEAD_LETTER and not fates.get(f))
    assert not missing, f"hostile messages not dead-lettered, by kind: {dict(missing)}"
    assert all(all(reasons) for reasons in fates.values()), "a dead-letter record without a reason"
    assert verdict.missing == []
    valid = {e["event_id"] for e in events[:VALID]}
    for slug in TWO:
        assert valid <= {e["event_id"] for e in delivered[slug]}, f"a valid event not delivered to {slug}"
    growth = max(samples) - samples[0]
    print(
        f"\nfuzz: {VALID} valid + {HOSTILE} hostile; accepted={verdict.accepted}; "
        f"dead-lettered={verdict.dead_lettered}; rss start={samples[0]:.0f} MB max={max(samples):.0f} MB"
    )
    assert growth < 300, f"RSS grew {growth:.0f} MB"
