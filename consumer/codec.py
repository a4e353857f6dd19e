"""Bytes -> business event, and back for producers and tests.

Two framings: the Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro body)
whose writer schema comes from a Schema Registry, and plain Avro whose writer schema is the
local `schemas/` file for the topic. The 5-byte header is parsed here and fastavro is called
directly: confluent-kafka's AvroDeserializer is several times slower on the hot path.

Every failure that is the message's fault raises one `DecodeError` naming what was wrong, so the
engine can dead-letter it (stage "decode") and move on. A registry that cannot be reached is not
the message's fault: that raises `RegistryUnavailableError` and the engine retries.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import fastavro
from confluent_kafka.schema_registry.error import SchemaRegistryError

from consumer import contract
from consumer.fastdec import Reader, Unreadable, compile_reader
from consumer.registry import SubjectStrategy, register_contract_schema, resolve_writer, subject_name

MAGIC_BYTE = 0
_HEADER = struct.Struct(">bI")


class DecodeError(Exception):
    """A message that cannot become an event. ``reason`` is a short stable code for metrics and
    DLQ headers (bad_magic_byte, unknown_schema_id, truncated, trailing_bytes, schema_mismatch,
    malformed, unknown_topic); the message says what exactly was wrong."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


class RegistryUnavailableError(Exception):
    """The Schema Registry could not answer (network, 5xx): retry later, do not dead-letter."""


class RegistryClient(Protocol):
    """The part of confluent-kafka's SchemaRegistryClient the codec uses."""

    def get_schema(self, schema_id: int, *args: Any, **kwargs: Any) -> Any: ...

    def register_schema(self, subject_name: str, schema: Any, *args: Any, **kwargs: Any) -> int: ...


@dataclass(frozen=True, slots=True)
class _WriterInfo:
    event_type: str
    writer: Any
    reader: Any  # None when writer and reader are the same schema (no resolution needed)
    fast: Reader | None = None  # the generated reader of ``writer`` (only without resolution)


def _shape(schema: Any) -> tuple[str, list[str]]:
    """What decides whether a writer's bytes decode to our record without resolution: the
    Parsing Canonical Form (names, types, field order) plus the logical types it leaves out."""
    logical: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "logicalType" in node:
                logical.append(str(node["logicalType"]))
            for key, value in node.items():
                if not key.startswith("__"):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(schema)
    return str(fastavro.schema.to_parsing_canonical_form(schema)), logical


@cache
def _contract_shape(event_type: str) -> tuple[str, list[str]]:
    return _shape(contract.parsed_schema(event_type))


def _is_registry_error(exc: Exception) -> bool:
    """A failure to reach the registry (connection, timeout, 5xx) rather than a bad schema."""
    if isinstance(exc, SchemaRegistryError):
        return exc.http_status_code >= 500 or exc.http_status_code in (401, 403, 429)
    # connection errors and timeouts of the client's HTTP library (httpx, or its successor)
    return isinstance(exc, OSError) or any(k.__module__.startswith("httpx") for k in type(exc).__mro__)


