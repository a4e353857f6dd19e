"""Meta CAPI stand-in: success shape, all-or-nothing validation, auth, form bodies."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
import pytest

from sandbox.testing import SandboxHandle
from tests.sandbox.conftest import Client
from tests.sandbox.payloads import PIXEL_PATH, meta_body, meta_event, meta_headers, now_s, sha


async def post(client: Client, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    status, _, data = await client.post(
        "meta", PIXEL_PATH, body, meta_headers() if headers is None else headers
    )
    return status, data


async def test_valid_batch_is_accepted_and_recorded(client: Client, sbx: SandboxHandle) -> None:
    status, data = await post(client, meta_body(meta_event("A"), meta_event("B")))
    assert status == 200
    assert data["events_received"] == 2 and data["messages"] == [] and data["fbtrace_id"]
    assert sbx.state.count("meta", "A") == 1
    stats = sbx.state.stats()["meta"]
    assert stats["accepted_events"] == 2 and stats["unique_events"] == 2


async def test_access_token_query_parameter(client: Client) -> None:
    path = PIXEL_PATH + "?access_token=sandbox-token"
    status, _, data = await client.post("meta", path, meta_body(), headers={})
    assert status == 200, data


async def test_form_encoded_body_with_token(client: Client, sbx: SandboxHandle) -> None:
    form = urlencode({"data": orjson.dumps([meta_event("F1")]).decode(), "access_token": "sandbox-token"})
    status, _, data = await client.post(
        "meta", PIXEL_PATH, None, {"Content-Type": "application/x-www-form-urlencoded"}, raw=form.encode()
    )
    assert status == 200, data
    assert sbx.state.count("meta", "F1") == 1


async def test_form_body_with_events_as_json_strings(client: Client, sbx: SandboxHandle) -> None:
    """Meta's Business SDK sends ``data`` as a JSON array of JSON-encoded event strings."""
    events = [orjson.dumps(meta_event(key)).decode() for key in ("S1", "S2")]
    form = urlencode({"data": orjson.dumps(events).decode(), "access_token": "sandbox-token"})
    status, _, data = await client.post(
        "meta", PIXEL_PATH, None, {"Content-Type": "application/x-www-form-urlencoded"}, raw=form.encode()
    )
    assert status == 200, data
    assert sbx.state.count("meta", "S1") == 1 and sbx.state.count("meta", "S2") == 1


async def test_form_body_string_that_is_not_an_object_is_refused(client: Client) -> None:
    form = urlencode({"data": orjson.dumps(["not json"]).decode(), "access_token": "sandbox-token"})
    status, _, data = await client.post(
        "meta", PIXEL_PATH, None, {"Content-Type": "application/x-www-form-urlencoded"}, raw=form.encode()
    )
    assert status == 400 and "must be an object" in data["error"]["message"]


@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, 104), ({"Authorization": "Bearer wrong"}, 190)],
)
async def test_bad_auth(client: Client, headers: dict[str, str], code: int) -> None:
    status, data = await post(client, meta_body(), headers)
    assert status == 400
    assert data["error"]["code"] == code and data["error"]["type"] == "OAuthException"


