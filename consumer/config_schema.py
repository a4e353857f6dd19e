"""The configuration's JSON Schema and its Markdown reference, both generated from the settings
models (`consumer.config`, each connector's settings model, the credentials model) plus the
descriptions in `consumer.config_docs`.

One schema serves three readers: `docs/configuration.md` (every key, type, default,
environment override, description), the Helm chart's ``values.schema.json`` (so a typo such
as ``config.kafka.bootstrap_server`` fails ``helm install`` instead of the pod) and the tests.
``scripts/gen_config_reference.py`` writes both files; a test fails when either is stale.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from connectors.base import EVENT_TYPES
from connectors.registry import CONNECTORS, connector_class
from consumer.config import PlatformConfig, Settings
from consumer.config_docs import CONNECTOR_DESCRIPTIONS, CREDENTIALS_DESCRIPTIONS, DESCRIPTIONS
from consumer.delivery.credentials import CredentialsSettings

Schema = dict[str, Any]


def _inline(schema: Schema) -> Schema:
    """Replace every ``$ref`` by its definition and drop titles (a self-contained schema can be
    embedded anywhere, e.g. under ``properties.config`` of the chart's values schema)."""
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                merged = {
                    **walk(copy.deepcopy(defs[ref.split("/")[-1]])),
                    **{k: walk(v) for k, v in node.items() if k != "$ref"},
                }
                return merged
            return {k: walk(v) for k, v in node.items() if k not in ("$defs", "title")}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    inlined: Schema = walk(schema)
    return inlined


def _describe(node: Schema, prefix: str, table: dict[str, str]) -> None:
    for name, prop in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        if path in table:
            prop["description"] = table[path]
        for sub in _objects(prop):
            _describe(sub, f"{path}.", table)


def _objects(prop: Schema) -> list[Schema]:
    """The object schemas inside a property (itself, or the non-null arm of an ``anyOf``)."""
    if "properties" in prop:
        return [prop]
    return [arm for arm in prop.get("anyOf", []) if isinstance(arm, dict) and "properties" in arm]


def credentials_schema() -> Schema:
    """The ``platforms.<p>.credentials`` block."""
    schema = _inline(CredentialsSettings.model_json_schema())
    _describe(schema, "", CREDENTIALS_DESCRIPTIONS)
    schema.pop("description", None)
    return schema


def connector_schema(slug: str) -> Schema:
    """One connector's ``settings`` block."""
    schema = _inline(connector_class(slug).settings_model.model_json_schema())
    schema.pop("description", None)
    for name, prop in schema.get("properties", {}).items():
        if "description" not in prop and name in CONNECTOR_DESCRIPTIONS:
            prop["description"] = CONNECTOR_DESCRIPTIONS[name]
    return schema


def platform_template() -> Schema:
    """``platforms.<p>`` before the per-platform settings are filled in."""
    schema = _inline(PlatformConfig.model_json_schema())
    schema["description"] = "One platform: " + ", ".join(f"`{s}`" for s in CONNECTORS) + "."
    _describe(schema, "platforms.<p>.", DESCRIPTIONS)
    return schema


def config_schema() -> Schema:
    """The whole configuration file's schema, with a typed block per known platform."""
    root = _inline(Settings.model_json_schema())
    root.pop("description", None)
    _describe(root, "", DESCRIPTIONS)
    creds = credentials_schema()
    platforms: dict[str, Schema] = {}
    for slug in CONNECTORS:
        block = platform_template()
        block["properties"]["settings"] = {
            **connector_schema(slug),
            "description": DESCRIPTIONS["platforms.<p>.settings"],
        }
        block["properties"]["credentials"] = {
            **creds,
            "description": DESCRIPTIONS["platforms.<p>.credentials"],
        }
        platforms[slug] = block
    root["properties"]["platforms"] = {
        "type": "object",
        "description": DESCRIPTIONS["platforms"],
        "properties": platforms,
        "additionalProperties": False,
    }
    root["properties"]["routing"].update(
        propertyNames={"enum": list(EVENT_TYPES)},
        additionalProperties={"type": "array", "items": {"enum": list(CONNECTORS)}},
    )
    root["$schema"] = "http://json-schema.org/draft-07/schema#"
    return root


# -- Markdown ------------------------------------------------------------------------------------


def type_name(prop: Schema) -> str:
    """A short human type: ``string``, ``integer | null``, ``map of string``, ``sqlite, redis``."""
    if "enum" in prop:
        return " · ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    if "anyOf" in prop:
        return " | ".join(type_name(arm) for arm in prop["anyOf"])
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {type_name(prop.get('items', {}))}"
    if kind == "object":
        if "properties" in prop:
            return "section"
        extra = prop.get("additionalProperties")
        return f"map of {type_name(extra)}" if isinstance(extra, dict) and extra else "map"
    return str(kind)


def _default(prop: Schema, required: bool, dumped: Any) -> str:
    if required:
        return "**required**"
    if "default" in prop:
        return f"`{json.dumps(prop['default'])}`"
    if dumped is not _MISSING and "properties" not in prop:  # a default_factory's value
        return f"`{json.dumps(dumped)}`"
    return ""


_MISSING = object()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rows(node: Schema, prefix: str, env: bool, defaults: Any = None) -> list[str]:
    """One table row per key, depth first; ``defaults`` is the default instance's dump (for the
    keys whose default comes from a factory, which the schema leaves out)."""
    rows: list[str] = []
    required = set(node.get("required", []))
    for name, prop in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        env_name = "CAPI_" + path.upper().replace(".", "__") if env else ""
        dumped = defaults.get(name, _MISSING) if isinstance(defaults, dict) else _MISSING
        default = _default(prop, name in required, dumped)
        rows.append(
            f"| `{path}` | {_cell(type_name(prop))} | {_cell(default)} | "
            f"{f'`{env_name}`' if env_name else ''} | {_cell(prop.get('description', ''))} |"
        )
        for sub in _objects(prop):
            rows += _rows(sub, f"{path}.", env, dumped if isinstance(dumped, dict) else None)
    return rows


HEADER = "| key | type | default | environment | description |\n| --- | --- | --- | --- | --- |"


def render_markdown() -> str:
    """docs/configuration.md."""
    root = _inline(Settings.model_json_schema())
    _describe(root, "", DESCRIPTIONS)
    root["properties"]["platforms"] = {
        "type": "object",
        "description": DESCRIPTIONS["platforms"],
        "properties": {"<p>": platform_template()},
    }
    defaults = {
        **Settings().model_dump(mode="json"),
        "platforms": {"<p>": PlatformConfig().model_dump(mode="json")},
    }
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated by `python scripts/gen_config_reference.py` from the settings models. -->",
        "",
        "One YAML file (`capi-relay run --config FILE`; [config.example.yaml](../config.example.yaml) "
        "shows every section). Every key can be overridden by an environment variable: `CAPI_`, then "
        "the key path in capitals with `__` between levels (`CAPI_KAFKA__BOOTSTRAP_SERVERS=broker:9092`, "
        "`CAPI_PLATFORMS__META__PAUSED=true`); lists and maps take JSON "
        '(`CAPI_ROUTING=\'{"purchase": ["meta"]}\'`). Secrets are never written in the file: keys '
        "ending in `_env` name the variable that holds them. `capi-relay check --config FILE` "
        "validates a file (one line per problem, naming the key) and probes what it points at.",
        "",
        "The same schema validates the Helm chart's `config` value (`values.schema.json`).",
        "",
        "## Settings",
        "",
        HEADER,
        *_rows(root, "", env=True, defaults=defaults),
        "",
        "`<p>` is a platform: " + ", ".join(f"`{s}`" for s in CONNECTORS) + ".",
        "",
        "## Credentials: `platforms.<p>.credentials`",
        "",
        HEADER,
        *_rows(credentials_schema(), "platforms.<p>.credentials.", env=False, defaults={}),
        "",
        "## Platform settings: `platforms.<p>.settings`",
        "",
        "Each platform's page under [platforms/](platforms/) explains its settings and cites the "
        "platform's documentation.",
    ]
    for slug in CONNECTORS:
        lines += [
            "",
            f"### {slug}",
            "",
            HEADER,
            *_rows(connector_schema(slug), f"platforms.{slug}.settings.", env=False),
        ]
    return "\n".join(lines) + "\n"


def chart_values_schema(current: Schema) -> Schema:
    """The chart's values schema with ``properties.config`` replaced by the configuration schema
    (everything else kept as is)."""
    updated = copy.deepcopy(current)
    config = config_schema()
    config.pop("$schema", None)
    config["description"] = (
        "The relay's config.yaml (docs/configuration.md); validated like `capi-relay check`."
    )
    updated["properties"]["config"] = config
    return updated
