"""Pinterest CAPI v5 stand-in: per-event statuses, 422 partial answers, ?test=true."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sandbox.testing import SandboxHandle
from tests.sandbox.conftest import Client
from tests.sandbox.payloads import TOKEN, UA, sha

PATH = "/v5/ad_accounts/549757463328/events"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def event(event_id: str = "ORD-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_name": "checkout",
        "action_source": "web",
        "event_time": int(time.time()) - 60,
        "event_id": event_id,
        "event_source_url": "https://shop.example.com/thanks",
        "opt_out": False,
        "user_data": {
            "em": [sha("alice@example.com")],
            "ph": [sha("16505551212")],
            "client_ip_address": "203.0.113.7",
            "client_user_agent": UA,
            "click_id": "dj0yJnU9abc",
        },
        "custom_data": {
            "currency": "USD",
            "value": "129.99",
            "order_id": event_id,
            "num_items": 2,
            "content_ids": ["SKU-1"],
            "contents": [{"id": "SKU-1", "item_price": "64.99", "quantity": 2}],
        },
    }
    body.update(overrides)
    return body


async def post(
    client: Client, payload: Any, path: str = PATH, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    status, _, data = await client.post("pinterest", path, payload, HEADERS if headers is None else headers)
    return status, data


async def test_valid_batch_accepted(client: Client, sbx: SandboxHandle) -> None:
    lead = event("L-1", event_name="lead", action_source="offline")
    del lead["custom_data"]
    status, data = await post(client, {"data": [event("A"), lead]})
    assert status == 200 and data["num_events_processed"] == 2
    assert [e["status"] for e in data["events"]] == ["processed", "processed"]
    assert sbx.state.count("pinterest", "A") == 1


async def test_bad_token(client: Client) -> None:
    status, data = await post(client, {"data": [event()]}, headers={"Authorization": "Bearer nope"})
    assert status == 401 and data["code"] == 2


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda e: e.update(event_name="purchase"), "event_name"),
        (lambda e: e.update(action_source="website"), "action_source"),
        (lambda e: e.update(event_time=int(time.time() * 1000)), "future"),
        (lambda e: e.pop("event_id"), "event_id"),
        (lambda e: e["user_data"].update(em=sha("a")), "array"),
        (lambda e: e["user_data"].update(em=["alice@example.com"]), "hashed"),
        (lambda e: e["user_data"].update(client_ip_address=sha("ip")), "client_ip_address"),
        (lambda e: e.update(user_data={"ph": [sha("1")]}), "needs em"),
        (lambda e: e["custom_data"].update(value=129.99), "decimal string"),
        (lambda e: e["custom_data"].update(revenue="1"), "additional properties"),
        (lambda e: e["custom_data"]["contents"][0].update(item_price=64.99), "item_price"),
    ],
)
async def test_failed_event_is_422_others_recorded(
    client: Client, sbx: SandboxHandle, mutate: Any, needle: str
) -> None:
    bad = event("BAD")
    mutate(bad)
    status, data = await post(client, {"data": [event("GOOD"), bad]})
    assert status == 422 and data["code"] == 953, data
    events = data["details"]["events"]
    assert events[0]["status"] == "processed" and events[1]["status"] == "failed"
    assert needle in events[1]["error_message"]
    assert sbx.state.count("pinterest", "GOOD") == 1 and sbx.state.count("pinterest", "BAD") == 0


async def test_old_event_is_processed(client: Client, sbx: SandboxHandle) -> None:
    """Pinterest's OpenAPI spec sets no maximum age on event_time, so the stand-in refuses none."""
    status, data = await post(client, {"data": [event("OLD", event_time=int(time.time()) - 60 * 86400)]})
    assert status == 200 and data["events"][0]["status"] == "processed", data
    assert sbx.state.count("pinterest", "OLD") == 1


@pytest.mark.parametrize(
    "payload", [{"data": []}, {"data": [event()], "extra": 1}, {"data": [event()] * 1001}]
)
async def test_envelope(client: Client, payload: Any) -> None:
    status, data = await post(client, payload)
    assert status == 400 and data["code"] == 4196


async def test_test_mode_records_nothing(client: Client, sbx: SandboxHandle) -> None:
    status, data = await post(client, {"data": [event("T")]}, PATH + "?test=true")
    assert status == 200 and data["num_events_processed"] == 1
    assert sbx.state.count("pinterest", "T") == 0


async def test_faults(client: Client, sbx: SandboxHandle) -> None:
    sbx.set_faults("pinterest", error_5xx_rate=1.0, error_5xx_statuses=[503])
    status, data = await post(client, {"data": [event()]})
    assert status == 503 and data["code"] == 4197
    sbx.set_faults("pinterest", error_5xx_rate=0.0, throttle_rate=1.0)
    status, data = await post(client, {"data": [event()]})
    assert status == 429 and data["code"] == 8
    sbx.set_faults("pinterest", throttle_rate=0.0, reject_event_rate=1.0)
    status, data = await post(client, {"data": [event("A")]})
    assert status == 422 and data["details"]["num_events_processed"] == 0