def _mutate(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    target = event
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return event


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        ("event_name", _DELETE, "event_name"),
        ("action_source", _DELETE, "action_source"),
        ("user_data.em", ["john_smith@gmail.com"], "unhashed"),
        ("user_data.ph", [sha("x")[:40]], "64 hex"),
        ("user_data.em", [sha("x").upper()], "lowercase"),
        ("user_data.external_id", [""], "external_id"),
        ("user_data.fbc", sha("fbclid"), "fbc"),
        ("user_data.fbp", "fb.1.1771000000.1098115397", "fbp"),
        ("user_data.client_ip_address", sha("203.0.113.7"), "client_ip_address"),
        ("user_data.client_user_agent", _DELETE, "client_user_agent"),
        ("event_source_url", _DELETE, "event_source_url"),
        ("custom_data", {"value": 10}, "currency"),
        ("event_time", now_s() - 8 * 86400, "7 days"),
        ("event_time", (now_s() + 3600), "future"),
        ("event_time", now_s() * 1000, "future"),
        ("user_data", {"client_user_agent": "Mozilla"}, "insufficient customer information"),
    ],
)
async def test_invalid_event_rejects_whole_batch(
    client: Client, sbx: SandboxHandle, path: str, value: Any, needle: str
) -> None:
    bad = _mutate(meta_event("BAD"), path, value)
    status, data = await post(client, meta_body(meta_event("GOOD"), bad))
    assert status == 400, data
    error = data["error"]
    assert error["code"] == 100 and error["error_subcode"] in (2804001, 2804003)
    assert needle in error["message"] and "data[1]" in error["message"]
    assert sbx.state.count("meta", "GOOD") == 0  # no partial success
    stats = sbx.state.stats()["meta"]
    assert stats["rejected_requests"] == 1 and stats["rejected_events"] == 2


@pytest.mark.parametrize("external_id", ["crm-42", ["crm-42", sha("crm-42")], sha("crm-42")])
async def test_external_id_plain_or_hashed_is_accepted(
    client: Client, sbx: SandboxHandle, external_id: Any
) -> None:
    """Meta recommends hashing external_id but does not require it: both forms are accepted."""
    event = meta_event("EXT")
    event["user_data"]["external_id"] = external_id
    status, data = await post(client, meta_body(event))
    assert status == 200, data
    assert sbx.state.count("meta", "EXT") == 1


async def test_too_old_uses_time_subcode(client: Client) -> None:
    status, data = await post(client, meta_body(meta_event(event_time=now_s() - 8 * 86400)))
    assert status == 400 and data["error"]["error_subcode"] == 2804003


async def test_physical_store_allows_62_days(client: Client) -> None:
    event = meta_event(action_source="physical_store", event_time=now_s() - 30 * 86400)
    status, data = await post(client, meta_body(event))
    assert status == 200, data


async def test_non_website_does_not_need_ua_or_url(client: Client) -> None:
    event = meta_event("CRM-1", event_name="Marketing Qualified Lead", action_source="system_generated")
    del event["event_source_url"]
    event["user_data"] = {"lead_id": 1234567890123456, "em": [sha("a@b.c")]}
    event["custom_data"] = {"event_source": "crm", "lead_event_source": "Salesforce"}
    status, data = await post(client, meta_body(event))
    assert status == 200, data


async def test_too_many_events(client: Client) -> None:
    status, data = await post(client, {"data": [meta_event(f"E{i}") for i in range(1001)]})
    assert status == 400 and data["error"]["code"] == 100 and "1000" in data["error"]["message"]


async def test_missing_data_and_bad_json(client: Client) -> None:
    status, data = await post(client, {"test_event_code": "T1"})
    assert status == 400 and data["error"]["code"] == 100
    status, _, data = await client.post("meta", PIXEL_PATH, None, meta_headers(), raw=b"{nope")
    assert status == 400 and data["error"]["code"] == 100


async def test_bad_pixel_and_version(client: Client) -> None:
    status, _, data = await client.post("meta", "/v24.0/not-a-pixel/events", meta_body(), meta_headers())
    assert status == 400 and data["error"]["error_subcode"] == 33
    status, _, data = await client.post("meta", "/24/1234/events", meta_body(), meta_headers())
    assert status == 400 and data["error"]["code"] == 2500


async def test_repeat_is_recorded_as_duplicate(client: Client, sbx: SandboxHandle) -> None:
    for _ in range(2):
        status, _ = await post(client, meta_body(meta_event("DUP")))
        assert status == 200
    assert sbx.state.count("meta", "DUP") == 2
    assert sbx.state.stats()["meta"]["duplicate_events"] == 1
