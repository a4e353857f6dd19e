"""The receipt schema (`schemas/receipt.avsc`) and its two framings, like the events': plain
Avro without a Schema Registry, the Confluent wire format (registered under ``<topic>-value``)
with one."""

from __future__ import annotations

import io
import json
import struct
from datetime import datetime
from functools import cache
from typing import Any

import fastavro

from consumer import contract
from consumer.receipts.fastenc import Encoder, Unsupported, compile_record

RECEIPT_FILE = "receipt.avsc"
_HEADER = struct.Struct(">bI")


@cache
def receipt_schema_json() -> str:
    """The schema as registered (self-contained: it uses no shared named types)."""
    return (contract.SCHEMA_DIR / RECEIPT_FILE).read_text(encoding="utf-8")


@cache
def parsed_receipt_schema() -> Any:
    """The parsed schema fastavro reads and writes with."""
    return fastavro.parse_schema(json.loads(receipt_schema_json()))


# Fields appended to the schema after its first version, oldest first. Plain framing carries no
# schema id, so a receipt written before a field existed ends where that field would start.
APPENDED_FIELDS = ("replay_of", "retry")


@cache
def earlier_receipt_schemas() -> tuple[Any, ...]:
    """Writer schemas of the earlier versions (newest first), to read plain receipts they wrote."""
    schema = json.loads(receipt_schema_json())
    earlier: list[Any] = []
    for name in reversed(APPENDED_FIELDS):
        schema = {**schema, "fields": [f for f in schema["fields"] if f["name"] != name]}
        earlier.append(fastavro.parse_schema(schema))
    return tuple(earlier)


def _read_plain(value: bytes) -> Any:
    """A plain (registry-less) receipt of this or an earlier schema version; the missing
    appended fields take their defaults."""
    try:
        return fastavro.schemaless_reader(io.BytesIO(value), parsed_receipt_schema(), None)
    except EOFError:
        for writer in earlier_receipt_schemas():
            try:
                return fastavro.schemaless_reader(io.BytesIO(value), writer, parsed_receipt_schema())
            except EOFError:
                continue
        raise


# Receipt fields with a handful of distinct values, whose Avro encodings are cached.
VOCABULARY = frozenset(
    {
        "event_type",
        "platform",
        "outcome",
        "stage",
        "code",
        "match_keys",
        "enrichment_added",
        "source_topic",
        "dlq_topic",
        "replay_of.topic",
    }
)


@cache
def fast_receipt_encoder() -> Encoder | None:
    """The specialised encoder of the receipt schema (None if the schema outgrew it)."""
    return compile_record(json.loads(receipt_schema_json()), VOCABULARY)


class ReceiptCodec:
    """Encodes receipt dicts; ``registry`` (a Schema Registry client) switches to the wire format."""

    def __init__(self, registry: Any = None, topic: str = "capi.receipts") -> None:
        self._registry = registry
        self._subject = f"{topic}-value"
        self._schema_id: int | None = None

    def _id(self) -> int:
        if self._schema_id is None:
            from confluent_kafka.schema_registry import Schema

            self._schema_id = int(
                self._registry.register_schema(self._subject, Schema(receipt_schema_json(), "AVRO"))
            )
        return self._schema_id

    def framing(self) -> bytes:
        """What comes before each record's Avro body: the wire format's magic byte and schema id
        (registering the schema on first use), or nothing without a registry."""
        return _HEADER.pack(0, self._id()) if self._registry is not None else b""

    def encode(self, receipt: dict[str, Any]) -> bytes:
        """One receipt dict -> bytes (missing optional fields take their defaults)."""
        header = self.framing()
        fast = fast_receipt_encoder()
        if fast is not None:
            try:
                return header + fast(receipt)
            except Unsupported:
                pass  # an unusual value (e.g. a datetime): fastavro decides
        buf = io.BytesIO()
        buf.write(header)
        fastavro.schemaless_writer(buf, parsed_receipt_schema(), receipt)
        return buf.getvalue()

    def decode(self, value: bytes) -> dict[str, Any]:
        """Bytes -> receipt dict; the wire format is detected when a registry is configured
        (the writer schema is fetched by id, so older/newer receipt versions resolve)."""
        if self._registry is None:
            return _as_dict(_read_plain(value))
        _magic, schema_id = _HEADER.unpack_from(value)
        writer = fastavro.parse_schema(json.loads(self._registry.get_schema(schema_id).schema_str))
        buf = io.BytesIO(value)
        buf.seek(_HEADER.size)
        return _as_dict(fastavro.schemaless_reader(buf, writer, parsed_receipt_schema()))


def _as_dict(record: Any) -> dict[str, Any]:
    """Timestamps back to epoch ms (fastavro turns timestamp-millis into datetimes)."""
    if not isinstance(record, dict):
        raise ValueError("receipt did not decode to a record")
    for name, value in record.items():
        if isinstance(value, datetime):
            record[name] = int(value.timestamp() * 1000)
        elif isinstance(value, dict):  # a nested record (retry): its timestamps too
            _as_dict(value)
    return record
