"""`produce-sample` against a real Schema Registry: Confluent's three subject name strategies.

Why: producers register under the subject their serializer's strategy names — by default
TopicNameStrategy's ``{topic}-value`` — and a relay must decode whatever they wrote, whichever
subject it went to. Shared types are registered as subjects of their own either way.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient

from consumer import contract
from consumer.cli import main
from consumer.codec import Codec
from consumer.producing import produce_samples

pytestmark = pytest.mark.integration


def _expected_subject(strategy: str, topic: str, event_type: str) -> str:
    record = json.loads(contract.schema_json(event_type))
    full = f"{record['namespace']}.{record['name']}"
    return {"topic": f"{topic}-value", "record": full, "topic_record": f"{topic}-{full}"}[strategy]


def _consume_all(bootstrap: str, topics: list[str], expected: int) -> list[tuple[str, bytes]]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"subjects-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe(topics)
    out: list[tuple[str, bytes]] = []
    deadline = time.monotonic() + 30
    while len(out) < expected and time.monotonic() < deadline:
        for msg in consumer.consume(100, 0.5):
            if msg.error() is None:
                out.append((str(msg.topic()), bytes(msg.value() or b"")))
    consumer.close()
    return out


@pytest.mark.parametrize("strategy", ["topic", "record", "topic_record"])
def test_produce_sample_registers_under_each_strategy_and_the_relay_decodes(
    strategy: str, kafka_bootstrap: str, schema_registry_url: str, tmp_path: Path
) -> None:
    prefix = f"ss{uuid.uuid4().hex[:6]}"
    topics = {f"{prefix}.{t}": t for t in contract.EVENT_FILES}
    capture_topic = f"{prefix}.click-ids"
    if strategy == "topic":  # through the command line, as a user runs it
        config = tmp_path / "config.yaml"
        config.write_text(json.dumps({"topics": {"events": topics, "click_ids": capture_topic}}))
        argv = ["produce-sample", "--config", str(config), "--bootstrap", kafka_bootstrap,
                "--registry", schema_registry_url, "--count", "9", "--captures", "2"]  # fmt: skip
        assert main(argv) == 0
    else:
        produce_samples(
            kafka_bootstrap, 9, topics=topics, registry_url=schema_registry_url,
            subject_strategy=strategy, captures=2, capture_topic=capture_topic,
        )  # fmt: skip
    client = SchemaRegistryClient({"url": schema_registry_url})
    subjects = set(client.get_subjects())
    for topic, event_type in [*topics.items(), (capture_topic, contract.CAPTURE_TYPE)]:
        assert _expected_subject(strategy, topic, event_type) in subjects
    assert f"{contract.NAMESPACE}.ClickIds" in subjects

    codec = Codec(SchemaRegistryClient({"url": schema_registry_url}), topics)
    messages = _consume_all(kafka_bootstrap, [*topics, capture_topic], 11)
    assert len(messages) == 11
    kinds = [
        "capture"
        if topic == capture_topic and codec.decode_capture(value)
        else codec.decode(topic, value)["type"]
        for topic, value in messages
    ]
    assert kinds.count("capture") == 2 and len(kinds) == 11
