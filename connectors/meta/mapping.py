"""Field mapping for Meta: the ``user_data`` and ``custom_data`` objects of one server event.

Split from the connector so each normalisation rule sits next to Meta's name for the field.
Hashed keys are sent as one-element lists, the form Meta's own SDK sends; click identifiers,
IP and user agent are sent unhashed as Meta requires.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.hashed_user_data import hashed_user_data

# Meta's data_processing_options_state codes for US states with LDU rules (0 = geolocate).
LDU_STATE_CODES: dict[str, int] = {
    "CA": 1000,
    "CO": 1001,
    "CT": 1002,
    "FL": 1003,
    "OR": 1004,
    "TX": 1005,
    "MT": 1006,
    "DE": 1007,
    "NE": 1008,
    "NH": 1009,
    "NJ": 1010,
}

# Identifiers that on their own let Meta match an event (a name or an address alone does not).
MATCHING_KEYS = frozenset({"email", "phone", "external_id", "fbc", "fbp", "lead_id", "ip_ua"})


class UserData:
    """One event's ``user_data`` with the names of its match keys and of the dropped fields."""

    __slots__ = ("data", "dropped", "keys")

    def __init__(self, data: dict[str, Any], keys: list[str], dropped: list[str]) -> None:
        self.data = data
        self.keys = keys
        self.dropped = dropped


def build_user_data(event: Mapping[str, Any], phone_region: str, hash_external_id: bool) -> UserData:
    """``user_data`` for one event: the shared hashed block (contact data, IP, user agent),
    then Meta's unhashed click and lead identifiers."""
    data, keys, dropped = hashed_user_data(event, phone_region, hash_external_id=hash_external_id)
    ud = UserData(data, keys, dropped)
    _add_click_and_lead_ids(ud, event)
    return ud


def _add_click_and_lead_ids(ud: UserData, event: Mapping[str, Any]) -> None:
    """fbc/fbp and the Lead Ads lead id: sent unhashed, byte for byte."""
    click_ids = event["click_ids"]
    data = ud.data
    fbc = click_ids.get("fbc")
    if not fbc and click_ids.get("fbclid"):
        # Fallback only: enrichment normally supplies fbc stamped with the landing time.
        fbc = f"fb.1.{event['event_time']}.{click_ids['fbclid']}"
    if fbc:
        data["fbc"] = fbc
        ud.keys.append("fbc")
    fbp = click_ids.get("fbp")
    if fbp:
        data["fbp"] = fbp
        ud.keys.append("fbp")
    lead_id = event.get("platform_lead_id")
    if lead_id:
        text = lead_id.strip()
        if text.isdigit() and text.isascii():
            data["lead_id"] = int(text)
            ud.keys.append("lead_id")
        else:
            ud.dropped.append("platform_lead_id")


def ldu_options(consent: Mapping[str, Any]) -> dict[str, Any]:
    """Meta's Limited Data Use fields for an LDU event; empty when LDU is off."""
    if not consent.get("limited_data_use"):
        return {}
    country = (consent.get("ldu_country") or "").strip().upper()
    state = (consent.get("ldu_state") or "").strip().upper()
    if country == "US":
        return {
            "data_processing_options": ["LDU"],
            "data_processing_options_country": 1,
            "data_processing_options_state": LDU_STATE_CODES.get(state, 0),
        }
    return {
        "data_processing_options": ["LDU"],
        "data_processing_options_country": 0,
        "data_processing_options_state": 0,
    }


def purchase_custom_data(event: Mapping[str, Any], currency: str) -> dict[str, Any]:
    """``custom_data`` of a Purchase: value, currency, order id and the order lines."""
    data: dict[str, Any] = {"value": event["value"], "currency": currency, "order_id": event["order_id"]}
    items = event.get("items") or ()
    if items:
        contents = []
        for item in items:
            line: dict[str, Any] = {"id": item["id"], "quantity": item.get("quantity", 1)}
            if item.get("price") is not None:
                line["item_price"] = item["price"]
            contents.append(line)
        data["contents"] = contents
        data["content_ids"] = [item["id"] for item in items]
        data["content_type"] = "product"
        data["num_items"] = sum(line["quantity"] for line in contents)
    return data
