"""TikTok Events API stand-in: code-in-body answers, whole-request failure, auth codes."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.testing import SandboxHandle
from tests.sandbox.conftest import Client
from tests.sandbox.payloads import TIKTOK_PATH, now_s, sha, tiktok_body, tiktok_event, tiktok_headers


async def post(client: Client, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    status, _, data = await client.post(
        "tiktok", TIKTOK_PATH, body, tiktok_headers() if headers is None else headers
    )
    return status, data


async def test_valid_request_accepted(client: Client, sbx: SandboxHandle) -> None:
    status, data = await post(client, tiktok_body(tiktok_event("T1"), tiktok_event("T2")))
    assert status == 200 and data["code"] == 0 and data["message"] == "OK" and data["request_id"]
    assert sbx.state.count("tiktok", "T1") == 1 and sbx.state.count("tiktok", "T2") == 1


async def test_crm_event_identified_by_lead(client: Client) -> None:
    event = tiktok_event("Q1", event="QualifiedLead", user={}, lead={"lead_id": "7350000000000000000"})
    del event["properties"]
    status, data = await post(client, tiktok_body(event, event_source="crm"))
    assert status == 200 and data["code"] == 0, data


@pytest.mark.parametrize(("headers", "expected"), [({}, 40105), ({"Access-Token": "nope"}, 40105)])
async def test_bad_auth_is_code_in_200(client: Client, headers: dict[str, str], expected: int) -> None:
    status, data = await post(client, tiktok_body(), headers)
    assert status == 200 and data["code"] == expected


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda e: e.pop("event"), "event"),
        (lambda e: e.pop("event_time"), "event_time"),
        (lambda e: e["user"].update(email="john@example.com"), "unhashed"),
        (lambda e: e["user"].update(phone=sha("x")[:63]), "64 hex"),
        (lambda e: e["user"].update(external_id=[sha("u").upper()]), "lowercase"),
        (lambda e: e["user"].update(ip=sha("1.2.3.4")), "ip"),
        (lambda e: e.update(event_time=now_s() + 600), "future"),
        (lambda e: e["properties"].update(value="12"), "value"),
    ],
)
async def test_invalid_row_fails_whole_request(
    client: Client, sbx: SandboxHandle, mutate: Any, needle: str
) -> None:
    bad = tiktok_event("BAD")
    mutate(bad)
    status, data = await post(client, tiktok_body(tiktok_event("GOOD"), bad))
    assert status == 200 and data["code"] == 40002, data
    assert needle in data["message"]
    assert sbx.state.count("tiktok", "GOOD") == 0
    assert sbx.state.stats()["tiktok"]["rejected_events"] == 2


@pytest.mark.parametrize("source", ["web", "crm", "offline"])
async def test_no_maximum_age(client: Client, sbx: SandboxHandle, source: str) -> None:
    """TikTok documents no maximum event age (neither its SDK nor its Events API pages)."""
    event = tiktok_event(f"OLD-{source}", event_time=now_s() - 60 * 86400)
    _status, data = await post(client, tiktok_body(event, event_source=source))
    assert data["code"] == 0, data
    assert sbx.state.count("tiktok", f"OLD-{source}") == 1


async def test_no_minimum_identity_or_currency(client: Client, sbx: SandboxHandle) -> None:
    """Every user key and properties.value/currency are optional in TikTok's SDK."""
    event = tiktok_event("ANON", user={"user_agent": "Mozilla"})
    event["properties"] = {"order_id": "ANON"}
    _status, data = await post(client, tiktok_body(event))
    assert data["code"] == 0, data
    assert sbx.state.count("tiktok", "ANON") == 1


@pytest.mark.parametrize(
    "top",
    [{"event_source": "shop"}, {"event_source_id": ""}, {"data": []}, {"test_event_code": 5}],
)
async def test_envelope_errors(client: Client, top: dict[str, Any]) -> None:
    status, data = await post(client, tiktok_body(**top))
    assert status == 200 and data["code"] == 40002


async def test_too_many_events(client: Client) -> None:
    _status, data = await post(client, tiktok_body(*[tiktok_event(f"E{i}") for i in range(1001)]))
    assert data["code"] == 40002 and "1000" in data["message"]


async def test_bad_json(client: Client) -> None:
    status, _, data = await client.post("tiktok", TIKTOK_PATH, None, tiktok_headers(), raw=b"[")
    assert status == 200 and data["code"] == 40002
