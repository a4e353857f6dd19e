"""Valid request bodies for each platform, built fresh per test and overridable field by field."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from typing import Any

TOKEN = "sandbox-token"
DEV_TOKEN = "sandbox-dev-token"
PIXEL_PATH = "/v24.0/1234567890/events"
TIKTOK_PATH = "/open_api/v1.3/event/track/"
ADS_PATH = "/v22/customers/1234567890:uploadClickConversions"
DM_PATH = "/v1/events:ingest"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"


def sha(text: str) -> str:
    """Lowercase SHA-256 hex, as platforms expect."""
    return hashlib.sha256(text.encode()).hexdigest()


def now_s() -> int:
    return int(time.time())


def meta_event(event_id: str = "ORD-1", **overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_name": "Purchase",
        "event_time": now_s() - 60,
        "event_id": event_id,
        "action_source": "website",
        "event_source_url": "https://shop.example.com/checkout/success",
        "user_data": {
            "em": [sha("john_smith@gmail.com")],
            "ph": [sha("16505551212")],
            "client_ip_address": "203.0.113.7",
            "client_user_agent": UA,
            "fbc": "fb.1.1772370000000.IwAR2F4-dbP0l7Mn1Iaw",
            "fbp": "fb.1.1771000000000.1098115397",
        },
        "custom_data": {"currency": "EUR", "value": 129.9, "order_id": event_id},
    }
    event.update(overrides)
    return event


def meta_body(*events: dict[str, Any]) -> dict[str, Any]:
    return {"data": list(events) or [meta_event()]}


def tiktok_event(event_id: str = "ORD-1", **overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event": "Purchase",
        "event_time": now_s() - 60,
        "event_id": event_id,
        "user": {
            "email": sha("john_smith@gmail.com"),
            "phone": sha("+16505551212"),
            "ttclid": "E.C.P.abc123",
            "ip": "203.0.113.7",
            "user_agent": UA,
        },
        "properties": {"currency": "EUR", "value": 129.9, "order_id": event_id},
        "page": {"url": "https://shop.example.com/checkout/success"},
    }
    event.update(overrides)
    return event


def tiktok_body(*events: dict[str, Any], **top: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_source": "web",
        "event_source_id": "CXXXXXXXXXXXXXXXXXXX",
        "data": list(events) or [tiktok_event()],
    }
    body.update(top)
    return body


def google_dt(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")


def ads_conversion(order_id: str | None = "ORD-1", **overrides: Any) -> dict[str, Any]:
    conv: dict[str, Any] = {
        "gclid": "Cj0KCQiA1234567890abc",
        "conversionAction": "customers/1234567890/conversionActions/111111",
        "conversionDateTime": google_dt(now_s() - 3600),
        "conversionValue": 129.9,
        "currencyCode": "EUR",
        "userIdentifiers": [
            {"userIdentifierSource": "FIRST_PARTY", "hashedEmail": sha("johnsmith@gmail.com")},
            {"hashedPhoneNumber": sha("+16505551212")},
        ],
        "consent": {"adUserData": "GRANTED"},
    }
    if order_id is not None:
        conv["orderId"] = order_id
    conv.update(overrides)
    return conv


def ads_body(*conversions: dict[str, Any], **top: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"conversions": list(conversions) or [ads_conversion()], "partialFailure": True}
    body.update(top)
    return body


def dm_event(tx: str = "ORD-1", **overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "transactionId": tx,
        "eventTimestamp": datetime.fromtimestamp(now_s() - 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "WEB",
        "adIdentifiers": {"gclid": "Cj0KCQiA1234567890abc"},
        "conversionValue": 129.9,
        "currency": "EUR",
        "userData": {"userIdentifiers": [{"emailAddress": sha("johnsmith@gmail.com")}]},
        "consent": {"adUserData": "CONSENT_GRANTED", "adPersonalization": "CONSENT_GRANTED"},
    }
    event.update(overrides)
    return event


def dm_body(*events: dict[str, Any], **top: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "destinations": [
            {
                "operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": "1234567890"},
                "productDestinationId": "111111",
            }
        ],
        "encoding": "HEX",
        "events": list(events) or [dm_event()],
    }
    body.update(top)
    return body


def meta_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def tiktok_headers(token: str = TOKEN) -> dict[str, str]:
    return {"Access-Token": token}


def google_headers(token: str = TOKEN, dev: str = DEV_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "developer-token": dev}
