"""Field mapping for Meta: the ``user_data`` and ``custom_data`` objects of one server event.

Split from the connector so each normalisation rule sits next to Meta's name for the field.
Hashed keys are sent as one-element lists, the form Meta's own SDK sends; click identifiers,
IP and user agent are sent unhashed as Meta requires.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors import normalize as nz

# Meta's data_processing_options_state codes for US states with LDU rules (0 = geolocate).
LDU_STATE_CODES: dict[str, int] = {
    "CA": 1000, "CO": 1001, "CT": 1002, "FL": 1003, "OR": 1004, "TX": 1005,
    "MT": 1006, "DE": 1007, "NE": 1008, "NH": 1009, "NJ": 1010,
}

# Identifiers that on their own let Meta match an event (a name or an address alone does not).
MATCHING_KEYS = frozenset({"email", "phone", "external_id", "fbc", "fbp", "lead_id", "ip_ua"})


class UserData:
    """Accumulates one event's ``user_data`` with the names of its match keys and drops."""

    __slots__ = ("data", "dropped", "keys")

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.keys: list[str] = []
        self.dropped: list[str] = []

    def add_hashed(self, key: str, raw: str | None, value: str | None, field: str, match_key: str) -> None:
        """Add ``value`` (already hashed) under ``key``; record a drop if ``raw`` was given but invalid."""
        if value is not None:
            self.data[key] = [value]
            if match_key not in self.keys:
                self.keys.append(match_key)
        elif raw:
            self.dropped.append(field)


def build_user_data(
    event: Mapping[str, Any], phone_region: str, hash_external_id: bool
) -> UserData:
    """``user_data`` for one event: hashed contact data, then the unhashed technical identifiers."""
    ud = UserData()
    user = event["user"]
    email = user.get("email")
    ud.add_hashed("em", email, nz.hashed(email, nz.email), "email", "email")
    phone = user.get("phone")
    ud.add_hashed(
        "ph", phone, nz.hashed(phone, nz.phone_rule(phone_region, digits=True)), "phone", "phone"
    )
    for key, field, func in (("fn", "first_name", nz.name), ("ln", "last_name", nz.name)):
        raw = user.get(field)
        ud.add_hashed(key, raw, nz.hashed(raw, func), field, "name")
    raw = user.get("date_of_birth")
    ud.add_hashed("db", raw, nz.hashed(raw, nz.date_of_birth), "date_of_birth", "date_of_birth")
    raw = user.get("gender")
    ud.add_hashed("ge", raw, nz.hashed(raw, nz.gender), "gender", "gender")
    country_raw = user.get("country")
    country = nz.country(country_raw) if country_raw and not nz.is_sha256(country_raw.strip()) else None
    raw = user.get("city")
    ud.add_hashed("ct", raw, nz.hashed(raw, nz.city), "city", "address")
    raw = user.get("state")
    ud.add_hashed("st", raw, nz.hashed(raw, nz.state_rule(country)), "state", "address")
    raw = user.get("postal_code")
    ud.add_hashed("zp", raw, nz.hashed(raw, nz.postal_rule(country)), "postal_code", "address")
    ud.add_hashed("country", country_raw, nz.hashed(country_raw, nz.country), "country", "address")
    raw = user.get("external_id")
    ext = nz.hashed(raw, nz.external_id) if hash_external_id else nz.external_id(raw)
    ud.add_hashed("external_id", raw, ext, "external_id", "external_id")
    _add_technical(ud, event)
    return ud


def _add_technical(ud: UserData, event: Mapping[str, Any]) -> None:
    """IP, user agent, fbc/fbp and the Lead Ads lead id: sent unhashed, byte for byte."""
    context = event["context"]
    click_ids = event["click_ids"]
    data = ud.data
    ip = context.get("ip_address")
    ua = context.get("user_agent")
    if ip:
        data["client_ip_address"] = ip
    if ua:
        data["client_user_agent"] = ua
    if ip and ua:
        ud.keys.append("ip_ua")
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
