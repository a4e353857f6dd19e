"""Reddit Conversions API v3 stand-in: whole-request validation, v3 error shape, faults."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sandbox.testing import SandboxHandle
from tests.sandbox.conftest import Client
from tests.sandbox.payloads import TOKEN, UA, sha

PATH = "/api/v3/pixels/t2_abc123/conversion_events"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def event(conversion_id: str = "ORD-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_at": int(time.time() * 1000) - 60_000,
        "action_source": "WEBSITE",
        "event_source_url": "https://shop.example.com/thanks",
        "type": {"tracking_type": "PURCHASE"},
        "click_id": "1234567890",
        "user": {"email": sha("alice@example.com"), "ip_address": sha("203.0.113.7"), "user_agent": UA},
        "metadata": {"conversion_id": conversion_id, "currency": "USD", "value": 12.5, "item_count": 1},
    }
    body.update(overrides)
    return body


def body(*events: dict[str, Any], **data: Any) -> dict[str, Any]:
    return {"data": {**data, "events": list(events) or [event()]}}


async def post(client: Client, payload: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    status, _, data = await client.post("reddit", PATH, payload, HEADERS if headers is None else headers)
    return status, data


async def test_valid_batch_accepted(client: Client, sbx: SandboxHandle) -> None:
    custom = event("Q-1", type={"tracking_type": "CUSTOM", "custom_event_name": "qualified_lead"})
    status, data = await post(client, body(event("ORD-1"), custom, test_id="t_1", partner="x"))
    assert status == 200 and "2 conversion events" in data["data"]["message"]
    assert sbx.state.count("reddit", "ORD-1") == 1 and sbx.state.count("reddit", "Q-1") == 1


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}])
async def test_bad_token(client: Client, headers: dict[str, str]) -> None:
    status, data = await post(client, body(), headers)
    assert status == 401 and data["error"]["reason"] == "UNAUTHORIZED"


@pytest.mark.parametrize(
    ("mutate", "field", "needle"),
    [
        (lambda e: e.update(event_at=int(time.time())), "event_at", "milliseconds"),
        (lambda e: e.update(event_at=int(time.time() * 1000) - 169 * 3_600_000), "event_at", "168h"),
        (lambda e: e.update(event_at=int(time.time() * 1000) + 600_000), "event_at", "future"),
        (lambda e: e.update(action_source="PHONE"), "action_source", "one of"),
        (lambda e: e.pop("event_source_url"), "event_source_url", "WEBSITE"),
        (lambda e: e.update(type={"tracking_type": "CUSTOM"}), "custom_event_name", "CUSTOM"),
        (
            lambda e: e.update(type={"tracking_type": "LEAD", "custom_event_name": "x"}),
            "custom_event_name",
            "only",
        ),
        (lambda e: e["user"].update(email="alice@example.com"), "user.email", "raw"),
        (lambda e: e["user"].update(ip_address="203.0.113.7"), "user.ip_address", "hashed"),
        (lambda e: e["user"].update(user_agent=sha("ua")), "user.user_agent", "raw"),
        (lambda e: e.update(type={"tracking_type": "PAGE_VISIT"}), "metadata.value", "not accepted"),
        (lambda e: e["metadata"].update(currency="dollars"), "metadata.currency", "ISO"),
        (lambda e: e["user"].update(data_processing_options={"modes": ["X"]}), "modes", "LDU"),
    ],
)
async def test_invalid_event_fails_request(
    client: Client, sbx: SandboxHandle, mutate: Any, field: str, needle: str
) -> None:
    bad = event("BAD")
    mutate(bad)
    status, data = await post(client, body(event("GOOD"), bad))
    assert status == 400, data
    (entry,) = data["error"]["fields"]
    assert entry["field"].startswith("data.events[1]") and field in entry["field"], entry
    assert needle in entry["message"] or needle in data["error"]["message"], entry
    assert sbx.state.count("reddit", "GOOD") == 0
    assert sbx.state.stats()["reddit"]["rejected_events"] == 2


async def test_ldu_and_uuid_accepted(client: Client) -> None:
    user = {
        "uuid": "1795.abc",
        "data_processing_options": {"modes": ["LDU"], "country": "US", "region": "US-CA"},
    }
    status, _ = await post(client, body(event(click_id=None, user=user)))
    assert status == 200


async def test_no_minimum_identity_or_currency(client: Client, sbx: SandboxHandle) -> None:
    """Reddit's v3 documentation lists match keys and metadata but requires none of them."""
    bare = event("BARE", click_id=None, user={"phone_number": sha("+16505551212")})
    bare["metadata"] = {"conversion_id": "BARE", "item_count": 1}
    status, data = await post(client, body(bare))
    assert status == 200, data
    assert sbx.state.count("reddit", "BARE") == 1


async def test_batch_limit(client: Client) -> None:
    status, data = await post(client, body(*[event(f"E{i}") for i in range(1001)]))
    assert status == 400 and data["error"]["fields"][0]["field"] == "data.events"


async def test_faults(client: Client, sbx: SandboxHandle) -> None:
    sbx.set_faults("reddit", throttle_rate=1.0)
    status, data = await post(client, body())
    assert status == 429 and data["error"]["code"] == "RESOURCE_EXHAUSTED"
    sbx.set_faults("reddit", throttle_rate=0.0, error_5xx_rate=1.0, error_5xx_statuses=[502])
    status, _ = await post(client, body())
    assert status == 502
    sbx.set_faults("reddit", error_5xx_rate=0.0, reject_event_rate=1.0)
    status, data = await post(client, body(event("A"), event("B")))
    assert status == 400 and [f["field"] for f in data["error"]["fields"]] == [
        "data.events[0]",
        "data.events[1]",
    ]
    assert sbx.state.stats()["reddit"]["accepted_events"] == 0
