"""Runs the Google golden cases (the shared runner tests/connectors/test_golden.py runs them too;
this copy keeps the Google connector checkable on its own)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.base import Credentials, HttpResponse, Item, Reject
from connectors.google import GoogleConnector, Settings
from consumer.contract import complete_event

HERE = Path(__file__).parent
REQUEST_CASES = sorted((HERE / "cases").glob("*.json"))
RESPONSE_CASES = sorted((HERE / "responses").glob("*.json"))


def _now_ms(case: dict[str, Any]) -> int:
    return int(datetime.fromisoformat(case["now"].replace("Z", "+00:00")).timestamp() * 1000)


def _connector(case: dict[str, Any]) -> GoogleConnector:
    return GoogleConnector(Settings.model_validate(case["settings"]))


@pytest.mark.parametrize("path", REQUEST_CASES, ids=[p.stem for p in REQUEST_CASES])
def test_request_case(path: Path) -> None:
    case = json.loads(path.read_text())
    connector = _connector(case)
    result = connector.map_event(complete_event(case["event"]), _now_ms(case))
    if "reject" in case:
        assert isinstance(result, Reject), result
        assert result.code == case["reject"]["code"]
        return
    assert isinstance(result, Item), result
    request = connector.build_request(
        [result], Credentials(access_token="TEST_TOKEN", extra=case.get("credentials", {}))
    )
    expected = case["request"]
    assert request.method == expected["method"]
    assert request.url == expected["url"]
    assert dict(request.headers) == expected["headers"]
    assert orjson.loads(request.body) == expected["body"]


@pytest.mark.parametrize("path", RESPONSE_CASES, ids=[p.stem for p in RESPONSE_CASES])
def test_response_case(path: Path) -> None:
    case = json.loads(path.read_text())
    connector = _connector(case)
    items = []
    for event in case["events"]:
        item = connector.map_event(complete_event(event), _now_ms(case))
        assert isinstance(item, Item), item
        items.append(item)
    response = case["response"]
    body = response["body"]
    raw = body.encode() if isinstance(body, str) else orjson.dumps(body)
    outcomes = connector.classify(HttpResponse(response["status"], response["headers"], raw), items)
    assert len(outcomes) == len(case["outcomes"])
    for got, want in zip(outcomes, case["outcomes"], strict=True):
        assert got.kind.value == want["kind"], (got, want)
        for key in ("code", "retry_after", "batch_rejected", "duplicate"):
            if key in want:
                assert getattr(got, key) == want[key], (key, got, want)
