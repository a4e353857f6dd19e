"""The shared golden-case runner: one JSON file per case, event in, exact request out.

Request cases live in ``tests/connectors/<slug>/cases/*.json``::

    {"description", "settings", "now": "2026-11-20T12:00:00Z", "event": {...},
     "request": {"method", "url", "headers", "body"}}   # or "reject": {"code": "..."}

optionally with ``"events": [...]`` instead of ``"event"`` (one request for the whole batch),
``"credentials": {...}`` (the ``extra`` of the test credentials), and ``"match_keys"`` /
``"dropped"`` (asserted on the single item when present). ``body`` is the parsed JSON body, or
for form bodies a dict of fields whose JSON values are parsed.

Response cases live in ``tests/connectors/<slug>/responses/*.json``::

    {"description", "settings", "events": [...], "response": {"status", "headers", "body"},
     "outcomes": [{"kind", "code", "retry_after", "batch_rejected", "duplicate", "reason"}]}

where only the keys present in each expected outcome are compared, ``body`` is JSON (or a raw
string), and ``"error"`` in ``response`` sets ``HttpResponse.error`` (status 0 = no answer).
Partial events are completed with schema defaults by ``consumer.contract.complete_event``.
Reviewers read the cases; this file only runs them.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import orjson
import pytest

from connectors.base import Credentials, HttpRequest, HttpResponse, Item, Reject
from connectors.registry import CONNECTORS, connector_class
from consumer.contract import complete_event

ROOT = Path(__file__).parent
REQUEST_CASES = sorted(ROOT.glob("*/cases/*.json"))
RESPONSE_CASES = sorted(ROOT.glob("*/responses/*.json"))
OUTCOME_KEYS = ("code", "retry_after", "batch_rejected", "duplicate", "reason")


def _case_id(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.name}"


def _now_ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def _connector(slug: str, settings: dict[str, Any]) -> Any:
    """The connector for ``slug`` built from the case's settings; skips a platform whose module
    has not been written yet (its cases can land first)."""
    if slug not in CONNECTORS:
        pytest.fail(f"case directory {slug!r} is not a registered platform")
    module = CONNECTORS[slug].partition(":")[0]
    try:
        cls = connector_class(slug)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            pytest.skip(f"connector module {module} does not exist yet")
        raise
    return cls(cls.settings_model.model_validate(settings))


def parse_body(request: HttpRequest) -> Any:
    """The request body as data: JSON parsed, or form fields with JSON values parsed."""
    content_type = next((v for k, v in request.headers.items() if k.lower() == "content-type"), "")
    if "x-www-form-urlencoded" in content_type:
        fields: dict[str, Any] = {}
        for key, value in parse_qsl(request.body.decode(), keep_blank_values=True):
            try:
                fields[key] = json.loads(value)
            except ValueError:
                fields[key] = value
        return fields
    return orjson.loads(request.body) if request.body else None


def _map(connector: Any, event: dict[str, Any], now_ms: int) -> Item | Reject:
    result: Item | Reject = connector.map_event(complete_event(event), now_ms)
    return result


@pytest.mark.parametrize("path", REQUEST_CASES, ids=_case_id)
def test_request_case(path: Path) -> None:
    """Event(s) in, exact request (or the expected reject code) out."""
    case = json.loads(path.read_text(encoding="utf-8"))
    slug = path.parent.parent.name
    connector = _connector(slug, case.get("settings", {}))
    now_ms = _now_ms(case["now"])
    events = case["events"] if "events" in case else [case["event"]]
    results = [_map(connector, event, now_ms) for event in events]
    if "reject" in case:
        assert len(results) == 1, "a reject case maps exactly one event"
        result = results[0]
        assert isinstance(result, Reject), f"expected a reject, got an item: {result}"
        assert result.code == case["reject"]["code"], result.reason
        return
    items: list[Item] = []
    for result in results:
        assert isinstance(result, Item), f"unexpected reject: {result}"
        items.append(result)
    if "match_keys" in case:
        assert sorted(items[0].match_keys) == sorted(case["match_keys"])
    if "dropped" in case:
        assert sorted(items[0].dropped) == sorted(case["dropped"])
    credentials = Credentials(access_token="TEST_TOKEN", extra=case.get("credentials", {}))
    request = connector.build_request(items, credentials)
    expected = case["request"]
    assert request.method == expected["method"]
    assert request.url == expected["url"]
    assert dict(request.headers) == expected["headers"]
    assert parse_body(request) == expected["body"]


@pytest.mark.parametrize("path", RESPONSE_CASES, ids=_case_id)
def test_response_case(path: Path) -> None:
    """A platform answer in, one expected outcome per event out."""
    case = json.loads(path.read_text(encoding="utf-8"))
    slug = path.parent.parent.name
    connector = _connector(slug, case.get("settings", {}))
    now_ms = _now_ms(case.get("now", "2026-11-20T12:00:00Z"))
    items = []
    for event in case["events"]:
        result = _map(connector, event, now_ms)
        assert isinstance(result, Item), f"response-case events must map: {result}"
        items.append(result)
    spec = case["response"]
    body = spec.get("body", b"")
    raw = body.encode() if isinstance(body, str) else orjson.dumps(body) if body is not None else b""
    response = HttpResponse(
        status=spec["status"], headers=spec.get("headers", {}), body=raw, error=spec.get("error")
    )
    outcomes = connector.classify(response, items)
    assert len(outcomes) == len(items)
    assert len(case["outcomes"]) == len(items), "one expected outcome per event"
    for got, want in zip(outcomes, case["outcomes"], strict=True):
        assert got.kind.value == want["kind"], got
        for key in OUTCOME_KEYS:
            if key in want:
                assert getattr(got, key) == want[key], f"{key}: {got}"
