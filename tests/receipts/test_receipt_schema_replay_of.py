"""`replay_of`, the one field added to the receipt schema for `dlq replay`: compatible both ways,
encoded by the schema-compiled encoder byte for byte like fastavro, and plain receipts written
before it existed still decode (with null)."""

from __future__ import annotations

import io
import json
from typing import Any

import fastavro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consumer.receipts.codec import (
    ReceiptCodec,
    earlier_receipt_schemas,
    fast_receipt_encoder,
    parsed_receipt_schema,
    receipt_schema_json,
)
from consumer.receipts.fastenc import Unsupported, compile_record

BASE: dict[str, Any] = {
    "event_id": "ORD-1",
    "event_type": "purchase",
    "platform": "meta",
    "outcome": "delivered",
    "stage": "deliver",
    "match_keys": ["email"],
    "source_topic": "events.purchase",
    "source_partition": 1,
    "source_offset": 42,
    "receipt_time_ms": 1_700_000_000_000,
}


def _read(data: bytes, writer: Any, reader: Any = None) -> dict[str, Any]:
    record = fastavro.schemaless_reader(io.BytesIO(data), writer, reader)
    assert isinstance(record, dict)
    return record


def _fastavro(record: dict[str, Any], schema: Any = None) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema or parsed_receipt_schema(), record)
    return buf.getvalue()


_int = st.integers(min_value=-(1 << 31), max_value=(1 << 31) - 1)
_long = st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1)
_replay_of = st.none() | st.fixed_dictionaries(
    {
        "topic": st.sampled_from(["capi.dlq", "dlq-ä"]) | st.text(max_size=20),
        "partition": _int,
        "offset": _long,
    },
    optional={"replay": _int},  # left out: the schema's default (1)
)


def test_the_field_is_optional_with_a_null_default() -> None:
    field = next(f for f in json.loads(receipt_schema_json())["fields"] if f["name"] == "replay_of")
    assert field["type"][0] == "null" and field["default"] is None and field["doc"]
    names = [f["name"] for f in field["type"][1]["fields"]]
    assert names == ["topic", "partition", "offset", "replay"]


def test_the_schema_still_compiles_to_the_fast_encoder() -> None:
    assert fast_receipt_encoder() is not None


@settings(max_examples=200, deadline=None)
@given(_replay_of, st.booleans())
def test_same_bytes_as_fastavro(replay_of: dict[str, Any] | None, omit: bool) -> None:
    record = dict(BASE)
    if not omit:
        record["replay_of"] = replay_of
    encoder = fast_receipt_encoder()
    assert encoder is not None
    assert encoder(record) == _fastavro(record)
    assert encoder(record) == _fastavro(record)  # again, from the vocabulary cache


def test_round_trip() -> None:
    codec = ReceiptCodec()
    of = {"topic": "capi.dlq", "partition": 0, "offset": 17, "replay": 2}
    assert codec.decode(codec.encode(BASE | {"replay_of": of}))["replay_of"] == of
    assert codec.decode(codec.encode(BASE))["replay_of"] is None


def test_unusual_nested_values_are_fastavros_business() -> None:
    encoder = fast_receipt_encoder()
    assert encoder is not None
    for bad in (
        {"topic": "capi.dlq", "partition": 0},
        ("capi.dlq", 0, 17),
        {"topic": 1, "partition": 0, "offset": 1},
    ):
        with pytest.raises(Unsupported):
            encoder(BASE | {"replay_of": bad})
        with pytest.raises(Exception) as fast_error:
            ReceiptCodec().encode(BASE | {"replay_of": bad})
        with pytest.raises(Exception) as slow_error:
            _fastavro(BASE | {"replay_of": bad})
        assert type(fast_error.value) is type(slow_error.value)


def test_plain_receipts_of_the_earlier_schema_still_decode() -> None:
    earlier = earlier_receipt_schemas()[-1]  # the first version, before replay_of
    old_bytes = _fastavro(BASE, earlier)
    decoded = ReceiptCodec().decode(old_bytes)
    assert decoded["replay_of"] is None and decoded["source_offset"] == 42
    # ... and an old reader reads new receipts (the field is appended: it just stops before it).
    new_bytes = ReceiptCodec().encode(BASE | {"replay_of": {"topic": "d", "partition": 0, "offset": 1}})
    assert _read(new_bytes, earlier)["source_offset"] == 42


def test_schema_resolution_both_ways() -> None:
    earlier = earlier_receipt_schemas()[-1]  # the first version, before replay_of
    new = parsed_receipt_schema()
    old_bytes = _fastavro(BASE, earlier)
    assert _read(old_bytes, earlier, new)["replay_of"] is None
    new_bytes = _fastavro(BASE | {"replay_of": {"topic": "d", "partition": 3, "offset": 9}})
    assert "replay_of" not in _read(new_bytes, new, earlier)


def test_nested_records_compile_generally() -> None:
    inner = {
        "type": "record",
        "name": "In",
        "fields": [{"name": "a", "type": "string"}, {"name": "b", "type": ["null", "long"], "default": None}],
    }
    schema = {
        "type": "record",
        "name": "Out",
        "fields": [
            {"name": "x", "type": inner},
            {"name": "y", "type": ["null", {**inner, "name": "In2"}], "default": None},
        ],
    }
    encoder = compile_record(schema, frozenset({"x.a"}))
    assert encoder is not None
    parsed = fastavro.parse_schema(schema)
    for record in ({"x": {"a": "q"}}, {"x": {"a": "q", "b": 5}, "y": {"a": "r", "b": None}}):
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, parsed, record)
        assert encoder(record) == buf.getvalue()
    bad = {
        **schema,
        "fields": [{"name": "x", "type": {**inner, "fields": [{"name": "d", "type": "double"}]}}],
    }
    assert compile_record(bad) is None
    by_name = {**schema, "fields": [{"name": "x", "type": inner}, {"name": "y", "type": "In"}]}
    assert compile_record(by_name) is None  # named-type references are not followed: fastavro's job
