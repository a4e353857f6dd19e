"""Which writer schemas the codec reads without writer->reader resolution (the fast path).

Why: resolution costs several times the plain read per message, so a registered writer that is
our schema in substance — inlined or with references, other docs or defaults — must skip it;
one that differs in anything that changes the decoded value (a logical type) must not.
"""

from __future__ import annotations

import json
from typing import Any

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from consumer import contract
from consumer.codec import Codec


def _registered(schema: dict[str, Any], name: str) -> tuple[Codec, int]:
    registry = SchemaRegistryClient.new_client({"url": f"mock://fast-path-{name}"})
    return Codec(registry), registry.register_schema(f"{name}-value", Schema(json.dumps(schema), "AVRO"))


def _lead() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(contract.schema_json("lead"))
    return schema


def test_inlined_and_doc_only_differences_take_the_fast_path() -> None:
    codec, same = _registered(_lead(), "inlined")
    assert codec._writer(same).reader is None
    other_docs = _lead()
    other_docs["doc"] = "written by another team"
    other_docs["fields"][0]["doc"] = "changed"
    codec, doc_id = _registered(other_docs, "docs")
    assert codec._writer(doc_id).reader is None


def test_a_logical_type_or_an_extra_field_is_resolved() -> None:
    timed = _lead()
    for field in timed["fields"]:
        if field["name"] == "event_time":
            field["type"] = {"type": "long", "logicalType": "timestamp-millis"}
    codec, timed_id = _registered(timed, "logical")
    assert codec._writer(timed_id).reader is not None
    wider = _lead()
    wider["fields"].append({"name": "extra", "type": ["null", "string"], "default": None})
    codec, wider_id = _registered(wider, "wider")
    assert codec._writer(wider_id).reader is not None
