"""Google Data Manager events:ingest stand-in: fast-fail validation, requestId on success."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from sandbox.testing import SandboxHandle
from tests.sandbox.conftest import Client
from tests.sandbox.payloads import DM_PATH, dm_body, dm_event, google_headers, sha


async def post(client: Client, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    headers = {"Authorization": "Bearer sandbox-token"} if headers is None else headers
    status, _, data = await client.post("google", DM_PATH, body, headers)
    return status, data


def violations(data: dict[str, Any]) -> list[str]:
    details = data["error"]["details"]
    bad = next(d for d in details if d["@type"].endswith("google.rpc.BadRequest"))
    return [v["field"] for v in bad["fieldViolations"]]


async def test_valid_ingest(client: Client, sbx: SandboxHandle) -> None:
    status, data = await post(client, dm_body(dm_event("D1"), dm_event("D2")))
    assert status == 200 and set(data) == {"requestId"}
    assert sbx.state.count("google", "D1") == 1


async def test_developer_token_not_needed(client: Client) -> None:
    status, _ = await post(client, dm_body(), google_headers())
    assert status == 200


@pytest.mark.parametrize("source", ["WEB", "APP", "IN_STORE", "PHONE", "MESSAGE", "OTHER"])
async def test_every_event_source_accepted(client: Client, source: str) -> None:
    """Every value of Data Manager's EventSource enum, MESSAGE included, is accepted."""
    status, data = await post(client, dm_body(dm_event(eventSource=source)))
    assert status == 200, data


async def test_base64_encoding(client: Client) -> None:
    b64 = base64.b64encode(hashlib.sha256(b"johnsmith@gmail.com").digest()).decode()
    event = dm_event(userData={"userIdentifiers": [{"emailAddress": b64}]})
    status, data = await post(client, dm_body(event, encoding="BASE64"))
    assert status == 200, data


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}])
async def test_bad_auth(client: Client, headers: dict[str, str]) -> None:
    status, data = await post(client, dm_body(), headers)
    assert status == 401 and data["error"]["status"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (dm_event(eventTimestamp=None), "events[1].eventTimestamp"),
        (dm_event(eventTimestamp="2026-03-01 14:05:09+00:00"), "events[1].eventTimestamp"),
        (dm_event(eventTimestamp="2020-03-01T14:05:09Z"), "events[1].eventTimestamp"),
        (dm_event(eventSource="SHOP"), "events[1].eventSource"),
        (
            dm_event(userData={"userIdentifiers": [{"emailAddress": "john@example.com"}]}),
            "events[1].userData.userIdentifiers[0].emailAddress",
        ),
        (
            dm_event(userData={"userIdentifiers": [{"phoneNumber": sha("x")[:10]}]}),
            "events[1].userData.userIdentifiers[0].phoneNumber",
        ),
        (dm_event(adIdentifiers={"gbraid": "a", "wbraid": "b"}), "events[1].adIdentifiers"),
        (dm_event(adIdentifiers=None, userData=None), "events[1]"),
        (dm_event(consent={"adUserData": "GRANTED"}), "events[1].consent.adUserData"),
        (dm_event(transaction_idd="x"), "events[1].transaction_idd"),
    ],
)
async def test_invalid_event_rejects_request(
    client: Client, sbx: SandboxHandle, event: dict[str, Any], field: str
) -> None:
    event = {k: v for k, v in event.items() if v is not None}
    status, data = await post(client, dm_body(dm_event("GOOD"), event))
    assert status == 400 and data["error"]["status"] == "INVALID_ARGUMENT"
    assert field in violations(data)
    assert sbx.state.count("google", "GOOD") == 0


async def test_envelope_errors(client: Client) -> None:
    status, data = await post(client, dm_body(destinations=[]))
    assert status == 400 and "destinations" in violations(data)
    body = dm_body()
    del body["encoding"]
    status, data = await post(client, body)
    assert status == 400 and violations(data) == ["encoding"]
    status, data = await post(client, dm_body(*[dm_event(f"E{i}") for i in range(2001)]))
    assert status == 400 and violations(data) == ["events"]
    status, data = await post(client, {**dm_body(), "bogus": 1})
    assert status == 400 and "Unknown name" in data["error"]["message"]


async def test_validate_only_records_nothing(client: Client, sbx: SandboxHandle) -> None:
    status, data = await post(client, dm_body(validateOnly=True))
    assert status == 200 and data["requestId"]
    assert sbx.state.stats()["google"]["accepted_events"] == 0
