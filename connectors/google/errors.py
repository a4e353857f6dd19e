"""Reading Google's error bodies and the tables that turn Google error codes into outcomes.

Both APIs follow the google.rpc Status model (``{"error": {"code", "status", "message",
"details": [...]}}``); the Google Ads API adds ``GoogleAdsFailure`` details with one entry per
failed row (``errorCode: {"<category>": "<CODE>"}``, ``location.fieldPathElements``), in
``partialFailureError`` on HTTP 200 and in ``error.details`` otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from connectors.base import ItemOutcome, OutcomeKind, delivered

# "Already exists": the platform kept an earlier copy, so this event counts as delivered.
DUPLICATE_OK = frozenset({
    "ORDER_ID_ALREADY_IN_USE",
    "CLICK_CONVERSION_ALREADY_EXISTS",
    "CALL_CONVERSION_ALREADY_EXISTS",
    "CONVERSION_ALREADY_ENHANCED",
    "RESTATEMENT_ALREADY_EXISTS",
    "CONVERSION_ALREADY_RETRACTED",
})
# "Accepted, no click matched": Google's ConversionUploadError reference says CLICK_NOT_FOUND
# (identifiers that match no Google Ads click, e.g. a lead that did not come from an ad) "can
# safely" be ignored — the upload was fine, so it counts as delivered, with this note.
NO_CLICK_MATCHED = frozenset({"CLICK_NOT_FOUND"})
NO_CLICK_MATCHED_NOTE = "accepted, no click matched"
# "Retry later": Google refuses clicks / actions younger than 6 h (adjustments: 24 h).
TOO_RECENT = frozenset({
    "TOO_RECENT_EVENT",
    "TOO_RECENT_CONVERSION_ACTION",
    "TOO_RECENT_CALL",
    "TOO_RECENT_CONVERSION",
})
# Two rows of one request collided; whichever Google kept, a resend resolves it (the survivor
# answers "already exists", the loser goes through), so retry instead of dead-lettering.
IN_REQUEST_DUPLICATE = frozenset({"DUPLICATE_ORDER_ID", "DUPLICATE_CLICK_CONVERSION_IN_REQUEST"})
TRANSIENT = frozenset({"INTERNAL_ERROR", "TRANSIENT_ERROR", "DEADLINE_EXCEEDED"})
MIGRATE = frozenset({"CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE"})
MIGRATE_CODE = "migrate_to_data_manager"
# Account or configuration problems: every row fails the same way; splitting cannot help.
CONFIG = frozenset({
    "CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS",
    "CUSTOMER_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS",
    "CUSTOMER_DATA_POLICY_PROHIBITS_ENHANCED_CONVERSIONS",
    "NO_CONVERSION_ACTION_FOUND",
    "INVALID_CONVERSION_ACTION_TYPE",
    "UNAUTHORIZED_CUSTOMER",
    "INVALID_CUSTOMER_FOR_CLICK",
    "CONVERSION_ACTION_NOT_ELIGIBLE_FOR_UPLOAD",
    # Data Manager reasons
    "INVALID_DESTINATION",
    "INVALID_CONVERSION_ACTION_ID",
    "TERMS_AND_CONDITIONS_NOT_SIGNED",
    "DESTINATION_ACCOUNT_NOT_ENABLED_ENHANCED_CONVERSIONS_FOR_LEADS",
    "DESTINATION_ACCOUNT_DATA_POLICY_PROHIBITS_ENHANCED_CONVERSIONS",
    "DESTINATION_ACCOUNT_ENHANCED_CONVERSIONS_TERMS_NOT_SIGNED",
    "NOT_FOUND",
})
# Access refused (google.rpc PERMISSION_DENIED; the Ads API's AuthorizationError category, e.g.
# USER_PERMISSION_DENIED, DEVELOPER_TOKEN_NOT_APPROVED): an operator fixes it, so the platform
# is held behind its auth circuit like a 401.
ACCESS = frozenset({"PERMISSION_DENIED"})
ACCESS_CATEGORIES = frozenset({"authenticationError", "authorizationError"})
_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)s")
_MAX_REASON = 300


@dataclass(frozen=True, slots=True)
class GoogleError:
    """One error found in a Google response; ``index`` is the failed row, if Google named one."""

    code: str
    category: str = ""
    message: str = ""
    index: int | None = None
    retry_delay: float | None = None


def parse_body(body: bytes) -> Any:
    """The JSON body, or None when it is empty or not JSON (proxies answer HTML)."""
    if not body:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def duration_s(value: Any) -> float | None:
    """Seconds from a protobuf Duration in JSON form ('30s', '1.5s')."""
    if isinstance(value, str):
        match = _DURATION_RE.fullmatch(value.strip())
        if match:
            return float(match.group(1))
    return None


def ads_failure_errors(details: Any) -> list[GoogleError]:
    """The rows of every ``GoogleAdsFailure`` in a details list."""
    found: list[GoogleError] = []
    if not isinstance(details, list):
        return found
    for detail in details:
        if not isinstance(detail, Mapping):
            continue
        for error in detail.get("errors") or ():
            if isinstance(error, Mapping):
                found.append(_ads_error(error))
    return found


def _ads_error(error: Mapping[str, Any]) -> GoogleError:
    """One GoogleAdsError: its code, category, row index and quota retry delay."""
    category, code = "", "UNKNOWN"
    error_code = error.get("errorCode")
    if isinstance(error_code, Mapping) and error_code:
        category, raw = next(iter(error_code.items()))
        code = str(raw)
    index = None
    location = error.get("location")
    if isinstance(location, Mapping):
        elements = location.get("fieldPathElements") or ()
        if elements and isinstance(elements[0], Mapping):
            raw_index = elements[0].get("index")
            if isinstance(raw_index, int) and not isinstance(raw_index, bool):
                index = raw_index
    retry = None
    extra = error.get("details")
    if isinstance(extra, Mapping):
        quota = extra.get("quotaErrorDetails")
        if isinstance(quota, Mapping):
            retry = duration_s(quota.get("retryDelay"))
    message = str(error.get("message") or "")[:_MAX_REASON]
    return GoogleError(code, str(category), message, index, retry)


def rpc_details(details: Any) -> tuple[str | None, float | None, list[tuple[str, str]]]:
    """From google.rpc details: (ErrorInfo reason, RetryInfo delay, BadRequest (field, reason))."""
    reason: str | None = None
    delay: float | None = None
    violations: list[tuple[str, str]] = []
    if not isinstance(details, list):
        return reason, delay, violations
    for detail in details:
        if not isinstance(detail, Mapping):
            continue
        kind = str(detail.get("@type", ""))
        if kind.endswith("google.rpc.ErrorInfo") and reason is None:
            reason = str(detail.get("reason") or "") or None
        elif kind.endswith("google.rpc.RetryInfo"):
            delay = duration_s(detail.get("retryDelay"))
        elif kind.endswith("google.rpc.BadRequest"):
            for violation in detail.get("fieldViolations") or ():
                if isinstance(violation, Mapping):
                    violations.append(
                        (str(violation.get("field") or ""), str(violation.get("reason") or ""))
                    )
    return reason, delay, violations


def row_outcome(error: GoogleError, too_recent_retry_after: float) -> ItemOutcome:
    """The outcome for one row-level (or account-level) Google error code."""
    code = error.code
    reason = f"{error.category or 'error'} {code}: {error.message}".strip()[:_MAX_REASON]
    if code in DUPLICATE_OK:
        return ItemOutcome(OutcomeKind.DELIVERED, reason=reason, code=code, duplicate=True)
    if code in NO_CLICK_MATCHED:
        note = f"{NO_CLICK_MATCHED_NOTE} ({reason})"[:_MAX_REASON]
        return ItemOutcome(OutcomeKind.DELIVERED, reason=note, code=code)
    if code in TOO_RECENT:
        return ItemOutcome(
            OutcomeKind.RETRY, reason=reason, code=code, retry_after=too_recent_retry_after
        )
    if code in IN_REQUEST_DUPLICATE or code in TRANSIENT:
        return ItemOutcome(OutcomeKind.RETRY, reason=reason, code=code, retry_after=error.retry_delay)
    if error.category == "quotaError" or code in ("RESOURCE_EXHAUSTED", "RESOURCE_TEMPORARILY_EXHAUSTED"):
        return ItemOutcome(
            OutcomeKind.THROTTLED, reason=reason, code=code, retry_after=error.retry_delay
        )
    if error.category in ACCESS_CATEGORIES or code in ACCESS:
        return ItemOutcome(OutcomeKind.AUTH, reason=reason, code=code)
    if code in MIGRATE:
        return ItemOutcome(
            OutcomeKind.REJECTED,
            reason=f"{reason} (Google no longer accepts new adopters of uploadClickConversions; "
            "set api: data_manager)",
            code=MIGRATE_CODE,
        )
    return ItemOutcome(OutcomeKind.REJECTED, reason=reason, code=code)


_SEVERITY = {
    OutcomeKind.DELIVERED: 0,
    OutcomeKind.RETRY: 1,
    OutcomeKind.THROTTLED: 2,
    OutcomeKind.AUTH: 3,
    OutcomeKind.REJECTED: 4,
}


def worse(a: ItemOutcome, b: ItemOutcome) -> ItemOutcome:
    """The more final of two outcomes for the same row (a rejection beats a retry)."""
    return b if _SEVERITY[b.kind] > _SEVERITY[a.kind] else a


def success(platform_ref: str | None, count: int) -> list[ItemOutcome]:
    """Every item delivered, tagged with the platform's request id."""
    outcome = delivered(platform_ref)
    return [outcome] * count
