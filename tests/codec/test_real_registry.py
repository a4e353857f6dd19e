"""The codec against a real Schema Registry (Apicurio's Confluent-compatible API).

Why: the ``mock://`` client accepts whatever it is given; a real registry serves event schemas
that refer to shared types registered as their own subjects, enforces compatibility levels,
answers 404 for unknown ids and may demand credentials. Each test uses its own subjects.
"""

from __future__ import annotations

import io
import json
import struct
import time
import uuid
from typing import Any

import fastavro
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from consumer import contract
from consumer.builders import registry_client
from consumer.codec import Codec, DecodeError, RegistryUnavailableError
from consumer.config import ConfigError, load_settings
from consumer.registry import register_shared_type, resolve_writer, shared_types_used
from consumer.sample import SampleGenerator
from tests.codec.registry_proxy import RegistryProxy

pytestmark = pytest.mark.integration

NOW = int(time.time() * 1000)


def _topics() -> dict[str, str]:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    return {f"{prefix}.{t}": t for t in contract.EVENT_FILES}


def _topic_of(topics: dict[str, str], event_type: str) -> str:
    return next(t for t, kind in topics.items() if kind == event_type)


def _body(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != "type"}


@pytest.fixture
def client(schema_registry_url: str) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": schema_registry_url})


def test_events_registered_with_references_decode_like_confluents_deserializer(
    client: SchemaRegistryClient, schema_registry_url: str
) -> None:
    """Shared types are subjects of their own, event schemas refer to them; a relay with a cold
    cache decodes every event exactly as confluent-kafka's AvroDeserializer does."""
    topics = _topics()
    producer = Codec(client, topics)
    ids = {t: producer.schema_id_for(t) for t in contract.EVENT_FILES}
    subjects = set(client.get_subjects())
    assert {f"{contract.NAMESPACE}.{name}" for name in contract.COMMON_TYPES} <= subjects
    assert {f"{topic}-value" for topic in topics} <= subjects  # TopicNameStrategy
    purchase_refs = {ref.name for ref in client.get_schema(ids["purchase"]).references or []}
    assert f"{contract.NAMESPACE}.Item" in purchase_refs and len(purchase_refs) == 5

    relay = Codec(SchemaRegistryClient({"url": schema_registry_url}), topics)
    theirs = AvroDeserializer(SchemaRegistryClient({"url": schema_registry_url}))
    for event in SampleGenerator(seed=11).events(90, NOW):
        topic = _topic_of(topics, event["type"])
        data = producer.encode(event, ids[event["type"]])
        assert relay.decode(topic, data) == event
        assert theirs(data, SerializationContext(topic, MessageField.VALUE)) == _body(event)


def test_resolved_writer_equal_to_ours_takes_the_fast_path(client: SchemaRegistryClient) -> None:
    """A writer registered with references is, once resolved, our reader schema: no writer->reader
    resolution per message (that is what keeps decoding as fast as with inlined schemas)."""
    topics = _topics()
    codec = Codec(client, topics)
    schema_id = codec.schema_id_for("qualified")
    event = SampleGenerator(seed=12).qualified(NOW)
    Codec(client, topics).decode(_topic_of(topics, "qualified"), codec.encode(event, schema_id))
    fresh = Codec(client, topics)
    assert fresh._writer(schema_id).reader is None


def _with_field(schema: dict[str, Any], field: dict[str, Any]) -> dict[str, Any]:
    return dict(schema, fields=[*schema["fields"], field])


