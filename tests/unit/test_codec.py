"""Codec: wire format and plain Avro, schema evolution both ways, and bad bytes."""

from __future__ import annotations

import contextlib
import io
import json
import struct
import time

import fastavro
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from hypothesis import given, settings
from hypothesis import strategies as st

from consumer import contract
from consumer.codec import Codec, DecodeError
from consumer.sample import SampleGenerator

NOW = int(time.time() * 1000)
TOPICS = {v: k for k, v in contract.DEFAULT_TOPICS.items()}


@pytest.fixture(scope="module")
def registry() -> SchemaRegistryClient:
    return SchemaRegistryClient.new_client({"url": "mock://codec-tests"})


@pytest.fixture(scope="module")
def wire(registry: SchemaRegistryClient) -> tuple[Codec, dict[str, int]]:
    codec = Codec(registry)
    return codec, {t: codec.schema_id_for(t) for t in contract.EVENT_FILES}


def test_roundtrip_every_type_both_framings(wire: tuple[Codec, dict[str, int]]) -> None:
    codec, ids = wire
    plain = Codec()
    for event in SampleGenerator(seed=3).events(300, NOW):
        topic = TOPICS[event["type"]]
        assert codec.decode(topic, codec.encode(event, ids[event["type"]])) == event
        assert plain.decode(topic, plain.encode(event)) == event


def _newer_schema(event_type: str) -> dict:
    schema = json.loads(contract.schema_json(event_type))
    schema["fields"].append(
        {"name": "coupon_code", "type": ["null", "string"], "default": None, "doc": "added later"}
    )
    return schema


def test_newer_writer_decodes_with_current_reader(registry: SchemaRegistryClient) -> None:
    newer = _newer_schema("purchase")
    schema_id = registry.register_schema("evolution-purchase-value", Schema(json.dumps(newer), "AVRO"))
    event = SampleGenerator(seed=5).purchase(NOW)
    body = {k: v for k, v in event.items() if k != "type"} | {"coupon_code": "WINTER"}
    buf = io.BytesIO()
    buf.write(struct.pack(">bI", 0, schema_id))
    fastavro.schemaless_writer(buf, fastavro.parse_schema(newer), body)
    decoded = Codec(registry).decode("events.purchase", buf.getvalue())
    assert decoded == event  # the unknown field is ignored by the current reader


def test_current_writer_decodes_with_newer_reader() -> None:
    event = SampleGenerator(seed=6).lead(NOW)
    data = Codec().encode(event)
    reader = fastavro.parse_schema(_newer_schema("lead"))
    record = fastavro.schemaless_reader(io.BytesIO(data), contract.parsed_schema("lead"), reader)
    assert record["coupon_code"] is None
    assert record["event_id"] == event["event_id"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"\x01\x00\x00\x00\x01abc", "bad_magic_byte"),
        (b"\x00\x00\x00\x7f\xffabc", "unknown_schema_id"),
        (b"\x00\x00", "truncated"),
        (b"", "empty"),
    ],
)
def test_named_wire_failures(wire: tuple[Codec, dict[str, int]], value: bytes, reason: str) -> None:
    codec, _ = wire
    with pytest.raises(DecodeError) as info:
        codec.decode("events.purchase", value)
    assert info.value.reason == reason


def test_truncated_body_and_wrong_topic(wire: tuple[Codec, dict[str, int]]) -> None:
    codec, ids = wire
    event = SampleGenerator(seed=8).purchase(NOW)
    data = codec.encode(event, ids["purchase"])
    with pytest.raises(DecodeError) as info:
        codec.decode("events.purchase", data[: len(data) // 2])
    assert info.value.reason in {"truncated", "malformed"}
    with pytest.raises(DecodeError) as info:
        codec.decode("events.lead", data)
    assert info.value.reason == "schema_mismatch"


_FUZZ_CODECS = (Codec(SchemaRegistryClient.new_client({"url": "mock://codec-fuzz"})), Codec())
_FUZZ_RECORD = Codec().encode(SampleGenerator(seed=9).purchase(NOW))


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_only_raise_decode_error(data: bytes) -> None:
    for codec in _FUZZ_CODECS:
        with contextlib.suppress(DecodeError):
            codec.decode("events.purchase", data)


@settings(max_examples=1000, deadline=None)
@given(st.integers(min_value=0, max_value=2000), st.binary(max_size=8))
def test_mutated_valid_records_only_raise_decode_error(cut: int, junk: bytes) -> None:
    codec = _FUZZ_CODECS[1]
    data = _FUZZ_RECORD
    mutated = data[:cut] + junk + data[cut + len(junk) :]
    with contextlib.suppress(DecodeError):
        codec.decode("events.purchase", mutated)
