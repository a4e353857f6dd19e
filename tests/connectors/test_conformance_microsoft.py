"""Microsoft UET CAPI vectors (Segment ``ms-bing-capi``) run end to end through
``MicrosoftConnector``.

Segment's tests assert shapes, not values (README caveat 13). We check the ones that state
Microsoft's rules: ``eventType`` custom, ``em``/``ph`` as 64 lowercase hex, ``eventTime`` in epoch
seconds, ``adStorageConsent`` G or D following the consent, ``eventId`` and ``referrerUrl``
forwarded, ``ph`` absent when there is no phone. Not compared, with the reason: ``pageLoadId``,
``pageTitle`` and ``keywords`` are not in our event contract; Segment puts ``dataProvider`` on
each event where we (following the reference body) put it at the top level; and the
``toHaveLength(2)`` assertions count an artefact of Segment's batch test harness.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from connectors import normalize as n
from connectors.base import Item
from connectors.microsoft import MicrosoftConnector, Settings
from consumer.contract import complete_event
from tests.conformance import PHONE_INVALID, load_vectors, vector_id

RECORDS = load_vectors("segment_ms_bing_capi.json")
NOT_OURS = ("pageLoadId", "pageTitle", "keywords", "dataProvider")


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def _payload(record: dict[str, Any]) -> dict[str, Any]:
    src = record["input"]["event"]
    mapping = record["input"]["mapping"]
    data, user_map = mapping.get("data", {}), mapping.get("userData", {})
    event_ms = _ms(data.get("eventTime") or src["timestamp"])
    storage = "DENIED" if data.get("adStorageConsent") == "D" else "GRANTED"
    page = src["context"].get("page") or {}
    event = complete_event({
        "type": "lead", "event_id": data.get("eventId") or src["messageId"], "event_time": event_ms,
        "lead_id": "l-1", "form_id": "f",
        "user": {"email": user_map.get("em"), "phone": user_map.get("ph"),
                 "anonymous_id": user_map.get("anonymousId")},
        "click_ids": {},
        "consent": {"ad_user_data": "GRANTED", "ad_personalization": "GRANTED", "ad_storage": storage},
        "context": {"action_source": "WEBSITE", "page_url": page.get("url"),
                    "referrer_url": data.get("referrerUrl") or page.get("referrer"),
                    "ip_address": src["context"].get("ip"), "user_agent": src["context"].get("userAgent")},
    })
    connector = MicrosoftConnector(Settings(uet_tag_id=record["input"]["settings"]["UetTag"]))
    item = connector.map_event(event, event_ms)
    assert isinstance(item, Item), item
    return item.payload


def _get(payload: dict[str, Any], path: str) -> Any:
    node: Any = payload
    for part in path.removeprefix("body.data[0].").split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


@pytest.mark.parametrize("record", RECORDS, ids=[vector_id(r, i) for i, r in enumerate(RECORDS)])
def test_segment_vector(record: dict[str, Any]) -> None:
    phone = record["input"]["mapping"].get("userData", {}).get("ph")
    if phone and n.phone_e164(phone) is None:
        pytest.skip(PHONE_INVALID)  # '+1 (555) 123-4567': area code 555 is not assigned
    payload = _payload(record)
    checked = 0
    for assertion in record["expected"]["assertions"]:
        path, matcher, want = assertion["path"], assertion["matcher"], assertion["expected"]
        if not path.startswith("body.data[0].") or path.rsplit(".", 1)[-1] in NOT_OURS:
            continue  # harness batch length / fields outside our contract (module docstring)
        got = _get(payload, path)
        if matcher == "toMatch":
            pattern = want["<regex>"].strip("/")
            assert isinstance(got, str) and re.fullmatch(pattern.strip("^$"), got), (path, got)
        elif matcher == "toBeNull":
            assert got is None, (path, got)
        else:
            assert got == want, (path, got, want)
        checked += 1
    assert checked, "every vector states at least one rule we check"
