"""The ``user_data`` object of one Pinterest event.

Every personal field is a list of SHA-256 hex digests of the normalised value (phone: digits
with country code, no '+'); the ``epik`` click id, IP and user agent go unhashed as strings.
``ge``, ``st`` and ``zp`` follow the descriptions of ``ConversionEventsUserDataProperties`` in
Pinterest's OpenAPI spec (``pinterest/api-description``, ``v5/openapi.json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors import normalize as nz
from connectors.hashed_user_data import RegionalNormalizer, hashed_user_data

# Pinterest requires em, hashed_maids, or the pair client_ip_address + client_user_agent.
MATCHING_KEYS = frozenset({"email", "ip_ua"})
_GENDERS = {"n": "n", "nonbinary": "n", "non-binary": "n", "non binary": "n"}


def gender(value: str, country: str | None = None) -> str | None:
    """Pinterest's ``ge``: "f", "m", or "n" for non-binary (its OpenAPI spec)."""
    return nz.gender(value) or _GENDERS.get(value.strip().lower())


def state(value: str, country: str | None = None) -> str | None:
    """Pinterest's ``st``: "a two-letter code in lowercase". US names become their USPS code;
    a region given by name elsewhere ('Bavaria') has no two-letter form we can derive, so it is
    dropped rather than hashed in a form Pinterest does not use."""
    code = nz.state(value, country)
    return code if code is not None and len(code) == 2 else None


def postal_code(value: str, country: str | None = None) -> str | None:
    """Pinterest's ``zp``: "only digits". US ZIP+4 becomes the 5-digit ZIP; a postcode with
    letters (UK, Canada, the Netherlands) has no digits-only form, so it is dropped."""
    code = nz.postal_code(value, country)
    return code if code is not None and code.isascii() and code.isdigit() else None


OVERRIDES: dict[str, RegionalNormalizer] = {"ge": gender, "st": state, "zp": postal_code}


def build_user_data(
    event: Mapping[str, Any], phone_region: str
) -> tuple[dict[str, Any], list[str], list[str]]:
    """(user_data, match key names, dropped field names) for one event."""
    data, keys, dropped = hashed_user_data(event, phone_region, OVERRIDES)
    epik = event["click_ids"].get("epik")
    if epik:
        data["click_id"] = epik
        keys.append("click_id")
    return data, keys, dropped
