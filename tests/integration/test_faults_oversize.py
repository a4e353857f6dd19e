"""Acceptance: an oversized poison message never blocks its partition.

A dedicated broker takes records up to 8 MiB (``message.max.bytes``, common in production); the
dead-letter topic keeps Kafka's 1 MB default. Two 5 MB messages of random bytes among 3,000
valid events cannot be decoded and cannot be dead-lettered with their value: each becomes a
dead-letter record without the value, whose headers say so and point at the original. Lag
reaches 0, every valid event is delivered, and a restart writes no new dead-letter records.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from consumer.devtools.kafka_local import LocalKafka
from consumer.dlq_ops.originals import restore_originals
from consumer.dlq_ops.records import DlqReader, DlqRecord
from consumer.kafka.dlq import H_OFFSET, H_STAGE, H_TOPIC, H_VALUE_BYTES, H_VALUE_OMITTED, headers_dict
from sandbox.testing import sandbox_process
from tests.integration.relay_harness import RelayProcess, Scenario, verify, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EIGHT_MIB = 8 * 1024 * 1024
POISON_BYTES = 5_000_000
SLUGS = ["meta", "google"]


@pytest.fixture(scope="module")
def big_broker() -> Iterator[str]:
    """A broker of its own whose ``message.max.bytes`` is raised to 8 MiB."""
    with LocalKafka(extra_properties={"message.max.bytes": str(EIGHT_MIB)}) as kafka:
        yield kafka.bootstrap_servers


def read_dlq(bootstrap: str, topic: str) -> list[tuple[dict[str, str], bytes | None]]:
    """(headers, value) of every record in the dead-letter topic."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"probe-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    _, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    consumer.assign([TopicPartition(topic, 0, 0)])
    out: list[tuple[dict[str, str], bytes | None]] = []
    deadline = time.monotonic() + 60
    while len(out) < high and time.monotonic() < deadline:
        for msg in consumer.consume(500, 1.0):
            if msg.error() is None:
                out.append((headers_dict(msg.headers()), msg.value()))
    consumer.close()
    return out


def read_records(bootstrap: str, topic: str) -> list[DlqRecord]:
    """The dead-letter topic's records as `dlq replay` reads them."""
    reader = DlqReader({"bootstrap.servers": bootstrap, "group.id": "oversize-reader"}, topic)
    try:
        reader.plan(use_committed=False)
        return list(reader.read_all(idle_timeout_s=20))
    finally:
        reader.close()


def test_oversized_poison_is_dead_lettered_without_its_value(big_broker: str, tmp_path: Path) -> None:
    scenario = Scenario(big_broker)
    scenario.create_topics(dlq_config={"max.message.bytes": "1048588"})
    scenario.produce(1_500, seed=41)
    big = Producer({"bootstrap.servers": big_broker, "message.max.bytes": EIGHT_MIB + 4096})
    poison_topics = list(scenario.topics)[:2]
    for topic in poison_topics:
        big.produce(topic, value=os.urandom(POISON_BYTES), key=b"poison")
    assert big.flush(60) == 0
    scenario.produce(1_500, seed=42)
    with sandbox_process() as sandbox:
        config = scenario.config(sandbox.base_url, SLUGS, topics={"receipts": f"{scenario.prefix}.receipts"})
        relay = RelayProcess(config, tmp_path, "first")
        try:
            assert wait_until(scenario.fully_committed, timeout=120, interval=1), "lag did not reach 0"
            code, _ = relay.terminate()
            assert code == 0
        finally:
            relay.stop_quietly()
        verdict = verify(scenario, SLUGS, {slug: sandbox.events(slug) for slug in SLUGS})
        assert verdict.missing == []
        assert all(verdict.accepted[slug] == len(scenario.produced) for slug in SLUGS)
        records = read_dlq(big_broker, scenario.dlq)
        assert len(records) == 2
        for headers, value in records:
            assert value is None
            assert headers[H_STAGE] == "decode"
            assert headers[H_VALUE_OMITTED] == "too_large"
            assert int(headers[H_VALUE_BYTES]) == POISON_BYTES
            assert headers[H_TOPIC] in poison_topics and int(headers[H_OFFSET]) >= 0
        originals = read_records(big_broker, scenario.dlq)
        restore_originals({"bootstrap.servers": big_broker}, originals)  # what `dlq replay` does
        assert [len(r.value or b"") for r in originals] == [POISON_BYTES, POISON_BYTES]
        log = relay.log.read_text()
        assert "Task exception was never retrieved" not in log and "Traceback" not in log

        again = RelayProcess(config, tmp_path, "second")
        try:
            assert wait_until(lambda: b"partitions_assigned" in again.log.read_bytes(), timeout=60)
            time.sleep(3)
            code, _ = again.terminate()
            assert code == 0
        finally:
            again.stop_quietly()
        assert len(read_dlq(big_broker, scenario.dlq)) == 2
