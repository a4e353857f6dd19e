"""Validation of Data Manager `IngestEventsRequest` bodies (reference §2.14).

Data Manager fails fast: every violation is collected as a `(field, description)` pair and
the whole request is refused with a google.rpc.BadRequest listing them all.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from sandbox.checks import (
    hash_problem,
    is_click_id,
    is_currency,
    is_nonempty_str,
    is_number,
    parse_rfc3339_ms,
)
from sandbox.platforms.google.errors import known_fields

MAX_EVENTS = 2000
MAX_IDENTIFIERS = 10
MAX_AGE_S = 90 * 24 * 3600
MAX_FUTURE_S = 60

REQUEST_FIELDS = known_fields(
    "destinations", "events", "consent", "validateOnly", "encoding", "encryptionInfo"
)
EVENT_FIELDS = known_fields(
    "destinationReferences",
    "transactionId",
    "eventTimestamp",
    "lastUpdatedTimestamp",
    "userData",
    "consent",
    "adIdentifiers",
    "currency",
    "conversionValue",
    "eventSource",
    "eventDeviceInfo",
    "cartData",
    "customVariables",
    "experimentalFields",
    "userProperties",
    "eventName",
    "clientId",
    "userId",
    "additionalEventParameters",
)
ACCOUNT_TYPES = frozenset({"GOOGLE_ADS", "DISPLAY_VIDEO_PARTNER", "DISPLAY_VIDEO_ADVERTISER", "DATA_PARTNER"})
# google.ads.datamanager.v1.EventSource (MESSAGE = 6 came after OTHER = 5).
EVENT_SOURCES = frozenset({"WEB", "APP", "IN_STORE", "PHONE", "MESSAGE", "OTHER"})
CONSENT_VALUES = frozenset({"CONSENT_GRANTED", "CONSENT_DENIED", "CONSENT_STATUS_UNSPECIFIED"})
ENCODINGS = frozenset({"HEX", "BASE64"})

Violations = list[tuple[str, str]]


def check_destinations(destinations: Any, out: Violations) -> None:
    """At least one destination with an operating account and a product destination id."""
    if type(destinations) is not list or not destinations:
        out.append(("destinations", "At least one destination is required."))
        return
    for i, dest in enumerate(destinations):
        where = f"destinations[{i}]"
        if type(dest) is not dict:
            out.append((where, "Destination must be an object."))
            continue
        for key, required in (("operatingAccount", True), ("loginAccount", False), ("linkedAccount", False)):
            account = dest.get(key)
            if account is None:
                if required:
                    out.append((f"{where}.{key}", "Required."))
                continue
            if type(account) is not dict or account.get("accountType") not in ACCOUNT_TYPES:
                out.append((f"{where}.{key}.accountType", f"Must be one of {sorted(ACCOUNT_TYPES)}."))
            elif not (type(account.get("accountId")) is str and account["accountId"].isdigit()):
                out.append((f"{where}.{key}.accountId", "Must be the account id, digits only."))
        if not is_nonempty_str(dest.get("productDestinationId")):
            out.append((f"{where}.productDestinationId", "Required: the conversion action id."))


def check_consent(consent: Any, where: str, out: Violations) -> None:
    """Consent values use the CONSENT_* enum."""
    if consent is None:
        return
    if type(consent) is not dict:
        out.append((where, "Consent must be an object."))
        return
    for key in ("adUserData", "adPersonalization"):
        value = consent.get(key)
        if value is not None and value not in CONSENT_VALUES:
            out.append((f"{where}.{key}", f"Must be one of {sorted(CONSENT_VALUES)}."))


def check_event(event: Any, i: int, encoding: Any, now_s: float, out: Violations) -> tuple[str, int] | None:
    """Validate one event; returns (dedup key, event time ms) when it has no violations."""
    where = f"events[{i}]"
    if type(event) is not dict:
        out.append((where, "Event must be an object."))
        return None
    before = len(out)
    unknown = [k for k in event if k not in EVENT_FIELDS]
    for name in unknown:
        out.append((f"{where}.{name}", f'Unknown name "{name}": Cannot find field.'))
    ts = event.get("eventTimestamp")
    event_ms = parse_rfc3339_ms(ts)
    if event_ms is None:
        out.append((f"{where}.eventTimestamp", "Required; must be an RFC 3339 timestamp."))
    elif event_ms < (now_s - MAX_AGE_S) * 1000:
        out.append((f"{where}.eventTimestamp", "The event is older than the 90-day conversion window."))
    elif event_ms > (now_s + MAX_FUTURE_S) * 1000:
        out.append((f"{where}.eventTimestamp", "The event timestamp is in the future."))
    if event.get("eventSource") not in EVENT_SOURCES:
        out.append((f"{where}.eventSource", f"Required; must be one of {sorted(EVENT_SOURCES)}."))
    tx = event.get("transactionId")
    if tx is not None and not is_nonempty_str(tx):
        out.append((f"{where}.transactionId", "Must be a non-empty string."))
    clicks = _check_ad_identifiers(event.get("adIdentifiers"), where, out)
    n_ids = _check_user_data(event.get("userData"), where, encoding, out)
    if not clicks and not n_ids:
        out.append(
            (where, "Either adIdentifiers (gclid, gbraid or wbraid) or userData identifiers are required.")
        )
    value = event.get("conversionValue")
    if value is not None and not is_number(value):
        out.append((f"{where}.conversionValue", "Must be a number."))
    currency = event.get("currency")
    if currency is not None and not is_currency(currency):
        out.append((f"{where}.currency", "Must be an ISO-4217 currency code."))
    check_consent(event.get("consent"), f"{where}.consent", out)
    if len(out) != before or event_ms is None:
        return None
    key = tx if tx is not None else f"{clicks[0] if clicks else ''}|{ts}"
    return key, event_ms


def _check_ad_identifiers(ad: Any, where: str, out: Violations) -> list[str]:
    """gclid/gbraid/wbraid are clear strings; gbraid and wbraid are exclusive."""
    if ad is None:
        return []
    if type(ad) is not dict:
        out.append((f"{where}.adIdentifiers", "Must be an object."))
        return []
    clicks: list[str] = []
    for name in ("gclid", "gbraid", "wbraid"):
        value = ad.get(name)
        if value is None:
            continue
        if not is_click_id(value):
            out.append((f"{where}.adIdentifiers.{name}", "Must be the click id exactly as captured."))
        else:
            clicks.append(value)
    if ad.get("gbraid") is not None and ad.get("wbraid") is not None:
        out.append((f"{where}.adIdentifiers", "At most one of gbraid and wbraid may be set."))
    return clicks


def _check_user_data(user: Any, where: str, encoding: Any, out: Violations) -> int:
    """≤10 identifiers, each exactly one of email/phone/address, hashed per `encoding`."""
    if user is None:
        return 0
    ids = user.get("userIdentifiers") if type(user) is dict else None
    if type(ids) is not list or not ids:
        out.append((f"{where}.userData.userIdentifiers", "Required when userData is set."))
        return 0
    if encoding not in ENCODINGS:
        out.append(("encoding", "Required (HEX or BASE64) when userData is present."))
        return 0
    if len(ids) > MAX_IDENTIFIERS:
        out.append((f"{where}.userData.userIdentifiers", f"At most {MAX_IDENTIFIERS} identifiers."))
    for j, entry in enumerate(ids):
        path = f"{where}.userData.userIdentifiers[{j}]"
        present = [
            k for k in ("emailAddress", "phoneNumber", "address") if type(entry) is dict and k in entry
        ]
        if len(present) != 1 or len(entry) != 1:
            out.append((path, "Exactly one of emailAddress, phoneNumber or address must be set."))
            continue
        kind = present[0]
        if kind == "address":
            _check_address(entry["address"], f"{path}.address", encoding, out)
        else:
            _check_hashed(entry[kind], f"{path}.{kind}", encoding, out)
    return len(ids)


def _check_address(address: Any, path: str, encoding: str, out: Violations) -> None:
    """Names hashed; region code and postal code in clear."""
    if type(address) is not dict:
        out.append((path, "Must be an object."))
        return
    for key in ("givenName", "familyName"):
        if key in address:
            _check_hashed(address[key], f"{path}.{key}", encoding, out)
    region = address.get("regionCode")
    if not (type(region) is str and len(region) == 2 and region.isalpha()):
        out.append((f"{path}.regionCode", "Required; ISO-3166-1 alpha-2."))
    postal = address.get("postalCode")
    if postal is not None and (type(postal) is not str or len(postal) == 64):
        out.append((f"{path}.postalCode", "Must be sent unhashed."))


def _check_hashed(value: Any, path: str, encoding: str, out: Violations) -> None:
    """HEX: 64 lowercase hex; BASE64: 32 bytes of standard base64."""
    if encoding == "HEX":
        why = hash_problem(value)
        if why is not None:
            out.append((path, f"Must be a SHA-256 hash, hex encoded: {why}."))
        return
    try:
        ok = type(value) is str and len(base64.b64decode(value, validate=True)) == 32
    except (binascii.Error, ValueError):
        ok = False
    if not ok:
        out.append((path, "Must be a SHA-256 hash, base64 encoded (32 bytes)."))
