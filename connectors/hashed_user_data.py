"""The hashed ``user_data`` block several platforms share (Meta's layout: Meta, Snap, Pinterest).

Each personal field is a one-element list of the SHA-256 hex of its normalised value (phone:
digits with country code, no '+'); IP and user agent go unhashed. One implementation, so a fix
to a field's normalisation reaches every platform that uses this layout.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from connectors import normalize as nz

UserData = tuple[dict[str, Any], list[str], list[str]]
RegionalNormalizer = Callable[[str, str | None], str | None]
"""A platform's own rule for one key: (raw value, the event's ISO country or None) -> value."""


def hashed_user_data(
    event: Mapping[str, Any],
    phone_region: str,
    overrides: Mapping[str, RegionalNormalizer] | None = None,
    *,
    hash_external_id: bool = True,
) -> UserData:
    """(user_data, match key names, dropped field names) for one event, without click ids.

    ``overrides`` replaces the shared rule of a key (``"zp"``, ``"ge"``…) where a platform's
    schema asks for something else; each receives the event's country. ``hash_external_id``
    False sends the normalised external id unhashed (Meta accepts both, see its page)."""
    user = event["user"]
    data: dict[str, Any] = {}
    keys: list[str] = []
    dropped: list[str] = []
    country_raw = user.get("country")
    country = nz.country(country_raw) if country_raw and not nz.is_sha256(country_raw.strip()) else None
    fields: tuple[tuple[str, str, Callable[[str], str | None], str], ...] = (
        ("em", "email", nz.email, "email"),
        ("ph", "phone", nz.phone_rule(phone_region, digits=True), "phone"),
        ("fn", "first_name", nz.name, "name"),
        ("ln", "last_name", nz.name, "name"),
        ("db", "date_of_birth", nz.date_of_birth, "date_of_birth"),
        ("ge", "gender", nz.gender, "gender"),
        ("ct", "city", nz.city, "address"),
        ("st", "state", nz.state_rule(country), "address"),
        ("zp", "postal_code", nz.postal_rule(country), "address"),
        ("country", "country", nz.country, "address"),
        ("external_id", "external_id", nz.external_id, "external_id"),
    )
    for key, field, func, match_key in fields:
        raw = user.get(field)
        if not raw:
            continue
        override = overrides.get(key) if overrides else None
        if override is not None:
            value = nz.hashed(raw, _bound(override, country))
        elif func is nz.external_id and not hash_external_id:
            value = nz.external_id(raw)
        else:
            value = nz.hashed(raw, func)
        if value is None:
            dropped.append(field)
            continue
        data[key] = [value]
        if match_key not in keys:
            keys.append(match_key)
    context = event["context"]
    ip = context.get("ip_address")
    ua = context.get("user_agent")
    if ip:
        data["client_ip_address"] = ip
    if ua:
        data["client_user_agent"] = ua
    if ip and ua:
        keys.append("ip_ua")
    return data, keys, dropped


def _bound(rule: RegionalNormalizer, country: str | None) -> Callable[[str], str | None]:
    """``rule`` with the event's country filled in, as ``nz.hashed`` takes one argument."""
    return lambda value: rule(value, country)


def number_text(value: float) -> str:
    """A number as the string some platforms want for money/quantity fields ('2', '64.99')."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
