"""The ``user_data`` object of one Snap event and Snap's Limited Data Use fields.

Contact data is normalised as Snap's Parameters page specifies (phone: digits with country
code, no '+') and sent SHA-256-hashed as one-element lists; click id, ``_scid`` cookie, IP and
user agent go unhashed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from connectors import normalize as nz

# Snap's minimum identity (as Segment and RudderStack enforce it): email, phone, or IP + UA.
MATCHING_KEYS = frozenset({"email", "phone", "ip_ua"})
LDU_STATE_CODES = {"CA": 1000}  # the only state code Snap integrations document; else 0 = geolocate


def build_user_data(
    event: Mapping[str, Any], phone_region: str
) -> tuple[dict[str, Any], list[str], list[str]]:
    """(user_data, match key names, dropped field names) for one event."""
    user = event["user"]
    data: dict[str, Any] = {}
    keys: list[str] = []
    dropped: list[str] = []
    country_raw = user.get("country")
    country = nz.country(country_raw) if country_raw and not nz.is_sha256(country_raw.strip()) else None
    fields: tuple[tuple[str, str, Callable[[str], str | None], str], ...] = (
        ("em", "email", nz.email, "email"),
        ("ph", "phone", lambda v: nz.phone_digits(v, phone_region), "phone"),
        ("fn", "first_name", nz.name, "name"),
        ("ln", "last_name", nz.name, "name"),
        ("ge", "gender", nz.gender, "gender"),
        ("db", "date_of_birth", nz.date_of_birth, "date_of_birth"),
        ("ct", "city", nz.city, "address"),
        ("st", "state", lambda v: nz.state(v, country), "address"),
        ("zp", "postal_code", lambda v: nz.postal_code(v, country), "address"),
        ("country", "country", nz.country, "address"),
        ("external_id", "external_id", nz.external_id, "external_id"),
    )
    for key, field, func, match_key in fields:
        raw = user.get(field)
        if not raw:
            continue
        value = nz.hashed(raw, func)
        if value is None:
            dropped.append(field)
            continue
        data[key] = [value]
        if match_key not in keys:
            keys.append(match_key)
    context = event["context"]
    click_ids = event["click_ids"]
    ip = context.get("ip_address")
    ua = context.get("user_agent")
    if ip:
        data["client_ip_address"] = ip
    if ua:
        data["client_user_agent"] = ua
    if ip and ua:
        keys.append("ip_ua")
    for key, match_key in (("sc_click_id", "click_id"), ("sc_cookie1", "sc_cookie1")):
        value = click_ids.get(key)
        if value:
            data[key] = value
            keys.append(match_key)
    return data, keys, dropped


def ldu_options(consent: Mapping[str, Any]) -> dict[str, Any]:
    """Snap's Limited Data Use fields for an LDU event; empty when LDU is off."""
    if not consent.get("limited_data_use"):
        return {}
    country = (consent.get("ldu_country") or "").strip().upper()
    state = (consent.get("ldu_state") or "").strip().upper()
    return {
        "data_processing_options": ["LDU"],
        "data_processing_options_country": 1 if country == "US" else 0,
        "data_processing_options_state": LDU_STATE_CODES.get(state, 0) if country == "US" else 0,
    }
