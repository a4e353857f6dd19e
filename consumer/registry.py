"""The Schema Registry side of the codec: the client built from the settings, writer schemas
with their references resolved, and the subject names producers register under.

Why confluent-kafka's own helpers: a registry serves an event schema that refers to shared types
registered as their own subjects (``references``). Its ``AvroDeserializer`` resolves them
recursively (``_resolve_named_schema``) and parses the result with a local repository
(``parse_schema_with_repo``); using the same two functions means we accept exactly what it
accepts. Only the slow part of its deserializer (per-message context, rules, dict hooks) is left
out: the codec resolves a schema id once and caches the parsed schema.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from confluent_kafka.schema_registry import (
    Schema,
    SchemaReference,
    SchemaRegistryClient,
    record_subject_name_strategy,
    topic_record_subject_name_strategy,
    topic_subject_name_strategy,
)
from confluent_kafka.schema_registry._sync.avro import _resolve_named_schema
from confluent_kafka.schema_registry.common.avro import parse_schema_with_repo
from confluent_kafka.serialization import MessageField, SerializationContext

from consumer import contract

if TYPE_CHECKING:
    from consumer.config import SchemaRegistrySettings

_HTTP_LOGGERS = ("httpx", "httpx2", "httpcore")

SubjectStrategy = Literal["topic", "record", "topic_record"]

_STRATEGIES: dict[str, Callable[[SerializationContext | None, str | None], str | None]] = {
    "topic": topic_subject_name_strategy,
    "record": record_subject_name_strategy,
    "topic_record": topic_record_subject_name_strategy,
}
"""Confluent's three strategies: ``{topic}-value`` (the default), ``{record}``, ``{topic}-{record}``."""


def subject_name(strategy: SubjectStrategy, topic: str, record_name: str) -> str:
    """The subject a value schema of record ``record_name`` on ``topic`` is registered under."""
    subject = _STRATEGIES[strategy](SerializationContext(topic, MessageField.VALUE), record_name)
    assert subject is not None  # every strategy above returns a name for a value schema
    return subject


def client_config(settings: SchemaRegistrySettings) -> dict[str, Any]:
    """The ``SchemaRegistryClient`` configuration: URL, basic auth read from the environment
    variable the settings name (never from the file), and the TLS files."""
    assert settings.url is not None
    config: dict[str, Any] = {"url": settings.url}
    if settings.basic_auth_user_info_env:
        config["basic.auth.user.info"] = os.environ[settings.basic_auth_user_info_env]
    key_password_env = settings.ssl_key_password_env
    optional = {
        "ssl.ca.location": settings.ssl_ca_location,
        "ssl.certificate.location": settings.ssl_certificate_location,
        "ssl.key.location": settings.ssl_key_location,
        "ssl.key.password": os.environ[key_password_env] if key_password_env else None,
    }
    config.update({key: value for key, value in optional.items() if value})
    return config


def build_client(settings: SchemaRegistrySettings) -> SchemaRegistryClient | None:
    """A client when a URL is configured (``mock://`` gives confluent-kafka's in-memory one).

    The client's HTTP library logs every request at INFO; that is one line per schema id
    fetched, noise beside the relay's own ``schema_registry_unavailable`` warnings.
    """
    if not settings.url:
        return None
    for name in _HTTP_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger(name).level))
    return SchemaRegistryClient.new_client(client_config(settings))


def resolve_writer(registry: Any, registered: Schema) -> tuple[dict[str, Any], Any]:
    """The writer schema as served (its root JSON object) and parsed with every referenced
    subject resolved, recursively. Registry errors propagate (the codec classifies them)."""
    named = _resolve_named_schema(registered, registry)
    schema_str = registered.schema_str or ""
    root = json.loads(schema_str)
    if not isinstance(root, dict):
        raise ValueError("the writer schema is not a record")
    return root, parse_schema_with_repo(schema_str, named)


def _contract_file(event_type: str) -> str:
    name = contract.CAPTURE_FILE if event_type == contract.CAPTURE_TYPE else contract.EVENT_FILES[event_type]
    return (contract.SCHEMA_DIR / name).read_text(encoding="utf-8")


def shared_types_used(schema_text: str) -> list[str]:
    """Full names of the shared types of ``schemas/common/`` an event schema file refers to."""
    shared = {name: f"{contract.NAMESPACE}.{name}" for name in contract.COMMON_TYPES}
    used: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            full = shared.get(node) or (node if node in shared.values() else None)
            if full and full not in used:
                used.append(full)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for key in ("type", "items", "values"):
                if key in node:
                    walk(node[key])
            for field in node.get("fields", ()):
                walk(field)

    walk(json.loads(schema_text))
    return used


def register_shared_type(registry: Any, full_name: str) -> SchemaReference:
    """Register one shared type under its full name (Confluent's convention for referenced
    schemas); idempotent. Returns the reference an event schema uses to point at it."""
    short = full_name.rsplit(".", 1)[-1]
    schema = Schema((contract.SCHEMA_DIR / "common" / f"{short}.avsc").read_text(encoding="utf-8"), "AVRO")
    registry.register_schema(full_name, schema)
    version = registry.lookup_schema(full_name, schema).version
    return SchemaReference(full_name, full_name, version)


def register_contract_schema(registry: Any, event_type: str, subject: str, *, references: bool = True) -> int:
    """Register the contract schema of ``event_type`` under ``subject``; returns its id.

    With ``references`` (how shared types are normally registered) each shared type is its own
    subject and the event schema is the file as written, pointing at them; without, the
    self-contained schema with the shared types inlined.
    """
    if not references:
        return int(registry.register_schema(subject, Schema(contract.schema_json(event_type), "AVRO")))
    text = _contract_file(event_type)
    refs = [register_shared_type(registry, full) for full in shared_types_used(text)]
    return int(registry.register_schema(subject, Schema(text, "AVRO", refs)))
