"""The event contract in `schemas/`, loaded once: parsed reader schemas, self-contained schema
JSON for registration, and completion of partial events.

Schemas share named types (`schemas/common/`), which neither a Schema Registry nor fastavro's
single-schema parser resolves on their own; this module inlines them so every event schema is
self-contained, and is the one place that knows the file layout.
"""

from __future__ import annotations

import copy
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import fastavro

SCHEMA_DIR = Path(os.environ.get("CAPI_SCHEMA_DIR") or Path(__file__).resolve().parents[1] / "schemas")
COMMON_TYPES = ("Consent", "ClickIds", "Context", "Item", "UserIdentifiers")
EVENT_FILES = {"purchase": "purchase.avsc", "lead": "lead.avsc", "qualified": "qualified.avsc"}
CAPTURE_FILE = "click_id_capture.avsc"
CAPTURE_TYPE = "click_id_capture"
NAMESPACE = "com.capirelay.events"

DEFAULT_TOPICS: dict[str, str] = {
    "events.purchase": "purchase",
    "events.lead": "lead",
    "events.qualified": "qualified",
}


class ContractError(ValueError):
    """An event does not fit the contract (missing required field, wrong type)."""


def _read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@cache
def _named_type_defs() -> dict[str, dict[str, Any]]:
    """Full name -> definition of every named type declared in `schemas/common/` (nested enums too)."""
    defs: dict[str, dict[str, Any]] = {}

    def collect(node: Any, namespace: str) -> None:
        if isinstance(node, dict):
            ns = node.get("namespace", namespace)
            if node.get("type") in ("record", "enum", "fixed") and "name" in node:
                full = node["name"] if "." in node["name"] else f"{ns}.{node['name']}"
                defs[full] = node
            for value in node.values():
                collect(value, ns)
        elif isinstance(node, list):
            for value in node:
                collect(value, namespace)

    for name in COMMON_TYPES:
        collect(_read(SCHEMA_DIR / "common" / f"{name}.avsc"), NAMESPACE)
    return defs


def _inline(node: Any, namespace: str, defined: set[str]) -> Any:
    """Replace references to shared named types by their definition at first use."""
    defs = _named_type_defs()
    if isinstance(node, str):
        full = node if "." in node else f"{namespace}.{node}"
        if full in defs and full not in defined:
            defined.add(full)
            definition = copy.deepcopy(defs[full])
            definition.setdefault("namespace", full.rsplit(".", 1)[0])
            return _inline_children(definition, definition["namespace"], defined)
        return full if full in defs else node
    if isinstance(node, list):
        return [_inline(item, namespace, defined) for item in node]
    if isinstance(node, dict):
        if node.get("type") in ("record", "enum", "fixed") and "name" in node:
            ns = node.get("namespace", namespace)
            full = node["name"] if "." in node["name"] else f"{ns}.{node['name']}"
            defined.add(full)
            return _inline_children(node, ns, defined)
        return _inline_children(node, namespace, defined)
    return node


def _inline_children(node: dict[str, Any], namespace: str, defined: set[str]) -> dict[str, Any]:
    out = dict(node)
    if "fields" in out:
        out["fields"] = [dict(f, type=_inline(f["type"], namespace, defined)) for f in out["fields"]]
    if "items" in out:
        out["items"] = _inline(out["items"], namespace, defined)
    if "values" in out:
        out["values"] = _inline(out["values"], namespace, defined)
    if isinstance(out.get("type"), dict | list):
        out["type"] = _inline(out["type"], namespace, defined)
    return out


@cache
def schema_json(event_type: str) -> str:
    """Self-contained schema JSON for ``event_type`` (or ``click_id_capture``), for registration."""
    filename = CAPTURE_FILE if event_type == CAPTURE_TYPE else EVENT_FILES[event_type]
    raw = _read(SCHEMA_DIR / filename)
    return json.dumps(_inline(raw, raw.get("namespace", NAMESPACE), set()))


@cache
def parsed_schema(event_type: str) -> Any:
    """The fastavro-parsed reader schema for ``event_type``."""
    return fastavro.parse_schema(json.loads(schema_json(event_type)))


@cache
def record_name_types() -> dict[str, str]:
    """Full Avro record name -> event type, to recognise a writer schema's record."""
    return {
        json.loads(schema_json(t))["namespace"] + "." + json.loads(schema_json(t))["name"]: t
        for t in (*EVENT_FILES, CAPTURE_TYPE)
    }


def _default_for(ftype: Any) -> Any:
    if isinstance(ftype, list):
        return None if "null" in ftype else _default_for(ftype[0])
    if isinstance(ftype, dict):
        kind = ftype.get("type")
        if kind == "record":
            return {f["name"]: _complete_field(f, None) for f in ftype["fields"]}
        if kind == "array":
            return []
        if kind == "map":
            return {}
    raise ContractError("required")


def _complete_field(field: dict[str, Any], value: Any) -> Any:
    ftype = field["type"]
    if value is None:
        if "default" in field:
            default = copy.deepcopy(field["default"])
            if isinstance(ftype, dict) and ftype.get("type") == "record":
                return _complete_record(ftype, default or {})
            return default
        try:
            return _default_for(ftype)
        except ContractError:
            raise ContractError(f"missing required field {field['name']!r}") from None
    if isinstance(ftype, dict) and ftype.get("type") == "record" and isinstance(value, dict):
        return _complete_record(ftype, value)
    return value


def _complete_record(schema: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    known = {f["name"] for f in schema["fields"]}
    unknown = sorted(set(record) - known)
    if unknown:
        raise ContractError(f"unknown field(s) in {schema['name']}: {', '.join(unknown)}")
    return {f["name"]: _complete_field(f, record.get(f["name"])) for f in schema["fields"]}


def complete_event(event: dict[str, Any]) -> dict[str, Any]:
    """Fill every omitted optional field of a partial event (``type`` names its schema) and check
    it against the contract, so hand-written JSON (preview, tests) becomes a decoded-like event.

    Raises ContractError naming the first problem.
    """
    event_type = event.get("type")
    if event_type not in EVENT_FILES:
        raise ContractError(f"'type' must be one of {', '.join(EVENT_FILES)}; got {event_type!r}")
    schema = json.loads(schema_json(event_type))
    body = {k: v for k, v in event.items() if k != "type" and not k.startswith("_")}
    completed = _complete_record(schema, body)
    try:
        fastavro.validation.validate(completed, parsed_schema(event_type), raise_errors=True)
    except fastavro.validation.ValidationError as exc:
        raise ContractError(f"event does not match the {event_type} schema: {exc}") from None
    completed["type"] = event_type
    return completed
