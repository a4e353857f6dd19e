"""LinkedIn Conversions API stand-in: headers, BATCH_CREATE, 422 index lines, version sunset."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from sandbox.testing import SandboxHandle
from tests.sandbox.conftest import Client
from tests.sandbox.payloads import TOKEN, sha

PATH = "/rest/conversionEvents"


def version(months_back: int = 1) -> str:
    now = datetime.now(UTC)
    total = now.year * 12 + now.month - 1 - months_back
    return f"{total // 12}{total % 12 + 1:02d}"


def headers(*, batch: bool = True, extra: dict[str, str] | None = None) -> dict[str, str]:
    out = {
        "Authorization": f"Bearer {TOKEN}",
        "LinkedIn-Version": version(),
        "X-Restli-Protocol-Version": "2.0.0",
    }
    if batch:
        out["X-RestLi-Method"] = "BATCH_CREATE"
    out.update(extra or {})
    return out


def element(event_id: str = "purchase:ORD-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "conversion": "urn:lla:llaPartnerConversion:111111",
        "conversionHappenedAt": int(time.time() * 1000) - 60_000,
        "conversionValue": {"currencyCode": "USD", "amount": "129.99"},
        "eventId": event_id,
        "user": {
            "userIds": [
                {"idType": "SHA256_EMAIL", "idValue": sha("alice@example.com")},
                {"idType": "LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID", "idValue": "a1b2c3"},
            ],
            "userInfo": {"firstName": "Alice", "lastName": "Doe", "countryCode": "US"},
            "externalIds": ["crm-42"],
        },
    }
    body.update(overrides)
    return body


async def post(
    client: Client, payload: Any, hdrs: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    return await client.post("linkedin", PATH, payload, headers() if hdrs is None else hdrs)


async def test_batch_create(client: Client, sbx: SandboxHandle) -> None:
    status, _, data = await post(client, {"elements": [element("A"), element("B")]})
    assert status == 200 and data == {"elements": [{"status": 201}, {"status": 201}]}
    assert sbx.state.count("linkedin", "A") == 1


async def test_single_create_is_201(client: Client, sbx: SandboxHandle) -> None:
    status, hdrs, _ = await post(client, element("S"), headers(batch=False))
    assert status == 201 and hdrs["x-restli-id"] == "S" and sbx.state.count("linkedin", "S") == 1


async def test_user_info_alone_identifies(client: Client) -> None:
    user = {"userIds": [], "userInfo": {"firstName": "Alice", "lastName": "Doe"}}
    status, _, _ = await post(client, {"elements": [element(user=user)]})
    assert status == 200


@pytest.mark.parametrize(
    ("hdrs", "status", "code"),
    [
        (headers(extra={"Authorization": "Bearer nope"}), 401, "INVALID_ACCESS_TOKEN"),
        ({k: v for k, v in headers().items() if k != "LinkedIn-Version"}, 400, "VERSION_MISSING"),
        (headers(extra={"LinkedIn-Version": version(13)}), 426, "NONEXISTENT_VERSION"),
        (headers(extra={"LinkedIn-Version": version(-2)}), 426, "NONEXISTENT_VERSION"),
        (headers(extra={"X-Restli-Protocol-Version": "1.0.0"}), 400, "BAD_REQUEST"),
    ],
)
async def test_header_errors(client: Client, hdrs: dict[str, str], status: int, code: str) -> None:
    got, _, data = await post(client, {"elements": [element()]}, hdrs)
    assert got == status and data["code"] == code and data["status"] == status


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda e: e.update(conversion="111111"), "/conversion"),
        (lambda e: e.update(conversionHappenedAt=int(time.time())), "/conversionHappenedAt"),
        (
            lambda e: e.update(conversionHappenedAt=int(time.time() * 1000) - 91 * 86_400_000),
            "/conversionHappenedAt",
        ),
        (lambda e: e.update(conversionValue={"currencyCode": "USD"}), "/conversionValue/amount"),
        (
            lambda e: e.update(conversionValue={"currencyCode": "USD", "amount": 12.5}),
            "/conversionValue/amount",
        ),
        (lambda e: e["user"]["userIds"][0].update(idValue="alice@example.com"), "/user/userIds/0/idValue"),
        (lambda e: e["user"]["userIds"][1].update(idValue=sha("x")), "/user/userIds/1/idValue"),
        (lambda e: e["user"]["userIds"][0].update(idType="EMAIL"), "/user/userIds/0/idType"),
        (lambda e: e["user"]["userInfo"].pop("lastName"), "/user/userInfo/lastName"),
        (lambda e: e["user"].update(externalIds=["a", "b"]), "/user/externalIds"),
        (lambda e: e.update(user={"userIds": []}), "/user/userIds"),
    ],
)
async def test_invalid_element_422(client: Client, sbx: SandboxHandle, mutate: Any, path: str) -> None:
    bad = element("BAD")
    mutate(bad)
    status, _, data = await post(client, {"elements": [element("GOOD"), bad]})
    assert status == 422 and data["message"].startswith(f"Index: 1, ERROR :: {path} :: "), data
    assert sbx.state.count("linkedin", "GOOD") == 0


async def test_batch_limit(client: Client) -> None:
    status, _, _ = await post(client, {"elements": [element(f"E{i}") for i in range(5001)]})
    assert status == 400


async def test_faults(client: Client, sbx: SandboxHandle) -> None:
    sbx.set_faults("linkedin", throttle_rate=1.0, retry_after_s=9)
    status, hdrs, data = await post(client, {"elements": [element()]})
    assert status == 429 and "Retry-After" not in hdrs and data["code"] == "TOO_MANY_REQUESTS"
    sbx.set_faults("linkedin", throttle_rate=0.0, reject_event_rate=1.0)
    status, _, data = await post(client, {"elements": [element("A"), element("B")]})
    assert status == 422 and data["message"].count("Index: ") == 2
