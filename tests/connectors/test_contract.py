"""Every registered connector that exists keeps the contract the engine relies on.

Declarations (slug, pinned version, limits, window, settings model, credential kind), mapping
of realistic events to an Item or a coded Reject, one request per route, and the status-code
floor of classification: 401 -> AUTH, 429 -> THROTTLED, 5xx and no answer -> RETRY, a
success-shaped 2xx never RETRY, and always exactly one outcome per item.
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from typing import Any

import orjson
import pytest

from connectors.base import (
    BatchLimits,
    ConnectorSettings,
    Credentials,
    HttpRequest,
    HttpResponse,
    Item,
    OutcomeKind,
    Reject,
)
from connectors.registry import CONNECTORS, connector_class
from consumer.contract import complete_event
from consumer.preview import placeholder_settings
from consumer.sample import SampleGenerator

NOW_MS = 1_795_176_000_000  # 2026-11-20T12:00:00Z


def _success_body(slug: str, n: int) -> bytes | None:
    """What each platform answers on success; None = unknown here (only counts are checked)."""
    bodies: dict[str, Any] = {
        "meta": {"events_received": n, "messages": [], "fbtrace_id": "trace"},
        "tiktok": {"code": 0, "message": "OK", "request_id": "req", "data": {}},
    }
    return orjson.dumps(bodies[slug]) if slug in bodies else None


# Extra settings a connector needs before it maps anything (e.g. conversion actions); merged
# over the placeholders for required fields.
CONTRACT_SETTINGS: dict[str, dict[str, Any]] = {
    "google": {
        "customer_id": "1234567890",
        "conversion_actions": {"purchase": "111111", "lead": "222222", "qualified": "333333"},
    },
    "linkedin": {"conversion_rules": {"purchase": "1", "lead": "2", "qualified": "3"}},
}


def _load(slug: str) -> Any:
    """The connector class, or skip if its module has not been written yet."""
    module = CONNECTORS[slug].partition(":")[0]
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            pytest.skip(f"{module} does not exist yet")
        raise
    return connector_class(slug)


def _connector(slug: str) -> Any:
    cls = _load(slug)
    merged = {**placeholder_settings(cls.settings_model), **CONTRACT_SETTINGS.get(slug, {})}
    return cls(cls.settings_model.model_validate(merged))


def _items(connector: Any, synthetic: bool = False) -> list[Item]:
    """Items mapped from sample events; with ``synthetic``, stand-ins if none map (classification
    must not depend on payload contents to honour the status-code floor)."""
    gen = SampleGenerator(seed=11)
    items: list[Item] = []
    for event in gen.events(60, NOW_MS):
        result = connector.map_event(complete_event(event), NOW_MS)
        if isinstance(result, Item):
            items.append(result)
    if not items and synthetic:
        items = [
            Item(event_id=f"e{i}", event_type="purchase", event_time_ms=NOW_MS, payload={}, route="r")
            for i in range(3)
        ]
    return items


@pytest.mark.parametrize("slug", sorted(CONNECTORS))
def test_declarations(slug: str) -> None:
    cls = _load(slug)
    assert cls.slug == slug
    assert isinstance(cls.api_version, str) and cls.api_version
    assert isinstance(cls.limits, BatchLimits)
    assert cls.limits.max_events > 0 and cls.limits.max_bytes > 0 and cls.limits.linger_ms >= 0
    assert isinstance(cls.window_days, int | float) and cls.window_days > 0
    assert issubclass(cls.settings_model, ConnectorSettings)
    assert cls.credential_kind in ("static", "oauth")
    # preview and this test build connectors from placeholders for the required ids
    cls.settings_model.model_validate(placeholder_settings(cls.settings_model))


@pytest.mark.parametrize("slug", sorted(CONNECTORS))
def test_maps_every_event_type(slug: str) -> None:
    connector = _connector(slug)
    gen = SampleGenerator(seed=5)
    for make in (gen.purchase, gen.lead, gen.qualified):
        for _ in range(10):
            event = complete_event(make(NOW_MS))
            result = connector.map_event(event, NOW_MS)
            assert isinstance(result, Item | Reject)
            if isinstance(result, Reject):
                assert result.code and result.reason
                continue
            assert result.event_id == event["event_id"]
            assert result.event_type == event["type"]
            assert result.event_time_ms == event["event_time"]
            assert isinstance(result.payload, dict) and isinstance(result.route, str)
            assert all(isinstance(k, str) for k in (*result.match_keys, *result.dropped))


@pytest.mark.parametrize("slug", sorted(CONNECTORS))
def test_one_request_per_route(slug: str) -> None:
    connector = _connector(slug)
    items = _items(connector)
    if not items:
        pytest.skip(f"no sample event maps with placeholder settings; add {slug} to CONTRACT_SETTINGS")
    by_route: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_route[item.route].append(item)
    for group in by_route.values():
        batch = group[: connector.limits.max_events]
        request = connector.build_request(batch, Credentials(access_token="TEST_TOKEN"))
        assert isinstance(request, HttpRequest)
        assert request.method in ("POST", "PUT")
        base = connector.settings.base_url.rstrip("/")
        assert request.url.startswith(base + "/" if base else "https://")
        assert isinstance(request.body, bytes) and 0 < len(request.body) <= connector.limits.max_bytes


@pytest.mark.parametrize("slug", sorted(CONNECTORS))
def test_base_url_override_reaches_sandbox(slug: str) -> None:
    """The sandbox serves platform <slug> under http://127.0.0.1:<port>/<slug> + the real path."""
    cls = _load(slug)
    sandbox = f"http://127.0.0.1:9/{slug}"
    merged = {
        **placeholder_settings(cls.settings_model),
        **CONTRACT_SETTINGS.get(slug, {}),
        "base_url": sandbox,
    }
    connector = cls(cls.settings_model.model_validate(merged))
    items = _items(connector)
    if not items:
        pytest.skip(f"no sample event maps with placeholder settings; add {slug} to CONTRACT_SETTINGS")
    request = connector.build_request(items[:1], Credentials(access_token="TEST_TOKEN"))
    assert request.url.startswith(sandbox + "/")


@pytest.mark.parametrize("slug", sorted(CONNECTORS))
@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, OutcomeKind.AUTH),
        (429, OutcomeKind.THROTTLED),
        (500, OutcomeKind.RETRY),
        (503, OutcomeKind.RETRY),
        (0, OutcomeKind.RETRY),
        (400, None),
    ],
)
def test_classify_status_floor(slug: str, status: int, expected: OutcomeKind | None) -> None:
    connector = _connector(slug)
    items = _items(connector, synthetic=True)[:3]
    response = HttpResponse(status=status, error="timeout" if status == 0 else None)
    outcomes = connector.classify(response, items)
    assert len(outcomes) == len(items)
    if expected is not None:
        assert {o.kind for o in outcomes} == {expected}


@pytest.mark.parametrize("slug", sorted(CONNECTORS))
def test_classify_success(slug: str) -> None:
    connector = _connector(slug)
    items = _items(connector, synthetic=True)[:3]
    body = _success_body(slug, len(items))
    outcomes = connector.classify(HttpResponse(status=200, body=body or b"{}"), items)
    assert len(outcomes) == len(items)
    if body is not None:
        assert all(o.kind is not OutcomeKind.RETRY for o in outcomes)
        assert all(o.kind is OutcomeKind.DELIVERED for o in outcomes)
