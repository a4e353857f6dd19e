"""Google Ads uploadClickConversions stand-in: partial failure per row, request-level errors."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.testing import SandboxHandle
from tests.sandbox.conftest import Client
from tests.sandbox.payloads import ADS_PATH, ads_body, ads_conversion, google_dt, google_headers, now_s, sha


async def post(client: Client, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    status, _, data = await client.post(
        "google", ADS_PATH, body, google_headers() if headers is None else headers
    )
    return status, data


def row_errors(data: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """Map row index -> GoogleAdsError from partialFailureError."""
    failure = data["partialFailureError"]
    assert failure["code"] == 3
    detail = failure["details"][0]
    assert detail["@type"].endswith("google.ads.googleads.v22.errors.GoogleAdsFailure")
    return {e["location"]["fieldPathElements"][0]["index"]: e for e in detail["errors"]}


async def test_valid_upload(client: Client, sbx: SandboxHandle) -> None:
    status, data = await post(client, ads_body(ads_conversion("O1"), ads_conversion("O2"), jobId=42))
    assert status == 200
    assert "partialFailureError" not in data and data["jobId"] == "42"
    assert data["results"][0]["gclid"] == "Cj0KCQiA1234567890abc"
    assert sbx.state.count("google", "O1") == 1


async def test_login_customer_id_header(client: Client) -> None:
    status, _ = await post(client, ads_body(), {**google_headers(), "login-customer-id": "9876543210"})
    assert status == 200
    status, _data = await post(client, ads_body(), {**google_headers(), "login-customer-id": "987-654-3210"})
    assert status == 400


@pytest.mark.parametrize(
    ("headers", "status_code", "code"),
    [
        ({"developer-token": "sandbox-dev-token"}, 401, "OAUTH_TOKEN_HEADER_INVALID"),
        (google_headers(token="bad"), 401, "OAUTH_TOKEN_INVALID"),
        (google_headers(dev="bad"), 401, "DEVELOPER_TOKEN_INVALID"),
    ],
)
async def test_bad_auth(client: Client, headers: dict[str, str], status_code: int, code: str) -> None:
    status, data = await post(client, ads_body(), headers)
    assert status == status_code and data["error"]["status"] == "UNAUTHENTICATED"
    assert data["error"]["details"][0]["errors"][0]["errorCode"] == {"authenticationError": code}


@pytest.mark.parametrize(
    ("overrides", "category", "code"),
    [
        ({"conversionAction": None}, "fieldError", "REQUIRED"),
        (
            {"conversionDateTime": "2026-03-01T14:05:09Z"},
            "dateError",
            "INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET",
        ),
        ({"conversionDateTime": google_dt(now_s() - 91 * 86400)}, "conversionUploadError", "EXPIRED_EVENT"),
        ({"conversionDateTime": google_dt(now_s() + 3600)}, "dateError", "LATER_THAN_MAXIMUM_DATE"),
        (
            {"gbraid": "abc", "wbraid": "def", "gclid": None},
            "conversionUploadError",
            "GBRAID_WBRAID_BOTH_SET",
        ),
        (
            {"userIdentifiers": [{"hashedEmail": "john@example.com"}]},
            "conversionUploadError",
            "INVALID_USER_IDENTIFIER",
        ),
        (
            {"userIdentifiers": [{"hashedEmail": sha("a")[:60]}]},
            "conversionUploadError",
            "INVALID_USER_IDENTIFIER",
        ),
        (
            {"userIdentifiers": [{"hashedEmail": sha("a"), "hashedPhoneNumber": sha("b")}]},
            "conversionUploadError",
            "INVALID_USER_IDENTIFIER",
        ),
        ({"userIdentifiers": [{"addressInfo": {}}]}, "conversionUploadError", "UNSUPPORTED_USER_IDENTIFIER"),
        (
            {"userIdentifiers": [{"hashedEmail": sha(str(i))} for i in range(6)]},
            "collectionSizeError",
            "TOO_MANY",
        ),
        ({"gclid": None, "userIdentifiers": None}, "fieldError", "REQUIRED"),
        ({"orderId": "john@example.com"}, "conversionUploadError", "ORDER_ID_CONTAINS_PII"),
        (
            {"consent": {"adUserData": "GRANTED", "adPersonalization": "GRANTED"}},
            "fieldError",
            "VALUE_MUST_BE_UNSET",
        ),
        ({"gclid": "has space"}, "conversionUploadError", "UNPARSEABLE_GCLID"),
    ],
)
async def test_row_errors_are_partial_failures(
    client: Client, sbx: SandboxHandle, overrides: dict[str, Any], category: str, code: str
) -> None:
    bad = ads_conversion("BAD", **overrides)
    bad = {k: v for k, v in bad.items() if v is not None}
    status, data = await post(client, ads_body(ads_conversion("GOOD"), bad))
    assert status == 200, data
    errors = row_errors(data)
    assert list(errors) == [1]
    assert errors[1]["errorCode"] == {category: code}
    assert data["results"][1] == {} and data["results"][0]["gclid"]
    assert sbx.state.count("google", "GOOD") == 1 and sbx.state.count("google", "BAD") == 0
    assert sbx.state.stats()["google"]["rejected_events"] == 1


async def test_duplicate_order_in_request(client: Client) -> None:
    _status, data = await post(client, ads_body(ads_conversion("SAME"), ads_conversion("SAME")))
    assert row_errors(data)[1]["errorCode"] == {"conversionUploadError": "DUPLICATE_ORDER_ID"}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (ads_body(partialFailure=False), {"partialFailureError": "PARTIAL_FAILURE_MODE_REQUIRED"}),
        ({"conversions": [ads_conversion()]}, {"partialFailureError": "PARTIAL_FAILURE_MODE_REQUIRED"}),
        (
            ads_body(*[ads_conversion(f"O{i}") for i in range(2001)]),
            {"conversionUploadError": "TOO_MANY_CONVERSIONS_IN_REQUEST"},
        ),
        (ads_body(jobId=-1), {"conversionUploadError": "INVALID_JOB_ID"}),
    ],
)
async def test_request_level_errors(
    client: Client, sbx: SandboxHandle, body: Any, code: dict[str, str]
) -> None:
    status, data = await post(client, body)
    assert status == 400 and data["error"]["status"] == "INVALID_ARGUMENT"
    assert data["error"]["details"][0]["errors"][0]["errorCode"] == code
    assert sbx.state.stats()["google"]["accepted_events"] == 0


async def test_unknown_field_rejected(client: Client) -> None:
    status, data = await post(client, ads_body(ads_conversion(conversion_actionn="x")))
    assert status == 400 and "Unknown name" in data["error"]["message"]
    status, data = await post(
        client, ads_body(ads_conversion(conversion_action="customers/1/conversionActions/2"))
    )
    assert status == 200  # snake_case proto names are accepted by Google's JSON parser


async def test_validate_only_records_nothing(client: Client, sbx: SandboxHandle) -> None:
    status, data = await post(client, ads_body(ads_conversion("V1"), validateOnly=True))
    assert status == 200 and data == {}
    status, data = await post(client, ads_body(ads_conversion("V2", gclid="bad gclid"), validateOnly=True))
    assert "partialFailureError" in data and "results" not in data
    assert sbx.state.stats()["google"]["accepted_events"] == 0


async def test_ec_for_leads_without_click(client: Client, sbx: SandboxHandle) -> None:
    conv = ads_conversion(None)
    del conv["gclid"]
    status, data = await post(client, ads_body(conv))
    assert status == 200 and "partialFailureError" not in data, data
    assert sbx.state.stats()["google"]["unique_events"] == 1


async def test_bad_customer_id(client: Client) -> None:
    status, _, data = await client.post(
        "google", "/v22/customers/123:uploadClickConversions", ads_body(), google_headers()
    )
    assert status == 400 and data["error"]["details"][0]["errors"][0]["errorCode"] == {
        "requestError": "INVALID_CUSTOMER_ID"
    }
