"""``test_mode: true`` never sends live events, on every registered connector: either every
request carries the platform's own test marker, or the settings are refused at start with one
line naming ``test_mode``. A connector added to the registry without an entry here fails."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
import yaml
from pydantic import ValidationError

from connectors.base import Credentials, HttpRequest, Item
from connectors.registry import CONNECTORS, connector_class
from consumer.app import build_connectors
from consumer.config import ConfigError, load_settings
from consumer.demo_settings import sandbox_platform_settings
from consumer.sample import SampleGenerator

NOW_MS = 1_795_000_000_000
BASE = "http://127.0.0.1:9"
TEST_RULES = {"purchase": "900001", "lead": "900002", "qualified": "900003"}

Check = Callable[[HttpRequest, Any], bool]


def _query(request: HttpRequest) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.url).query)


def _linkedin_test_rules(_: HttpRequest, body: Any) -> bool:
    return all(str(e["conversion"]).rsplit(":", 1)[-1] in TEST_RULES.values() for e in body["elements"])


# slug -> (settings that configure the test marker, check that a request carries it); None: the
# platform has no test marker, so test_mode must always be refused.
MARKERS: dict[str, tuple[dict[str, Any], Check] | None] = {
    "meta": ({"test_event_code": "TEST123"}, lambda _r, b: b.get("test_event_code") == "TEST123"),
    "tiktok": ({"test_event_code": "TEST123"}, lambda _r, b: b.get("test_event_code") == "TEST123"),
    "reddit": ({"test_id": "t2_test"}, lambda _r, b: b["data"].get("test_id") == "t2_test"),
    "linkedin": ({"test_conversion_rules": TEST_RULES}, _linkedin_test_rules),
    "snap": ({}, lambda r, _b: urlsplit(r.url).path.endswith("/events/validate")),
    "pinterest": ({}, lambda r, _b: _query(r).get("test") == ["true"]),
    "google": ({}, lambda _r, b: b.get("validateOnly") is True),
    "microsoft": None,
}
NEEDS_CONFIG = sorted(s for s, m in MARKERS.items() if m is not None and m[0])
NO_MARKER = sorted(s for s, m in MARKERS.items() if m is None)


def _settings(slug: str, **extra: Any) -> dict[str, Any]:
    return {**sandbox_platform_settings(slug, BASE), **extra}


def _items(connector: Any, count: int = 60) -> list[Item]:
    items = []
    for event in SampleGenerator(seed=7).events(count, NOW_MS):
        result = connector.map_event(event, NOW_MS)
        if isinstance(result, Item):
            items.append(result)
    return items


def test_every_registered_connector_has_a_test_mode_rule() -> None:
    assert sorted(MARKERS) == sorted(CONNECTORS)


@pytest.mark.parametrize("slug", sorted(CONNECTORS))
def test_test_mode_without_its_marker_is_refused(slug: str) -> None:
    """Without the marker's configuration (or on a platform without one) the settings fail."""
    cls = connector_class(slug)
    marker = MARKERS[slug]
    if marker is not None and not marker[0]:
        cls.settings_model.model_validate(_settings(slug, test_mode=True))  # the marker is built in
        return
    with pytest.raises(ValidationError, match="test_mode: true"):
        cls.settings_model.model_validate(_settings(slug, test_mode=True))


@pytest.mark.parametrize("slug", sorted(s for s, m in MARKERS.items() if m is not None))
def test_every_test_mode_request_carries_the_marker(slug: str) -> None:
    marker = MARKERS[slug]
    assert marker is not None
    config, carries = marker
    cls = connector_class(slug)
    connector = cls(cls.settings_model.model_validate(_settings(slug, test_mode=True, **config)))
    items = _items(connector)
    assert items, f"no sample event maps for {slug}"
    by_route: dict[str, list[Item]] = {}
    for item in items:
        by_route.setdefault(item.route, []).append(item)
    credentials = Credentials(access_token="TOKEN", extra={"developer-token": "DEV"})
    for route_items in by_route.values():
        request = connector.build_request(route_items, credentials)
        body = orjson.loads(request.body) if request.body else None
        assert carries(request, body), f"{slug} test-mode request without its test marker: {request.url}"


@pytest.mark.parametrize("slug", NEEDS_CONFIG + NO_MARKER)
def test_the_relay_refuses_such_settings_with_one_config_error(slug: str) -> None:
    settings = load_settings(
        routing={"purchase": [slug]},
        platforms={slug: {"settings": _settings(slug, test_mode=True)}},
        store={"backend": "none"},
    )
    with pytest.raises(ConfigError, match=rf"platforms\.{slug}\.settings.*test_mode: true") as info:
        build_connectors(settings)
    assert "\n" not in str(info.value)


def test_capi_relay_run_exits_2_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "routing": {"purchase": ["microsoft"]},
                "platforms": {"microsoft": {"settings": _settings("microsoft", test_mode=True)}},
                "store": {"backend": "none"},
                "observability": {"http_port": None, "log_format": "json"},
            }
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "consumer.cli", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    # `run`'s start-up checks report each problem once (a JSON log line in a JSON-format run)
    errors = [line for line in done.stderr.splitlines() if "platforms.microsoft.settings" in line]
    assert len(errors) == 1 and "test_mode" in errors[0]
    assert "Traceback" not in done.stderr + done.stdout
