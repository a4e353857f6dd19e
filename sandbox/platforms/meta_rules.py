"""Meta CAPI server-event validation (reference §1.2-§1.8), independent of any connector.

Each check returns a `MetaProblem` naming the field, so a rejected batch tells the sender
exactly which event and which key was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.checks import (
    as_list,
    hash_problem,
    is_currency,
    is_fbc_or_fbp,
    is_int,
    is_ip,
    is_nonempty_str,
    is_number,
    is_url,
    looks_hashed,
)

MAX_EVENTS = 1000
MAX_AGE_S = 7 * 24 * 3600
MAX_AGE_PHYSICAL_STORE_S = 62 * 24 * 3600
MAX_FUTURE_S = 60

# Subcodes: 2804003 is documented for "event_time too old"; the generic invalid-parameter
# subcode 2804001 is the sandbox's choice for everything else (see docs/platforms/sandbox.md).
SUBCODE_INVALID = 2804001
SUBCODE_TIME = 2804003

ACTION_SOURCES = frozenset(
    {
        "email",
        "website",
        "app",
        "phone_call",
        "chat",
        "physical_store",
        "system_generated",
        "business_messaging",
        "other",
    }
)
HASHED_KEYS = ("em", "ph", "fn", "ln", "ct", "st", "zp", "country", "db", "ge")
_IDENTIFYING_HASHED = ("em", "ph")
_CLEAR_IDS = (
    "madid",
    "anon_id",
    "fb_login_id",
    "subscription_id",
    "ctwa_clid",
    "page_scoped_user_id",
    "ig_sid",
)
# key kinds for the one-pass user_data check (hashed kinds sort first: `kind <= _HASHED_ID`).
# external_id: Meta says "Hashing is recommended", not required
# (https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/external-id),
# so plain and hashed values are both accepted.
_HASHED, _HASHED_ID, _COOKIE, _IP, _UA, _LEAD, _CLEAR_ID, _EXTERNAL_ID = range(8)
_KEY_KIND: dict[str, int] = {
    **{k: _HASHED for k in HASHED_KEYS},
    **{k: _HASHED_ID for k in _IDENTIFYING_HASHED},
    "fbc": _COOKIE,
    "fbp": _COOKIE,
    "client_ip_address": _IP,
    "client_user_agent": _UA,
    "lead_id": _LEAD,
    "external_id": _EXTERNAL_ID,
    **{k: _CLEAR_ID for k in _CLEAR_IDS},
}


@dataclass(frozen=True, slots=True)
class MetaProblem:
    """One reason an event is invalid."""

    field: str
    message: str
    subcode: int = SUBCODE_INVALID


def check_event(event: Any, index: int, now_s: float) -> MetaProblem | None:
    """Validate one element of `data`; returns the first problem found or None."""
    where = f"data[{index}]"
    if type(event) is not dict:
        return MetaProblem(where, "each event must be an object")
    if not is_nonempty_str(event.get("event_name")):
        return MetaProblem(f"{where}.event_name", "event_name is required")
    t: Any = event.get("event_time")
    if not is_int(t):
        return MetaProblem(f"{where}.event_time", "event_time must be an integer Unix timestamp in seconds")
    source = event.get("action_source")
    if source not in ACTION_SOURCES:
        return MetaProblem(f"{where}.action_source", f"action_source must be one of {sorted(ACTION_SOURCES)}")
    max_age = MAX_AGE_PHYSICAL_STORE_S if source == "physical_store" else MAX_AGE_S
    if t < now_s - max_age:
        return MetaProblem(
            f"{where}.event_time",
            f"event_time is more than {max_age // 86400} days in the past",
            SUBCODE_TIME,
        )
    if t > now_s + MAX_FUTURE_S:
        return MetaProblem(f"{where}.event_time", "event_time is in the future", SUBCODE_TIME)
    event_id = event.get("event_id")
    if event_id is not None and not is_nonempty_str(event_id):
        return MetaProblem(f"{where}.event_id", "event_id must be a non-empty string")
    problem = _check_user_data(event.get("user_data"), where, source == "website")
    if problem is not None:
        return problem
    if source == "website" and not is_url(event.get("event_source_url")):
        return MetaProblem(f"{where}.event_source_url", "event_source_url is required for website events")
    return _check_custom_data(event, where)


def _check_user_data(user: Any, where: str, website: bool) -> MetaProblem | None:
    """Hashed keys must be 64 lowercase hex; clear keys must not be hashed; need an identifier.

    One pass over the keys actually present (usually a handful), dispatching on a table,
    keeps this linear and cheap.
    """
    if type(user) is not dict or not user:
        return MetaProblem(f"{where}.user_data", "user_data is required")
    identified = False
    for key, value in user.items():
        kind = _KEY_KIND.get(key)
        if kind is None or value is None:
            continue
        if kind <= _HASHED_ID:
            values = as_list(value)
            if not values:
                return MetaProblem(f"{where}.user_data.{key}", "must not be an empty list")
            for j, item in enumerate(values):
                why = hash_problem(item)
                if why is not None:
                    return MetaProblem(
                        f"{where}.user_data.{key}[{j}]", f"{key} must be SHA-256 hashed: {why}"
                    )
            identified = identified or kind == _HASHED_ID
        elif kind == _COOKIE:
            if not is_fbc_or_fbp(value):
                return MetaProblem(
                    f"{where}.user_data.{key}",
                    f"{key} must be unhashed, formatted fb.<subdomain_index>.<creation_time_ms>.<value>",
                )
            identified = True
        elif kind == _IP:
            if not is_ip(value):
                return MetaProblem(f"{where}.user_data.{key}", "must be an unhashed IPv4/IPv6 address")
            identified = True
        elif kind == _UA:
            if not is_nonempty_str(value) or looks_hashed(value):
                return MetaProblem(f"{where}.user_data.{key}", "must be the raw (unhashed) user agent")
        elif kind == _EXTERNAL_ID:
            ids = as_list(value)
            if not ids or not all(is_nonempty_str(item) for item in ids):
                return MetaProblem(f"{where}.user_data.{key}", "must be a non-empty string or list")
            identified = True
        elif kind == _LEAD:
            if not _is_lead_id(value):
                return MetaProblem(f"{where}.user_data.{key}", "lead_id must be a 15-17 digit Meta lead id")
            identified = True
        else:
            identified = True
    if website and user.get("client_user_agent") is None:
        return MetaProblem(
            f"{where}.user_data.client_user_agent", "client_user_agent is required for website events"
        )
    if not identified:
        return MetaProblem(
            f"{where}.user_data",
            "the server event has insufficient customer information parameters (no identifier)",
        )
    return None


def _is_lead_id(value: Any) -> bool:
    """Meta lead ids are 15-17 digit integers (sent as number or digit string)."""
    text = str(value) if is_int(value) else value
    return type(text) is str and text.isdigit() and 15 <= len(text) <= 17


def _check_custom_data(event: dict[str, Any], where: str) -> MetaProblem | None:
    """Purchase needs currency + value; present money fields must be well-formed."""
    custom = event.get("custom_data")
    if custom is None:
        if event["event_name"] == "Purchase":
            return MetaProblem(
                f"{where}.custom_data", "Purchase events require custom_data.currency and value"
            )
        return None
    if type(custom) is not dict:
        return MetaProblem(f"{where}.custom_data", "custom_data must be an object")
    purchase = event["event_name"] == "Purchase"
    currency = custom.get("currency")
    value = custom.get("value")
    if (purchase or currency is not None) and not is_currency(currency):
        return MetaProblem(f"{where}.custom_data.currency", "currency must be an ISO-4217 3-letter code")
    if (purchase or value is not None) and not is_number(value):
        return MetaProblem(f"{where}.custom_data.value", "value must be a number")
    return None
