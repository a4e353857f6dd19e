"""The generated event reader returns exactly what fastavro returns — on any record of the
contract's schemas, and on corrupted bytes whenever it returns at all (otherwise it says
`Unreadable` and the codec asks fastavro, whose errors stay the codec's)."""

from __future__ import annotations

import io
import struct
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consumer import contract
from consumer.codec import Codec, DecodeError
from consumer.fastdec import Unreadable, compile_reader

TYPES = ("purchase", "lead", "qualified", contract.CAPTURE_TYPE)


def _values(schema: Any, named: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of an Avro schema (fastavro-parsed: named types referenced by full name)."""
    if isinstance(schema, list):
        return st.one_of([_values(branch, named) for branch in schema])
    if isinstance(schema, str):
        if schema in named:
            return _values(named[schema], named)
        schema = {"type": schema}
    kind = schema["type"]
    simple: dict[str, st.SearchStrategy[Any]] = {
        "null": st.none(),
        "boolean": st.booleans(),
        "int": st.integers(-(2**31), 2**31 - 1),
        "long": st.integers(-(2**63), 2**63 - 1),
        "float": st.floats(width=32, allow_nan=False),
        "double": st.floats(allow_nan=False),
        "string": st.text(max_size=20),
        "bytes": st.binary(max_size=20),
    }
    if kind in simple:
        return simple[kind]
    if kind == "enum":
        named[schema["name"]] = schema
        return st.sampled_from(schema["symbols"])
    if kind == "array":
        return st.lists(_values(schema["items"], named), max_size=3)
    assert kind == "record", kind
    named[schema["name"]] = schema
    return st.fixed_dictionaries({f["name"]: _values(f["type"], named) for f in schema["fields"]})


def _fastavro(schema: Any, data: bytes) -> tuple[Any, int]:
    buf = io.BytesIO(data)
    return fastavro.schemaless_reader(buf, schema, None), buf.tell()


@st.composite
def encoded(draw: st.DrawFn) -> tuple[str, bytes]:
    event_type = draw(st.sampled_from(TYPES))
    schema = contract.parsed_schema(event_type)
    record = draw(_values(schema, {}))
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, record)
    return event_type, buf.getvalue()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(encoded())
def test_any_record_reads_as_fastavro_reads_it(case: tuple[str, bytes]) -> None:
    event_type, data = case
    schema = contract.parsed_schema(event_type)
    reader = compile_reader(schema)
    assert reader is not None
    assert reader(data, 0) == _fastavro(schema, data)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(encoded(), st.data())
def test_corrupted_bytes_read_as_fastavro_reads_them_or_not_at_all(
    case: tuple[str, bytes], data: st.DataObject
) -> None:
    event_type, clean = case
    raw = bytearray(clean)
    for _ in range(data.draw(st.integers(1, 3))):
        if raw and data.draw(st.booleans()):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
        else:
            cut = data.draw(st.integers(0, len(raw)))
            raw[cut:cut] = data.draw(st.binary(max_size=3))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    corrupted = bytes(raw)
    schema = contract.parsed_schema(event_type)
    reader = compile_reader(schema)
    assert reader is not None
    try:
        fast = reader(corrupted, 0)
    except Unreadable:
        return  # the codec asks fastavro
    assert fast == _fastavro(schema, corrupted)


def test_shapes_beyond_the_contract() -> None:
    """Unions of several branches, arrays written in blocks with a byte size (negative count),
    floats and bytes; maps, fixed and logical types are left to fastavro."""
    schema = fastavro.parse_schema(
        {
            "type": "record",
            "name": "T",
            "fields": [
                {"name": "u", "type": ["null", "int", "string", {"type": "array", "items": "long"}]},
                {"name": "a", "type": {"type": "array", "items": "float"}},
                {"name": "b", "type": "bytes"},
            ],
        }
    )
    reader = compile_reader(schema)
    assert reader is not None
    for value in (None, -7, "x", [1, -(2**63)]):
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, schema, {"u": value, "a": [1.5, -2.0], "b": b"\x00\xff"})
        assert reader(buf.getvalue(), 0) == _fastavro(schema, buf.getvalue())
    # an array as one block of -2 items with its byte size (8), then the end block
    blocked = b"\x00" + b"\x03" + b"\x10" + struct.pack("<ff", 1.0, 2.0) + b"\x00" + b"\x00"
    assert reader(blocked, 0) == _fastavro(schema, blocked) == ({"u": None, "a": [1.0, 2.0], "b": b""}, 13)
    for other in (
        {"type": "map", "values": "string"},
        {"type": "fixed", "name": "F", "size": 2},
        {"type": "long", "logicalType": "timestamp-millis"},
    ):
        shaped = {"type": "record", "name": "R", "fields": [{"name": "x", "type": other}]}
        assert compile_reader(fastavro.parse_schema(shaped)) is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [(b"\x00", "truncated"), (b"\x06", "truncated")],
)
def test_the_codec_keeps_fastavros_errors(value: bytes, reason: str) -> None:
    """What the generated reader cannot read is decoded by fastavro, which names the error."""
    with pytest.raises(DecodeError) as raised:
        Codec(None).decode("events.purchase", value)
    assert raised.value.reason == reason


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(encoded())
def test_the_codec_reads_through_it_and_refuses_trailing_bytes(case: tuple[str, bytes]) -> None:
    event_type, data = case
    codec = Codec(None)
    if event_type == contract.CAPTURE_TYPE:
        decode = codec.decode_capture
        expected = _fastavro(contract.parsed_schema(event_type), data)[0]
    else:
        topic = next(t for t, kind in contract.DEFAULT_TOPICS.items() if kind == event_type)
        decode = lambda value: codec.decode(topic, value)  # noqa: E731
        expected = {**_fastavro(contract.parsed_schema(event_type), data)[0], "type": event_type}
    assert decode(data) == expected
    with pytest.raises(DecodeError) as raised:
        decode(data + b"\x00")
    assert raised.value.reason == "trailing_bytes"