class Codec:
    """Decodes message values into event dicts (with ``"type"``) and encodes events for producers.

    ``topics`` maps topic -> event type; it is needed for plain Avro (no schema id in the bytes)
    and as a guard that a wire-format record on a topic has the topic's type.
    """

    def __init__(
        self,
        registry: RegistryClient | None = None,
        topics: Mapping[str, str] | None = None,
    ) -> None:
        self._registry = registry
        self._topics = dict(topics or contract.DEFAULT_TOPICS)
        self._by_id: dict[int, _WriterInfo] = {}
        self._plain: dict[str, Reader | None] = {}  # event type -> generated reader (plain Avro)
        self._record_types = contract.record_name_types()

    @property
    def wire_format(self) -> bool:
        """Whether messages are expected in the Confluent wire format (a registry is configured)."""
        return self._registry is not None

    def decode(self, topic: str, value: bytes | None) -> dict[str, Any]:
        """One message value -> event dict with ``"type"``; raises DecodeError."""
        if not value:
            raise DecodeError("empty", "message has no value (tombstone or empty)")
        if self._registry is None:
            event_type = self._topics.get(topic)
            if event_type is None:
                raise DecodeError("unknown_topic", f"no event type configured for topic {topic!r}")
            schema = contract.parsed_schema(event_type)
            record = self._read(value, 0, schema, None, self._plain_reader(event_type))
        else:
            if len(value) < _HEADER.size:
                raise DecodeError("truncated", f"{len(value)} bytes is shorter than the 5-byte header")
            magic, schema_id = _HEADER.unpack_from(value)
            if magic != MAGIC_BYTE:
                raise DecodeError("bad_magic_byte", f"magic byte is {magic & 0xFF}, expected 0")
            info = self._writer(schema_id)
            event_type = info.event_type
            expected = self._topics.get(topic)
            if expected is not None and expected != event_type:
                raise DecodeError(
                    "schema_mismatch",
                    f"schema id {schema_id} is a {event_type} record but topic {topic!r} carries {expected}",
                )
            record = self._read(value, _HEADER.size, info.writer, info.reader, info.fast)
        record["type"] = event_type
        return record

    def decode_capture(self, value: bytes | None) -> dict[str, Any]:
        """A click-ID capture record (wire format if a registry is configured, else plain)."""
        if not value:
            raise DecodeError("empty", "message has no value")
        if self._registry is None:
            capture = contract.CAPTURE_TYPE
            return self._read(value, 0, contract.parsed_schema(capture), None, self._plain_reader(capture))
        if len(value) < _HEADER.size:
            raise DecodeError("truncated", "shorter than the 5-byte header")
        magic, schema_id = _HEADER.unpack_from(value)
        if magic != MAGIC_BYTE:
            raise DecodeError("bad_magic_byte", f"magic byte is {magic & 0xFF}, expected 0")
        info = self._writer(schema_id)
        if info.event_type != contract.CAPTURE_TYPE:
            raise DecodeError("schema_mismatch", f"schema id {schema_id} is not a click-ID capture")
        return self._read(value, _HEADER.size, info.writer, info.reader, info.fast)

    def _writer(self, schema_id: int) -> _WriterInfo:
        info = self._by_id.get(schema_id)
        if info is not None:
            return info
        assert self._registry is not None
        try:
            registered = self._registry.get_schema(schema_id)
        except Exception as exc:
            if getattr(exc, "http_status_code", None) == 404:
                raise DecodeError(
                    "unknown_schema_id", f"schema id {schema_id} is not in the registry"
                ) from None
            raise RegistryUnavailableError(f"schema registry lookup of id {schema_id} failed: {exc}") from exc
        try:
            writer_json, writer = resolve_writer(self._registry, registered)
        except Exception as exc:
            if _is_registry_error(exc):
                raise RegistryUnavailableError(
                    f"schema registry lookup of the references of id {schema_id} failed: {exc}"
                ) from exc
            raise DecodeError(
                "schema_mismatch", f"schema id {schema_id} is not a usable Avro schema: {exc}"
            ) from None
        name = str(writer_json.get("name", ""))
        full = name if "." in name else f"{writer_json.get('namespace', '')}.{name}"
        event_type = self._record_types.get(full)
        if event_type is None:
            raise DecodeError(
                "schema_mismatch", f"schema id {schema_id} is record {full!r}, not an event of the contract"
            )
        # Same shape: the writer's bytes decode to our record as is, and fastavro's plain read is
        # much faster than its writer->reader resolution.
        same = _shape(writer) == _contract_shape(event_type)
        reader = None if same else contract.parsed_schema(event_type)
        info = _WriterInfo(event_type, writer, reader, compile_reader(writer) if same else None)
        self._by_id[schema_id] = info
        return info

    def _plain_reader(self, event_type: str) -> Reader | None:
        if event_type not in self._plain:
            self._plain[event_type] = compile_reader(contract.parsed_schema(event_type))
        return self._plain[event_type]

    @staticmethod
    def _read(
        value: bytes, offset: int, writer: Any, reader: Any, fast: Reader | None = None
    ) -> dict[str, Any]:
        if fast is not None:  # the generated reader; anything it does not expect goes to fastavro
            try:
                record, end = fast(value, offset)
            except Unreadable:
                pass
            else:
                if end != len(value):
                    raise DecodeError("trailing_bytes", f"{len(value) - end} bytes left after the record")
                return record  # a record schema reads as a dict
        buf = io.BytesIO(value)
        buf.seek(offset)
        try:
            record = fastavro.schemaless_reader(buf, writer, reader)
        except EOFError:
            raise DecodeError("truncated", f"record ends early ({len(value)} bytes)") from None
        except fastavro.read.SchemaResolutionError as exc:
            raise DecodeError("schema_mismatch", f"writer schema cannot be read as ours: {exc}") from None
        except Exception as exc:  # fastavro raises many types on garbage; all mean "malformed"
            raise DecodeError("malformed", f"{type(exc).__name__}: {exc}") from None
        if buf.tell() != len(value):
            raise DecodeError("trailing_bytes", f"{len(value) - buf.tell()} bytes left after the record")
        if not isinstance(record, dict):
            raise DecodeError("malformed", "record did not decode to an object")
        return record

    # -- producer side -------------------------------------------------------------------------

    def schema_id_for(
        self,
        event_type: str,
        subject: str | None = None,
        *,
        topic: str | None = None,
        strategy: SubjectStrategy = "topic",
        references: bool = True,
    ) -> int:
        """Register (idempotently) the contract schema for ``event_type`` and return its id.

        The subject is ``subject`` if given, else the ``strategy``'s name for ``topic`` (by
        default the topic configured for the event type); shared types go in as references.
        """
        if self._registry is None:
            raise RuntimeError("no schema registry configured")
        if subject is None:
            topic = topic or next((t for t, kind in self._topics.items() if kind == event_type), event_type)
            record = json.loads(contract.schema_json(event_type))
            subject = subject_name(strategy, topic, f"{record['namespace']}.{record['name']}")
        return register_contract_schema(self._registry, event_type, subject, references=references)

    def encode(self, event: Mapping[str, Any], schema_id: int | None = None) -> bytes:
        """Serialise an event (dict with ``"type"``): wire format when ``schema_id`` is given."""
        event_type = str(event["type"])
        body = {k: v for k, v in event.items() if k != "type" and not k.startswith("_")}
        buf = io.BytesIO()
        if schema_id is not None:
            buf.write(_HEADER.pack(MAGIC_BYTE, schema_id))
        fastavro.schemaless_writer(buf, contract.parsed_schema(event_type), body)
        return buf.getvalue()
