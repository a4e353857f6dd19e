"""The ``user_data`` object of one Pinterest event.

Every personal field is a list of SHA-256 hex digests of the normalised value (phone: digits
with country code, no '+'); the ``epik`` click id, IP and user agent go unhashed as strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.hashed_user_data import hashed_user_data

# Pinterest requires em, hashed_maids, or the pair client_ip_address + client_user_agent.
MATCHING_KEYS = frozenset({"email", "ip_ua"})


def build_user_data(
    event: Mapping[str, Any], phone_region: str
) -> tuple[dict[str, Any], list[str], list[str]]:
    """(user_data, match key names, dropped field names) for one event."""
    data, keys, dropped = hashed_user_data(event, phone_region)
    epik = event["click_ids"].get("epik")
    if epik:
        data["click_id"] = epik
        keys.append("click_id")
    return data, keys, dropped
