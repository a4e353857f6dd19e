"""The specialised receipt encoder writes exactly fastavro's bytes, and hands anything unusual
back to fastavro (so defaults and errors are fastavro's)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import fastavro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consumer.receipts.codec import ReceiptCodec, fast_receipt_encoder, parsed_receipt_schema
from consumer.receipts.fastenc import Unsupported, compile_record, varint


def _fastavro(record: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, parsed_receipt_schema(), record)
    return buf.getvalue()


_text = st.text(max_size=40)
_long = st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1)
_int = st.integers(min_value=-(1 << 31), max_value=(1 << 31) - 1)
_names = st.lists(st.sampled_from(["email", "phone", "ip_ua", "fbc", "gclid", "näme"]) | _text, max_size=6)

receipts = st.fixed_dictionaries(
    {
        "event_id": st.none() | _text,
        "event_type": st.none() | st.sampled_from(["purchase", "lead", "qualified"]),
        "platform": st.sampled_from(["meta", "google", "tiktok", "_decode"]) | _text,
        "outcome": st.sampled_from(["delivered", "rejected", "exhausted", "auth"]),
        "stage": st.sampled_from(["decode", "map", "deliver", "ledger"]),
        "duplicate": st.booleans(),
        "attempts": _int,
        "first_attempt_ms": st.none() | _long,
        "last_attempt_ms": st.none() | _long,
        "http_status": st.none() | _int,
        "platform_ref": st.none() | _text,
        "reason": st.none() | _text,
        "code": st.none() | _text,
        "match_keys": _names,
        "enrichment_added": _names,
        "event_time_ms": st.none() | _long,
        "source_topic": _text,
        "source_partition": _int,
        "source_offset": _long,
        "dlq_topic": st.none() | _text,
        "dlq_partition": st.none() | _int,
        "dlq_offset": st.none() | _long,
        "receipt_time_ms": _long,
    }
)


def test_the_receipt_schema_compiles() -> None:
    assert fast_receipt_encoder() is not None


@settings(max_examples=300, deadline=None)
@given(receipts, st.lists(st.sampled_from(["event_id", "reason", "match_keys", "attempts"]), max_size=4))
def test_same_bytes_as_fastavro(record: dict[str, Any], omit: list[str]) -> None:
    for name in omit:  # optional fields may be left out: both take the schema's default
        record.pop(name, None)
    encoder = fast_receipt_encoder()
    assert encoder is not None
    assert encoder(record) == _fastavro(record)
    assert encoder(record) == _fastavro(record)  # again, now from the vocabulary cache


@given(st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1))
def test_varint_matches_fastavro(n: int) -> None:
    schema = fastavro.parse_schema({"type": "long"})
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, n)
    assert varint(n) == buf.getvalue()


def _base_receipt() -> dict[str, Any]:
    return {
        "event_id": "e1",
        "platform": "meta",
        "outcome": "delivered",
        "stage": "deliver",
        "duplicate": False,
        "source_topic": "t",
        "source_partition": 0,
        "source_offset": 5,
        "receipt_time_ms": 1_700_000_000_000,
    }


def test_unusual_values_fall_back_to_fastavro() -> None:
    encoder = fast_receipt_encoder()
    assert encoder is not None
    record = _base_receipt() | {"event_time_ms": datetime(2024, 1, 2, tzinfo=UTC)}
    with pytest.raises(Unsupported):
        encoder(record)
    codec = ReceiptCodec()
    assert codec.encode(record) == _fastavro(record)
    assert codec.decode(codec.encode(record))["event_time_ms"] == 1_704_153_600_000


def test_missing_required_field_is_fastavros_error() -> None:
    record = _base_receipt()
    del record["platform"]
    with pytest.raises(Exception) as fast_error:
        ReceiptCodec().encode(record)
    with pytest.raises(Exception) as slow_error:
        _fastavro(record)
    assert type(fast_error.value) is type(slow_error.value)


def test_unsupported_schema_shapes_are_refused() -> None:
    base = json.loads('{"type": "record", "name": "R", "fields": []}')
    for field_type in ("double", {"type": "map", "values": "string"}, ["null", "string", "int"]):
        schema = base | {"fields": [{"name": "f", "type": field_type}]}
        assert compile_record(schema) is None
    assert compile_record({"type": "enum", "name": "E", "symbols": ["A"]}) is None
