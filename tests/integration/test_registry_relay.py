"""`capi-relay run` against a real Schema Registry: events registered with references relayed
end to end, an unknown schema id dead-lettered with its reason, and a registry stopped mid-run
waited out.

Why: these are the three things a registry does to a running relay in production. Each test
uses its own topics and subjects on the session's broker and registry.
"""

from __future__ import annotations

import io
import json
import struct
import time
import uuid
from pathlib import Path
from typing import Any

import fastavro
import pytest
from confluent_kafka import Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from consumer import contract
from consumer.codec import Codec
from consumer.demo import run_demo
from consumer.devtools.apicurio_local import LocalApicurio
from consumer.kafka.dlq import H_REASON, H_STAGE
from consumer.registry import register_shared_type, resolve_writer, shared_types_used
from consumer.sample import SampleGenerator
from sandbox.testing import sandbox_process
from tests.integration.relay_harness import RelayProcess, Scenario, verify, wait_until

pytestmark = pytest.mark.integration

TWO = ["meta", "google"]


def _produce_wire(scenario: Scenario, codec: Codec, ids: dict[str, int], count: int, seed: int) -> None:
    """``count`` sample events in the Confluent wire format under the given schema ids."""
    topic_for = {t: name for name, t in scenario.topics.items()}
    producer = Producer({"bootstrap.servers": scenario.bootstrap, "linger.ms": 20})
    for event in SampleGenerator(seed=seed).events(count, int(time.time() * 1000)):
        scenario.produced[event["event_id"]] = event["type"]
        producer.produce(topic_for[event["type"]], codec.encode(event, ids[event["type"]]), event["event_id"])
    assert producer.flush(30) == 0


def _produce_raw(scenario: Scenario, topic: str, values: list[bytes]) -> None:
    producer = Producer({"bootstrap.servers": scenario.bootstrap})
    for value in values:
        producer.produce(topic, value, b"raw")
    assert producer.flush(30) == 0


def test_events_with_references_relay_end_to_end_and_an_unknown_id_is_dead_lettered(
    kafka_bootstrap: str, schema_registry_url: str, tmp_path: Path
) -> None:
    """Purchase, lead and qualified registered with references reach the sandbox with 0
    dead-letter records; then one message with an unknown schema id gets exactly one, with
    the reason, and the line moves on."""
    scenario = Scenario(kafka_bootstrap, partitions=2)
    scenario.create_topics()
    codec = Codec(SchemaRegistryClient({"url": schema_registry_url}), scenario.topics)
    ids = {t: codec.schema_id_for(t) for t in contract.EVENT_FILES}
    _produce_wire(scenario, codec, ids, 120, seed=31)
    assert set(scenario.produced.values()) == set(contract.EVENT_FILES)
    with sandbox_process(seed=6) as sandbox:
        config = scenario.config(sandbox.base_url, TWO, schema_registry={"url": schema_registry_url})
        relay = RelayProcess(config, tmp_path)
        try:
            assert wait_until(scenario.fully_committed, timeout=120, interval=0.5), relay.log.read_text()[
                -3000:
            ]
            verdict = verify(scenario, TWO, {slug: sandbox.events(slug) for slug in TWO})
            assert verdict.missing == []
            assert scenario.dlq_records() == []
            assert verdict.accepted == {slug: 120 for slug in TWO}

            purchase_topic = next(t for t, kind in scenario.topics.items() if kind == "purchase")
            _produce_raw(scenario, purchase_topic, [struct.pack(">bI", 0, 876_543) + b"\x02x"])
            assert wait_until(scenario.fully_committed, timeout=60, interval=0.5)
            records = scenario.dlq_records()
            assert len(records) == 1
            assert records[0][H_STAGE] == "decode"
            assert "unknown_schema_id" in records[0][H_REASON] and "876543" in records[0][H_REASON]
            assert relay.terminate()[0] == 0
        finally:
            relay.stop_quietly()


def _newer_purchase(client: SchemaRegistryClient, subject: str) -> tuple[int, Any, str]:
    """Register purchase v2 (one optional field more, references as before): a schema id the
    relay has not seen yet. Returns the id, the parsed writer and the new field's name."""
    raw = json.loads((contract.SCHEMA_DIR / "purchase.avsc").read_text())
    refs = [register_shared_type(client, name) for name in shared_types_used(json.dumps(raw))]
    # a field name of its own: the registry gives identical content the id it already has
    extra = {"name": f"note_{uuid.uuid4().hex[:8]}", "type": ["null", "string"], "default": None}
    newer = dict(raw, fields=[*raw["fields"], extra])
    schema_id = client.register_schema(subject, Schema(json.dumps(newer), "AVRO", refs))
    return schema_id, resolve_writer(client, client.get_schema(schema_id))[1], extra["name"]


def test_registry_stopped_mid_run_makes_the_relay_wait_then_go_on(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The registry is stopped while the relay meets a schema id it has not cached yet: the
    relay waits (no dead letter, no commit past the message) and goes on once the registry is
    back. A registry of its own, keeping its schemas in a file, so it can stop and restart."""
    scenario = Scenario(kafka_bootstrap, partitions=1)
    scenario.create_topics()
    purchase_topic = next(t for t, kind in scenario.topics.items() if kind == "purchase")
    with LocalApicurio(persistent=True) as registry, sandbox_process(seed=7) as sandbox:
        client = SchemaRegistryClient({"url": registry.url})
        codec = Codec(client, scenario.topics)
        ids = {t: codec.schema_id_for(t) for t in contract.EVENT_FILES}
        _produce_wire(scenario, codec, ids, 30, seed=32)
        config = scenario.config(sandbox.base_url, ["meta"], schema_registry={"url": registry.url})
        relay = RelayProcess(config, tmp_path)
        try:
            assert wait_until(scenario.fully_committed, timeout=120, interval=0.5), relay.log.read_text()[
                -3000:
            ]
            new_id, writer, field = _newer_purchase(client, f"{purchase_topic}-value")
            registry.kill()
            generator = SampleGenerator(seed=33)
            values = []
            for event in [generator.purchase(int(time.time() * 1000)) for _ in range(5)]:
                scenario.produced[event["event_id"]] = "purchase"
                buf = io.BytesIO(struct.pack(">bI", 0, new_id))
                buf.seek(5)
                fastavro.schemaless_writer(
                    buf, writer, {k: v for k, v in event.items() if k != "type"} | {field: "x"}
                )
                values.append(buf.getvalue())
            _produce_raw(scenario, purchase_topic, values)
            assert wait_until(
                lambda: relay.log.read_text().count("schema_registry_unavailable") >= 2, 60, 0.2
            )
            assert relay.alive()
            assert not scenario.fully_committed()
            assert scenario.dlq_records() == []
            registry.start_again()
            assert wait_until(scenario.fully_committed, timeout=90, interval=0.5), relay.log.read_text()[
                -3000:
            ]
            assert relay.terminate()[0] == 0
        finally:
            relay.stop_quietly()
        verdict = verify(scenario, ["meta"], {"meta": sandbox.events("meta")})
    assert verdict.missing == []
    assert scenario.dlq_records() == []
    assert verdict.accepted == {"meta": 35}


def test_demo_with_registry_relays_everything(capsys: pytest.CaptureFixture[str]) -> None:
    """`capi-relay demo --registry`: its own broker and registry, wire format, nothing lost."""
    assert run_demo(events=200, platforms=["meta"], registry=True) == 0
    out = capsys.readouterr()
    assert "meta" in out.out and "wire format" in out.err