def _without_field(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(schema, fields=[f for f in schema["fields"] if f["name"] != name])


def _framed(schema_id: int, writer: Any, body: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    buf.write(struct.pack(">bI", 0, schema_id))
    fastavro.schemaless_writer(buf, writer, body)
    return buf.getvalue()


def test_evolution_both_ways_under_backward_then_full(client: SchemaRegistryClient) -> None:
    """BACKWARD: an optional new field is accepted and read both ways, a new required field is
    refused. FULL: another optional field is accepted, removing a required field is refused."""
    topics = _topics()
    topic = _topic_of(topics, "purchase")
    subject = f"{topic}-value"
    codec = Codec(client, topics)
    v1_id = codec.schema_id_for("purchase")
    raw = json.loads((contract.SCHEMA_DIR / "purchase.avsc").read_text())
    refs = [register_shared_type(client, name) for name in shared_types_used(json.dumps(raw))]

    def register(schema: dict[str, Any]) -> int:
        return int(client.register_schema(subject, Schema(json.dumps(schema), "AVRO", refs)))

    client.set_compatibility(subject, "BACKWARD")
    assert client.get_compatibility(subject) == "BACKWARD"
    v2 = _with_field(raw, {"name": "coupon_code", "type": ["null", "string"], "default": None})
    v2_id = register(v2)
    event = SampleGenerator(seed=5).purchase(NOW)
    # a new writer read by the old reader (the relay's contract): the new field is dropped
    _, v2_writer = resolve_writer(client, client.get_schema(v2_id))
    new_bytes = _framed(v2_id, v2_writer, _body(event) | {"coupon_code": "WINTER"})
    assert Codec(client, topics).decode(topic, new_bytes) == event
    # an old writer read by the new reader: the new field takes its default
    _, v1_writer = resolve_writer(client, client.get_schema(v1_id))
    old_body = io.BytesIO(codec.encode(event, v1_id)[5:])
    record = fastavro.schemaless_reader(old_body, v1_writer, v2_writer)
    assert record["coupon_code"] is None and record["event_id"] == event["event_id"]
    with pytest.raises(SchemaRegistryError) as refused:
        register(_with_field(v2, {"name": "store_id", "type": "string"}))
    assert refused.value.http_status_code == 409

    client.set_compatibility(subject, "FULL")
    assert client.get_compatibility(subject) == "FULL"
    v3 = _with_field(v2, {"name": "channel", "type": ["null", "string"], "default": None})
    v3_id = register(v3)
    _, v3_writer = resolve_writer(client, client.get_schema(v3_id))
    newest = _framed(v3_id, v3_writer, _body(event) | {"coupon_code": None, "channel": "web"})
    assert Codec(client, topics).decode(topic, newest) == event
    with pytest.raises(SchemaRegistryError) as refused:
        register(_without_field(v3, "event_id"))  # old readers could not read it any more
    assert refused.value.http_status_code == 409


def test_unknown_schema_id_is_a_decode_error_naming_it(client: SchemaRegistryClient) -> None:
    """The registry answers 404: the message's fault, dead-lettered with reason unknown_schema_id."""
    value = struct.pack(">bI", 0, 987_654) + b"\x02x"
    with pytest.raises(DecodeError) as caught:
        Codec(client).decode("events.purchase", value)
    assert caught.value.reason == "unknown_schema_id"
    assert "987654" in str(caught.value)


def test_basic_auth_from_the_named_environment_variable_reaches_the_registry(
    schema_registry_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The relay's client sends the credentials of ``basic_auth_user_info_env``; a client
    without them is refused, which is the registry's problem, not the message's (no DLQ)."""
    topics = _topics()
    topic = _topic_of(topics, "lead")
    with RegistryProxy(schema_registry_url, user="relay", password="pa:ss") as proxy:
        monkeypatch.setenv("TEST_REGISTRY_USER_INFO", "relay:pa:ss")
        settings = load_settings(
            schema_registry={"url": proxy.url, "basic_auth_user_info_env": "TEST_REGISTRY_USER_INFO"}
        )
        producer = Codec(registry_client(settings), topics)
        event = SampleGenerator(seed=8).lead(NOW)
        data = producer.encode(event, producer.schema_id_for("lead"))
        assert Codec(registry_client(settings), topics).decode(topic, data) == event
        assert proxy.refused == 0 and proxy.forwarded > 0
        assert all(a is not None and a.startswith("Basic ") for a in proxy.authorizations)

        anonymous = Codec(SchemaRegistryClient({"url": proxy.url}), topics)
        with pytest.raises(RegistryUnavailableError):
            anonymous.decode(topic, data)
        assert proxy.refused >= 1


def test_named_credentials_variable_must_be_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing secret fails at start with one line naming the variable (exit 2 in the CLI)."""
    monkeypatch.delenv("TEST_REGISTRY_ABSENT", raising=False)
    with pytest.raises(ConfigError, match="TEST_REGISTRY_ABSENT is not set"):
        load_settings(schema_registry={"url": "http://x", "basic_auth_user_info_env": "TEST_REGISTRY_ABSENT"})
    monkeypatch.setenv("TEST_REGISTRY_ABSENT", "no-colon")
    with pytest.raises(ConfigError, match="not user:password"):
        load_settings(schema_registry={"url": "http://x", "basic_auth_user_info_env": "TEST_REGISTRY_ABSENT"})
