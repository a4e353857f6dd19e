"""Every versioned platform's API version is a setting: its default is the version the golden
cases test, and a configured version reaches the request (URL, or LinkedIn's header), so users
follow a platform's deprecation calendar without a release."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.base import Credentials, Item
from connectors.registry import CONNECTORS, connector_class
from consumer.contract import complete_event
from tests.connectors.test_golden import _now_ms

ROOT = Path(__file__).parent

# slug (or slug/api) -> (a golden request case, the setting, its default, another valid version)
VERSIONS: dict[str, tuple[str, str, str, str]] = {
    "meta": ("purchase_website.json", "api_version", "v24.0", "v25.0"),
    "google/data_manager": ("dm_purchase_gclid_enhanced.json", "data_manager_version", "v1", "v2"),
    "google/ads_api": ("ads_purchase_gclid.json", "ads_api_version", "v24", "v25"),
    "tiktok": ("purchase_web.json", "api_version", "v1.3", "v1.4"),
    "linkedin": ("purchase.json", "linkedin_version", "202603", "202609"),
    "snap": ("ldu_california.json", "api_version", "v3", "v4"),
    "pinterest": ("lead_web.json", "api_version", "v5", "v6"),
    "reddit": ("purchase_website.json", "api_version", "v3", "v4"),
    "microsoft": ("purchase_website.json", "api_version", "v1", "v2"),
}
INVALID = {
    "api_version": "24.0",
    "data_manager_version": "1",
    "ads_api_version": "24",
    "linkedin_version": "2026-03",
}


def _case(key: str) -> tuple[str, dict[str, Any]]:
    slug = key.split("/")[0]
    path = ROOT / slug / "cases" / VERSIONS[key][0]
    return slug, json.loads(path.read_text(encoding="utf-8"))


def _request(slug: str, case: dict[str, Any], settings: dict[str, Any]) -> Any:
    cls = connector_class(slug)
    connector = cls(cls.settings_model.model_validate(settings))
    events = case["events"] if "events" in case else [case["event"]]
    now_ms = _now_ms(case["now"])
    items = [connector.map_event(complete_event(e), now_ms) for e in events]
    assert all(isinstance(i, Item) for i in items), items
    return connector.build_request(items, Credentials(access_token="T", extra=case.get("credentials", {})))


def _version_in(request: Any, version: str, slug: str) -> bool:
    if slug == "linkedin":
        return bool(request.headers.get("LinkedIn-Version") == version)
    return f"/{version}/" in request.url or f"/{version}:" in request.url


def test_every_registered_platform_is_covered() -> None:
    assert {key.split("/")[0] for key in VERSIONS} == set(CONNECTORS)


@pytest.mark.parametrize("key", sorted(VERSIONS))
def test_default_is_the_tested_version(key: str) -> None:
    slug, case = _case(key)
    _name, field, default, _other = VERSIONS[key]
    cls = connector_class(slug)
    model_default = cls.settings_model.model_fields[field].default
    assert model_default in (default, None)  # LinkedIn: None = the connector's pinned version
    assert default in cls.api_version
    assert _version_in(_request(slug, case, case.get("settings", {})), default, slug)


@pytest.mark.parametrize("key", sorted(VERSIONS))
def test_configured_version_reaches_the_request(key: str) -> None:
    slug, case = _case(key)
    _name, field, default, other = VERSIONS[key]
    request = _request(slug, case, {**case.get("settings", {}), field: other})
    assert _version_in(request, other, slug) and not _version_in(request, default, slug)


@pytest.mark.parametrize("key", sorted(VERSIONS))
def test_malformed_version_fails_validation(key: str) -> None:
    slug, case = _case(key)
    field = VERSIONS[key][1]
    model = connector_class(slug).settings_model
    with pytest.raises(ValidationError, match=field):
        model.model_validate({**case.get("settings", {}), field: INVALID[field]})
