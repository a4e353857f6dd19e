"""Snap CAPI v3 stand-in: token placement, all-or-nothing validation, the validate endpoint."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sandbox.testing import SandboxHandle
from tests.sandbox.conftest import Client
from tests.sandbox.payloads import TOKEN, UA, sha

PATH = f"/v3/pixel-123/events?access_token={TOKEN}"


def event(event_id: str = "ORD-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_name": "PURCHASE",
        "event_time": int(time.time()) - 60,
        "event_id": event_id,
        "action_source": "WEB",
        "event_source_url": "https://shop.example.com/thanks",
        "user_data": {
            "em": [sha("alice@example.com")],
            "ph": [sha("16505551212")],
            "client_ip_address": "203.0.113.7",
            "client_user_agent": UA,
            "sc_click_id": "abc-123",
        },
        "custom_data": {"currency": "USD", "value": 12.5, "order_id": event_id},
    }
    body.update(overrides)
    return body


async def post(
    client: Client, payload: Any, path: str = PATH, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    status, _, data = await client.post("snap", path, payload, headers)
    return status, data


async def test_valid_batch_accepted(client: Client, sbx: SandboxHandle) -> None:
    lead = event("L-1", event_name="sign_up", action_source="OFFLINE", custom_data=None)
    del lead["custom_data"]
    status, data = await post(client, {"data": [event("A"), lead]})
    assert status == 200 and data["status"] == "VALID"
    assert sbx.state.count("snap", "A") == 1 and sbx.state.count("snap", "L-1") == 1


async def test_bearer_token_and_ms_time(client: Client, sbx: SandboxHandle) -> None:
    e = event("B", event_time=int(time.time() * 1000) - 60_000)
    status, _ = await post(
        client, {"data": [e]}, "/v3/pixel-123/events", {"Authorization": f"Bearer {TOKEN}"}
    )
    assert status == 200 and sbx.state.count("snap", "B") == 1


@pytest.mark.parametrize("path", ["/v3/pixel-123/events", "/v3/pixel-123/events?access_token=nope"])
async def test_bad_token(client: Client, path: str) -> None:
    status, data = await post(client, {"data": [event()]}, path)
    assert status == 401 and data["status"] == "INVALID"


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda e: e.update(event_name="LEAD"), "event_name"),
        (lambda e: e.update(event_time=int(time.time()) - 38 * 86400), "37 days"),
        (lambda e: e.update(action_source="email"), "action_source"),
        (lambda e: e.pop("event_source_url"), "event_source_url"),
        (lambda e: e["user_data"].pop("client_user_agent"), "client_user_agent"),
        (lambda e: e["user_data"].update(em=["alice@example.com"]), "user_data.em"),
        (lambda e: e["user_data"].update(ph=sha("x").upper()), "user_data.ph"),
        (lambda e: e["user_data"].update(client_ip_address=sha("ip")), "client_ip_address"),
        (lambda e: e["user_data"].update(sc_click_id=sha("click")), "sc_click_id"),
        (lambda e: e.update(action_source="OFFLINE", user_data={"sc_click_id": "x"}), "needs em"),
        (lambda e: e["custom_data"].update(currency="usd"), "currency"),
        (lambda e: e.update(data_processing_options=["CCPA"]), "data_processing_options"),
    ],
)
async def test_invalid_event_fails_request(
    client: Client, sbx: SandboxHandle, mutate: Any, needle: str
) -> None:
    bad = event("BAD")
    mutate(bad)
    status, data = await post(client, {"data": [event("GOOD"), bad]})
    assert status == 400 and data["status"] == "INVALID" and data["event"] == 1, data
    assert needle in data["reason"]
    assert sbx.state.count("snap", "GOOD") == 0


async def test_validate_records_nothing(client: Client, sbx: SandboxHandle) -> None:
    path = f"/v3/pixel-123/events/validate?access_token={TOKEN}"
    status, data = await post(client, {"data": [event("V1"), event("V2", event_name="nope")]}, path)
    assert status == 200 and data["status"] == "INVALID" and data["test_event"] is True
    assert [log["status"] for log in data["event_logs"]] == ["VALID", "INVALID"]
    assert sbx.state.stats()["snap"]["accepted_events"] == 0


async def test_batch_limit(client: Client) -> None:
    status, data = await post(client, {"data": [event(f"E{i}") for i in range(2001)]})
    assert status == 400 and "2000" in data["reason"]


async def test_faults(client: Client, sbx: SandboxHandle) -> None:
    sbx.set_faults("snap", throttle_rate=1.0)
    status, _, _ = await client.post("snap", PATH, {"data": [event()]})
    assert status == 429
    sbx.set_faults("snap", throttle_rate=0.0, reject_event_rate=1.0)
    status, data = await post(client, {"data": [event("A")]})
    assert status == 400 and data["event"] == 0
