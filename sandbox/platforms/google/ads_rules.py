"""Row-level validation of Google Ads `ClickConversion`s (reference §2.2-§2.6).

A row that fails yields one GoogleAdsError located at `conversions[i].<field>`; the caller
turns those into the `partialFailureError` of an HTTP 200 answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sandbox.checks import hash_problem, is_click_id, is_currency, is_sha256_hex, parse_google_datetime_ms
from sandbox.platforms.google.errors import ads_error, known_fields

MAX_CONVERSIONS = 2000
MAX_USER_IDENTIFIERS = 5
MAX_AGE_S = 90 * 24 * 3600
MAX_FUTURE_S = 60

REQUEST_FIELDS = known_fields("conversions", "partialFailure", "validateOnly", "jobId", "debugEnabled")
CONVERSION_FIELDS = known_fields(
    "gclid",
    "gbraid",
    "wbraid",
    "conversionAction",
    "conversionDateTime",
    "conversionValue",
    "currencyCode",
    "orderId",
    "externalAttributionData",
    "customVariables",
    "cartData",
    "userIdentifiers",
    "conversionEnvironment",
    "consent",
    "customerType",
    "userIpAddress",
    "sessionAttributesEncoded",
    "sessionAttributesKeyValuePairs",
)
IDENTIFIER_FIELDS = known_fields(
    "userIdentifierSource", "hashedEmail", "hashedPhoneNumber", "mobileId", "thirdPartyUserId", "addressInfo"
)
_ACTION = re.compile(r"customers/\d+/conversionActions/(\d+)")
_CONSENT = frozenset({"GRANTED", "DENIED", "UNSPECIFIED"})
_SOURCES = frozenset({"FIRST_PARTY", "THIRD_PARTY", "UNSPECIFIED"})
_SUPPORTED_IDS = ("hashedEmail", "hashedPhoneNumber", "hashed_email", "hashed_phone_number")
_ID_OTHER, _ID_HASHED, _ID_UNSUPPORTED = range(3)
_UNSUPPORTED_IDS = (
    "mobileId",
    "thirdPartyUserId",
    "addressInfo",
    "mobile_id",
    "third_party_user_id",
    "address_info",
)

_ID_KIND: dict[str, int] = {
    **{k: _ID_HASHED for k in _SUPPORTED_IDS},
    **{k: _ID_UNSUPPORTED for k in _UNSUPPORTED_IDS},
}


@dataclass(slots=True)
class RowResult:
    """Outcome of validating one conversion: an error, or its dedup key and event time."""

    error: dict[str, Any] | None
    key: str = ""
    event_time_ms: int = 0
    has_order_id: bool = False


def _get(conv: dict[str, Any], camel: str, snake: str) -> Any:
    value = conv.get(camel)
    return conv.get(snake) if value is None else value


def check_conversion(conv: Any, i: int, now_s: float) -> RowResult:
    """Validate one ClickConversion; returns the first error (located) or the dedup key."""
    if type(conv) is not dict:
        return RowResult(
            ads_error("fieldError", "INVALID_VALUE", "Conversion must be an object.", [("conversions", i)])
        )

    def err(category: str, code: str, message: str, field: str | None = None) -> RowResult:
        path: list[tuple[str, int | None]] = [("conversions", i)]
        if field:
            path.append((field, None))
        return RowResult(ads_error(category, code, message, path))

    action = _get(conv, "conversionAction", "conversion_action")
    if action is None:
        return err("fieldError", "REQUIRED", "The required field was not present.", "conversion_action")
    match = _ACTION.fullmatch(action) if type(action) is str else None
    if match is None:
        return err(
            "conversionUploadError",
            "NO_CONVERSION_ACTION_FOUND",
            "The conversion action specified in the upload request cannot be found.",
            "conversion_action",
        )
    dt = _get(conv, "conversionDateTime", "conversion_date_time")
    if dt is None:
        return err("fieldError", "REQUIRED", "The required field was not present.", "conversion_date_time")
    event_ms = parse_google_datetime_ms(dt)
    if event_ms is None:
        return err(
            "dateError",
            "INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET",
            "The string date time's format should be yyyy-mm-dd hh:mm:ss+|-hh:mm.",
            "conversion_date_time",
        )
    if event_ms < (now_s - MAX_AGE_S) * 1000:
        return err(
            "conversionUploadError",
            "EXPIRED_EVENT",
            "The click associated with the conversion is outside the conversion window.",
            "conversion_date_time",
        )
    if event_ms > (now_s + MAX_FUTURE_S) * 1000:
        return err(
            "dateError", "LATER_THAN_MAXIMUM_DATE", "The date time is in the future.", "conversion_date_time"
        )
    clicks = {name: conv.get(name) for name in ("gclid", "gbraid", "wbraid") if conv.get(name) is not None}
    if "gbraid" in clicks and "wbraid" in clicks:
        return err(
            "conversionUploadError",
            "GBRAID_WBRAID_BOTH_SET",
            "gbraid and wbraid cannot both be set.",
            "wbraid",
        )
    for name, value in clicks.items():
        if not is_click_id(value):
            return err(
                "conversionUploadError",
                f"UNPARSEABLE_{name.upper()}",
                f"The {name} could not be parsed.",
                name,
            )
    ids = _get(conv, "userIdentifiers", "user_identifiers")
    ident_error = _check_identifiers(ids, i)
    if ident_error is not None:
        return RowResult(ident_error)
    if not clicks and not ids:
        return err(
            "fieldError", "REQUIRED", "One of gclid, gbraid, wbraid or user_identifiers is required.", "gclid"
        )
    money = _check_money_and_consent(conv)
    if money is not None:
        return err(*money)
    order_id = _get(conv, "orderId", "order_id")
    if order_id is not None:
        if type(order_id) is not str or not order_id:
            return err("fieldError", "INVALID_VALUE", "order_id must be a non-empty string.", "order_id")
        if "@" in order_id:
            return err(
                "conversionUploadError",
                "ORDER_ID_CONTAINS_PII",
                "The order ID appears to contain personally identifiable information.",
                "order_id",
            )
        return RowResult(None, order_id, event_ms, True)
    click = next(iter(clicks.values()), None) or _first_identifier(ids)
    return RowResult(None, f"{click}|{dt}|{match.group(1)}", event_ms, False)


def _check_identifiers(ids: Any, i: int) -> dict[str, Any] | None:
    """≤5 entries, each exactly one supported identifier, hashed as 64 lowercase hex."""
    if ids is None:
        return None
    base: list[tuple[str, int | None]] = [("conversions", i)]
    if type(ids) is not list:
        return ads_error(
            "fieldError",
            "INVALID_VALUE",
            "user_identifiers must be a list.",
            [*base, ("user_identifiers", None)],
        )
    if len(ids) > MAX_USER_IDENTIFIERS:
        return ads_error(
            "collectionSizeError",
            "TOO_MANY",
            f"Too many user identifiers (max {MAX_USER_IDENTIFIERS}).",
            [*base, ("user_identifiers", None)],
        )
    for j, entry in enumerate(ids):
        if type(entry) is not dict:
            return ads_error(
                "conversionUploadError",
                "INVALID_USER_IDENTIFIER",
                "Identifier must be an object.",
                [*base, ("user_identifiers", j)],
            )
        hashed_key = ""
        n_ids = 0
        for key in entry:
            kind = _ID_KIND.get(key, _ID_OTHER)
            if kind == _ID_HASHED:
                hashed_key = key
                n_ids += 1
            elif kind == _ID_UNSUPPORTED:
                return ads_error(
                    "conversionUploadError",
                    "UNSUPPORTED_USER_IDENTIFIER",
                    "Only hashed_email and hashed_phone_number are supported.",
                    [*base, ("user_identifiers", j)],
                )
        if n_ids != 1:
            return ads_error(
                "conversionUploadError",
                "INVALID_USER_IDENTIFIER",
                "Each user identifier must set exactly one identifier.",
                [*base, ("user_identifiers", j)],
            )
        value = entry[hashed_key]
        if not is_sha256_hex(value):
            return ads_error(
                "conversionUploadError",
                "INVALID_USER_IDENTIFIER",
                f"The user identifier is not a valid SHA-256 hash: {hash_problem(value)}.",
                [*base, ("user_identifiers", j), (hashed_key, None)],
            )
        source = _get(entry, "userIdentifierSource", "user_identifier_source")
        if source is not None and source not in _SOURCES:
            return ads_error(
                "fieldError",
                "INVALID_VALUE",
                "Invalid user_identifier_source.",
                [*base, ("user_identifiers", j)],
            )
    return None


def _check_money_and_consent(conv: dict[str, Any]) -> tuple[str, str, str, str] | None:
    """conversionValue numeric, currencyCode ISO-4217, consent.adUserData only."""
    value = _get(conv, "conversionValue", "conversion_value")
    if value is not None and not _is_double(value):
        return ("fieldError", "INVALID_VALUE", "conversion_value must be a number.", "conversion_value")
    currency = _get(conv, "currencyCode", "currency_code")
    if currency is not None and not (is_currency(currency) and currency.isupper()):
        return ("currencyCodeError", "UNSUPPORTED", "The currency code is not supported.", "currency_code")
    consent = conv.get("consent")
    if consent is not None:
        if type(consent) is not dict:
            return ("fieldError", "INVALID_VALUE", "consent must be an object.", "consent")
        if "adPersonalization" in consent or "ad_personalization" in consent:
            return (
                "fieldError",
                "VALUE_MUST_BE_UNSET",
                "ad_personalization cannot be set on click conversions.",
                "consent",
            )
        ad_user_data = _get(consent, "adUserData", "ad_user_data")
        if ad_user_data is not None and ad_user_data not in _CONSENT:
            return ("fieldError", "INVALID_VALUE", "Invalid consent.ad_user_data value.", "consent")
    return None


def _is_double(value: Any) -> bool:
    """Proto3 JSON accepts numbers or numeric strings for doubles."""
    if type(value) in (int, float):
        return True
    if type(value) is str:
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


def _first_identifier(ids: Any) -> str:
    if type(ids) is list and ids and type(ids[0]) is dict:
        for key in _SUPPORTED_IDS:
            if key in ids[0]:
                return str(ids[0][key])
    return ""
