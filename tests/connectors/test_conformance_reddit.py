"""Reddit vectors (Segment ``reddit-conversions-api``, RudderStack ``reddit``) run end to end
through ``RedditConnector``: the vector's input becomes one of our events and the parts of the
expected body that state Reddit's own rules are compared with our v3 payload.

Compared (platform rules): email, phone, external id and IP hashed (already-hashed values pass
through), user agent, uuid and click id plain, products as ``{id, name, category}``, the tracking
type and custom name, the currency, and (Segment) a hashed conversion id. Not compared, with the
reason: both libraries target the legacy v2 body (``event_at`` as RFC 3339, ``event_metadata``,
``value_decimal``, PascalCase types), RudderStack's ``item_count`` counts product lines where we
send units, and device ids are not in our event contract. The RudderStack error vectors (no
event, no timestamp) are schema violations for us: such records never decode (DLQ at decode).
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors.base import Item
from connectors.reddit import RedditConnector, Settings
from consumer.contract import complete_event
from tests.conformance import load_vectors, vector_id

SEGMENT = load_vectors("segment_reddit_conversions_api.json")
RUDDER = load_vectors("rudderstack_reddit.json")
NOW_MS = 1_795_176_000_000
TYPES = {"Purchase": "purchase", "Lead": "lead", "Custom": "qualified", "AddToCart": "qualified"}
V2_ONLY = "legacy v2 body (event_at RFC 3339, event_metadata, value_decimal): we send v3"


def _event(kind: str, user: dict[str, Any], context: dict[str, Any], click: dict[str, Any],
           props: dict[str, Any]) -> dict[str, Any]:
    products = props.get("products") or ([props] if props.get("product_id") else [])
    event: dict[str, Any] = {
        "type": kind, "event_id": "conformance-1", "event_time": NOW_MS - 60_000,
        "user": user, "click_ids": click,
        "consent": {"ad_user_data": "GRANTED", "ad_personalization": "GRANTED", "ad_storage": "GRANTED"},
        "context": {"action_source": "OTHER", **context},
    }
    currency = props.get("currency") or "USD"
    if kind == "purchase":
        event.update(order_id="o-1", value=float(props.get("revenue") or props.get("total") or 1),
                     currency=currency,
                     items=[{"id": p["product_id"], "quantity": int(p.get("quantity") or 1),
                             "name": p.get("name"), "category": p.get("category")} for p in products])
    elif kind == "lead":
        event.update(lead_id="l-1", form_id="f")
    else:
        event.update(lead_id="l-1", stage="custom", lead_created_time=NOW_MS - 120_000, crm_name="crm")
    return complete_event(event)


def _map(settings: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    connector = RedditConnector(Settings.model_validate({"pixel_id": "t2_x", **settings}))
    item = connector.map_event(event, NOW_MS)
    assert isinstance(item, Item), item
    return item.payload


def _compare_user(ours: dict[str, Any], theirs: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in theirs:
            assert ours.get(key) == theirs[key], key


@pytest.mark.parametrize("record", SEGMENT, ids=[vector_id(r, i) for i, r in enumerate(SEGMENT)])
def test_segment_vector(record: dict[str, Any]) -> None:
    src = record["input"]["event"]
    props, ctx = src["properties"], src["context"]
    expected = record["expected"]["request_body"]["events"][0]
    tracking = record["input"]["mapping"].get("tracking_type", "Custom")
    kind = TYPES[tracking]
    phone = props.get("phone") or (ctx.get("traits") or {}).get("phone")
    user = {"email": props.get("email"), "phone": phone, "external_id": src.get("userId")}
    context = {"ip_address": ctx.get("ip"), "user_agent": ctx.get("userAgent")}
    click = {"rdt_cid": props.get("click_id"), "rdt_uuid": props.get("uuid")}
    event = _event(kind, user, context, click, props)
    event["event_id"] = src["messageId"]
    settings: dict[str, Any] = {"hash_conversion_id": True}
    if kind == "qualified":
        settings["custom_event_names"] = {"qualified": record["input"]["mapping"]["custom_event_name"]}
    payload = _map(settings, event)
    _compare_user(payload["user"], expected["user"],
                  ("email", "phone_number", "external_id", "ip_address", "user_agent", "uuid"))
    assert payload["click_id"] == expected["click_id"]
    want_type = expected["event_type"]["tracking_type"].upper()
    assert payload["type"]["tracking_type"] == want_type
    if want_type == "CUSTOM":
        assert payload["type"]["custom_event_name"] == expected["event_type"]["custom_event_name"]
    meta, want = payload["metadata"], expected["event_metadata"]
    assert meta["conversion_id"] == want["conversion_id"]
    if kind == "purchase":
        assert meta["currency"] == want["currency"]
        assert meta["products"] == want["products"]


@pytest.mark.parametrize("record", RUDDER, ids=[vector_id(r, i) for i, r in enumerate(RUDDER)])
def test_rudderstack_vector(record: dict[str, Any]) -> None:
    if "error" in record["expected"]:
        pytest.skip("schema-level error (no event name / no timestamp): such records fail decoding")
    message = record["input"]["message"]
    ctx = message["context"]
    expected = record["expected"]["output"]["body"]["JSON"]["events"][0]
    mapped = {e["from"]: e["to"] for e in record["input"]["destination_config"]["eventsMapping"]}
    tracking = mapped.get(message["event"], expected["event_type"]["tracking_type"])
    kind = "purchase" if tracking == "Purchase" else "qualified"
    user = {"email": (ctx.get("traits") or {}).get("email"), "external_id": message.get("userId")}
    context = {"ip_address": ctx.get("ip"), "user_agent": ctx.get("userAgent")}
    event = _event(kind, user, context, {}, message.get("properties") or {})
    payload = _map({}, event)
    _compare_user(payload["user"], expected["user"], ("email", "external_id", "ip_address", "user_agent"))
    if kind == "purchase":
        assert payload["metadata"]["products"] == expected["event_metadata"]["products"]
        assert payload["metadata"]["currency"] == expected["event_metadata"]["currency"]
