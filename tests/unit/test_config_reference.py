"""The configuration reference, the example file and the chart's values schema are generated
from (and checked against) the settings models, so none of them drifts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import BaseModel

from consumer.config import PlatformConfig, Settings, load_settings
from consumer.config_docs import DESCRIPTIONS
from consumer.config_schema import config_schema
from scripts.gen_config_reference import expected

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "capi-relay"


def _paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    out: list[str] = []
    for name, field in model.model_fields.items():
        out.append(prefix + name)
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            out += _paths(field.annotation, f"{prefix}{name}.")
    return out


ALL_KEYS = _paths(Settings) + _paths(PlatformConfig, "platforms.<p>.")


def test_generated_files_are_up_to_date() -> None:
    for path, text in expected().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.relative_to(ROOT)} is out of date: run python scripts/gen_config_reference.py"
        )


def test_the_schema_is_valid_draft_07() -> None:
    jsonschema.Draft7Validator.check_schema(config_schema())
    jsonschema.Draft7Validator.check_schema(json.loads((CHART / "values.schema.json").read_text()))


def test_every_key_has_a_description() -> None:
    assert [key for key in ALL_KEYS if key not in DESCRIPTIONS] == []
    assert [key for key in DESCRIPTIONS if key not in ALL_KEYS] == []


def test_the_example_shows_every_key_and_is_valid() -> None:
    data = yaml.safe_load((ROOT / "config.example.yaml").read_text())

    def present(path: str) -> bool:
        node: Any = data
        for part in path.split("."):
            if part == "<p>":
                node = node["meta"]
                continue
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    assert [key for key in ALL_KEYS if not present(key)] == []
    load_settings(ROOT / "config.example.yaml")
    jsonschema.validate(data, config_schema())


def _chart_config_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((CHART / "values.schema.json").read_text())["properties"]["config"]
    return schema


@pytest.mark.parametrize("values", ["values.yaml", "ci/hpa-values.yaml", "ci/keda-values.yaml"])
def test_chart_config_values_validate(values: str) -> None:
    config = yaml.safe_load((CHART / values).read_text()).get("config")
    if config is not None:
        jsonschema.validate(config, _chart_config_schema())


@pytest.mark.parametrize(
    ("config", "culprit"),
    [
        ({"kafka": {"bootstrap_server": "x"}}, "bootstrap_server"),
        ({"platforms": {"meta": {"settings": {"pixel_id": "1", "pixle_id": "1"}}}}, "pixle_id"),
        ({"platforms": {"metta": {}}}, "metta"),
        ({"routing": {"purchase": ["metta"]}}, "metta"),
        ({"store": {"backend": "postgres"}}, "postgres"),
    ],
)
def test_chart_schema_refuses_what_the_relay_refuses(config: dict[str, Any], culprit: str) -> None:
    with pytest.raises(jsonschema.ValidationError, match=culprit):
        jsonschema.validate(config, _chart_config_schema())
