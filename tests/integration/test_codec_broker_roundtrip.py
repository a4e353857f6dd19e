"""Acceptance: 10,000 events of the three types through a real 6-partition topic, in both
framings (Confluent wire format via the registry client's mock:// URL, and plain Avro),
consumed and decoded back equal to what was sent."""

from __future__ import annotations

import time
import uuid

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient

from consumer import contract
from consumer.codec import Codec
from consumer.sample import SampleGenerator

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("framing", ["wire", "plain"])
def test_ten_thousand_events_roundtrip(kafka_bootstrap: str, new_topic, framing: str) -> None:
    topic = new_topic(partitions=6)
    # one topic carries all three types: the writer schema (wire) or a header (plain) says which
    registry = SchemaRegistryClient.new_client({"url": f"mock://roundtrip-{uuid.uuid4().hex}"})
    wire = framing == "wire"
    codecs = {t: Codec(registry if wire else None, {topic: t}) for t in contract.EVENT_FILES}
    ids = {t: codecs[t].schema_id_for(t) for t in contract.EVENT_FILES} if wire else {}
    sent: dict[str, dict] = {}
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "linger.ms": 20, "enable.idempotence": True})
    now = int(time.time() * 1000)
    for event in SampleGenerator(seed=11).events(10_000, now):
        key = event["event_id"]
        sent[key] = event
        value = codecs[event["type"]].encode(event, ids.get(event["type"]))
        while True:
            try:
                producer.produce(
                    topic, value=value, key=key.encode(), headers=[("type", event["type"].encode())]
                )
                break
            except BufferError:
                producer.poll(0.1)
    assert producer.flush(60) == 0
    assert {e["type"] for e in sent.values()} == set(contract.EVENT_FILES)

    consumer = Consumer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "group.id": f"rt-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    received: dict[str, dict] = {}
    partitions: set[int] = set()
    deadline = time.monotonic() + 120
    while len(received) < len(sent) and time.monotonic() < deadline:
        for msg in consumer.consume(1000, 1.0):
            assert msg.error() is None
            event_type = dict(msg.headers())["type"].decode()
            event = codecs[event_type].decode(topic, msg.value())
            received[event["event_id"]] = event
            partitions.add(msg.partition())
    consumer.close()
    assert len(received) == len(sent) == 10_000
    assert partitions == set(range(6))
    assert received == sent
