"""The ``user_data`` object of one Snap event and Snap's Limited Data Use fields.

Contact data is normalised as Snap's Parameters page specifies (phone: digits with country
code, no '+') and sent SHA-256-hashed as one-element lists; click id, ``_scid`` cookie, IP and
user agent go unhashed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.hashed_user_data import hashed_user_data

# Snap's minimum identity (as Segment and RudderStack enforce it): email, phone, or IP + UA.
MATCHING_KEYS = frozenset({"email", "phone", "ip_ua"})


def build_user_data(
    event: Mapping[str, Any], phone_region: str
) -> tuple[dict[str, Any], list[str], list[str]]:
    """(user_data, match key names, dropped field names) for one event."""
    data, keys, dropped = hashed_user_data(event, phone_region)
    click_ids = event["click_ids"]
    for key, match_key in (("sc_click_id", "click_id"), ("sc_cookie1", "sc_cookie1")):
        value = click_ids.get(key)
        if value:
            data[key] = value
            keys.append(match_key)
    return data, keys, dropped


def ldu_options(consent: Mapping[str, Any]) -> dict[str, Any]:
    """Snap's Limited Data Use flag for an LDU event; empty when LDU is off.

    Snap's v3 event schema (``CapiEvent`` in Snap's ``business-sdk-v3-java`` ``api/openapi.yaml``)
    defines only ``data_processing_options`` (a list of strings, ``["LDU"]``); Meta's
    ``data_processing_options_country``/``_state`` codes have no Snap counterpart, so the
    event's LDU country and state are not sent.
    """
    if not consent.get("limited_data_use"):
        return {}
    return {"data_processing_options": ["LDU"]}
