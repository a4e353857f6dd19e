"""Microsoft UET CAPI stand-in: partial acceptance with continueOnValidationError, 400 without."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sandbox.testing import SandboxHandle
from tests.sandbox.conftest import Client
from tests.sandbox.payloads import TOKEN, UA, sha

PATH = "/v1/187012345/events"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def event(event_id: str = "ORD-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "eventType": "custom",
        "eventId": event_id,
        "eventName": "purchase",
        "eventTime": int(time.time()) - 60,
        "adStorageConsent": "G",
        "userData": {
            "em": sha("alice@example.com"),
            "ph": sha("+16505551212"),
            "msclkid": "f894f652ea334e739002f7167ab8f8e3",
            "externalId": "crm-42",
            "clientIpAddress": "203.0.113.7",
            "clientUserAgent": UA,
        },
        "customData": {"value": 12.5, "currency": "USD", "transactionId": event_id, "pageType": "purchase"},
    }
    body.update(overrides)
    return body


def body(*events: dict[str, Any], flag: bool | None = True) -> dict[str, Any]:
    out: dict[str, Any] = {"data": list(events) or [event()], "dataProvider": "capi-relay"}
    if flag is not None:
        out["continueOnValidationError"] = flag
    return out


async def post(client: Client, payload: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    status, _, data = await client.post("microsoft", PATH, payload, HEADERS if headers is None else headers)
    return status, data


async def test_valid_batch_accepted(client: Client, sbx: SandboxHandle) -> None:
    status, data = await post(client, body(event("A"), event("B")))
    assert status == 200 and data["eventsReceived"] == 2 and "error" not in data and data["traceId"]
    assert sbx.state.count("microsoft", "A") == 1


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}])
async def test_bad_token(client: Client, headers: dict[str, str]) -> None:
    status, data = await post(client, body(), headers)
    assert status == 401 and data["error"]["code"] == "Unauthorized"


@pytest.mark.parametrize(
    ("mutate", "prop"),
    [
        (lambda e: e.update(eventType="click"), "eventType"),
        (lambda e: e.update(eventTime=int(time.time() * 1000)), "eventTime"),
        (lambda e: e.pop("eventName"), "eventName"),
        (lambda e: e.update(eventType="pageLoad", eventSourceUrl=None), "eventSourceUrl"),
        (lambda e: e.update(adStorageConsent="granted"), "adStorageConsent"),
        (lambda e: e["userData"].update(em="Alice@Example.com"), "userData.em"),
        (lambda e: e["userData"].update(ph="+16505551212"), "userData.ph"),
        (lambda e: e["userData"].update(msclkid="not-a-click"), "userData.msclkid"),
        (lambda e: e["userData"].update(clientIpAddress=sha("ip")), "userData.clientIpAddress"),
        (lambda e: e["customData"].update(value="12.5"), "customData.value"),
        (lambda e: e["customData"].update(pageType="checkout"), "customData.pageType"),
    ],
)
async def test_invalid_event_is_reported_by_index(
    client: Client, sbx: SandboxHandle, mutate: Any, prop: str
) -> None:
    bad = event("BAD")
    mutate(bad)
    status, data = await post(client, body(event("GOOD"), bad))
    assert status == 200 and data["eventsReceived"] == 1, data
    (detail,) = data["error"]["details"]
    assert detail["index"] == 1 and detail["propertyName"] == prop and detail["isWarning"] is False
    assert sbx.state.count("microsoft", "GOOD") == 1 and sbx.state.count("microsoft", "BAD") == 0


async def test_old_event_without_identifiers_or_currency_is_accepted(
    client: Client, sbx: SandboxHandle
) -> None:
    """Microsoft publishes no maximum age, no minimum identity and no required currency."""
    bare = event("BARE", eventTime=int(time.time()) - 30 * 86400, userData={"clientUserAgent": UA})
    bare["customData"] = {"transactionId": "BARE", "pageType": "purchase"}
    status, data = await post(client, body(bare))
    assert status == 200 and data["eventsReceived"] == 1 and "error" not in data, data
    assert sbx.state.count("microsoft", "BARE") == 1


async def test_without_flag_nothing_is_ingested(client: Client, sbx: SandboxHandle) -> None:
    bad = event("BAD", eventType="click")
    status, data = await post(client, body(event("GOOD"), bad, flag=None))
    assert status == 400 and data["eventsReceived"] == 0 and data["error"]["details"][0]["index"] == 1
    assert sbx.state.count("microsoft", "GOOD") == 0


async def test_flag_on_event_is_honoured(client: Client, sbx: SandboxHandle) -> None:
    good = event("GOOD", continueOnValidationError=True)
    status, _ = await post(client, body(good, event("BAD", eventType="click"), flag=None))
    assert status == 200 and sbx.state.count("microsoft", "GOOD") == 1


@pytest.mark.parametrize(
    "payload", [{"data": []}, {"data": [event()] * 1001}, {"data": [event()], "dataProvider": 3}]
)
async def test_envelope(client: Client, payload: Any) -> None:
    status, data = await post(client, payload)
    assert status == 400 and data["eventsReceived"] == 0


async def test_non_numeric_tag(client: Client) -> None:
    status, _, data = await client.post("microsoft", "/v1/abc/events", body(), HEADERS)
    assert status == 400 and data["error"]["code"] == "InvalidTagId"


async def test_faults(client: Client, sbx: SandboxHandle) -> None:
    sbx.set_faults("microsoft", throttle_rate=1.0)
    status, _ = await post(client, body())
    assert status == 429
    sbx.set_faults("microsoft", throttle_rate=0.0, error_5xx_rate=1.0, error_5xx_statuses=[503])
    status, data = await post(client, body())
    assert status == 503 and data["error"]["code"] == "InternalServerError"
    sbx.set_faults("microsoft", error_5xx_rate=0.0, reject_event_rate=1.0)
    status, data = await post(client, body(event("A"), event("B")))
    assert status == 200 and data["eventsReceived"] == 0 and len(data["error"]["details"]) == 2
