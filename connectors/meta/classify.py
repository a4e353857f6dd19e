"""Classification of Conversions API answers: Graph error code/subcode first, HTTP status second.

Graph answers most errors with HTTP 400 whatever their cause (throttling included), so the
status code alone would dead-letter events that only had to wait. A request is all-or-nothing:
either every event was received or none was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from connectors.base import (
    HttpResponse,
    Item,
    ItemOutcome,
    OutcomeKind,
    default_classify,
    delivered,
    parse_retry_after,
)

# Meta's error-handling guide: "wait and retry" for the call limits (4, 17, 32, 613, the
# business-use-case limits 80000-80014), 341 "Application limit reached" and 368 "Temporarily
# blocked for policies violations": the platform waits, the events are not at fault.
THROTTLE_CODES = frozenset({4, 17, 32, 341, 368, 613, *range(80000, 80015)})
AUTH_CODES = frozenset({102, 190})
TRANSIENT_CODES = frozenset({1, 2})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
INVALID_EVENT_SUBCODES = range(2804000, 2805000)  # CAPI per-event validation errors
MISSING_OBJECT_SUBCODE = 33  # code 100: wrong dataset id or no permission on it
DEFAULT_THROTTLE_S = 60.0  # Marketing API blocks for roughly 60-300 s


def _body(response: HttpResponse) -> Mapping[str, Any]:
    """The JSON object of the answer, or an empty mapping if it is not one."""
    try:
        parsed = orjson.loads(response.body) if response.body else None
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _int(value: Any) -> int | None:
    """An integer code from a JSON value, tolerating numeric strings."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def buc_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds until access returns, from Meta's ``x-business-use-case-usage`` header
    (``estimated_time_to_regain_access`` is in minutes), if it says so."""
    raw = next((v for k, v in headers.items() if k.lower() == "x-business-use-case-usage"), None)
    if not raw:
        return None
    try:
        usage = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    minutes = 0.0
    if isinstance(usage, dict):
        for entries in usage.values():
            for entry in entries if isinstance(entries, list) else ():
                if isinstance(entry, dict):
                    value = entry.get("estimated_time_to_regain_access")
                    if isinstance(value, int | float):
                        minutes = max(minutes, float(value))
    return minutes * 60.0 if minutes > 0 else None


def classify(response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
    """One outcome per item; see the classification table in docs/platforms/meta.md."""
    n = len(items)
    if response.status == 0:
        return default_classify(response, items)
    body = _body(response)
    error = body.get("error")
    if 200 <= response.status < 300 and not isinstance(error, dict):
        trace = body.get("fbtrace_id")
        received = _int(body.get("events_received"))
        if received is not None and received != n:
            outcome = ItemOutcome(
                OutcomeKind.RETRY,
                reason=f"Meta received {received} of {n} events",
                code="events_received_mismatch",
                platform_ref=trace,
            )
            return [outcome] * n
        return [delivered(trace)] * n
    if not isinstance(error, dict):
        return default_classify(response, items)
    return [_classify_error(response, error)] * n


def _classify_error(response: HttpResponse, error: Mapping[str, Any]) -> ItemOutcome:
    """The outcome for a Graph error object (shared by every item: the batch is all-or-nothing)."""
    code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    trace = error.get("fbtrace_id") if isinstance(error.get("fbtrace_id"), str) else None
    label = f"{code}/{subcode}" if subcode is not None else str(code)
    message = str(error.get("error_user_msg") or error.get("message") or "")[:300]
    reason = f"Meta error {label}: {message}" if message else f"Meta error {label}"
    status = response.status
    if code in THROTTLE_CODES or status == 429:
        retry_after = parse_retry_after(response.headers) or buc_retry_after(response.headers)
        return ItemOutcome(
            OutcomeKind.THROTTLED, reason, label, retry_after or DEFAULT_THROTTLE_S, platform_ref=trace
        )
    if code in AUTH_CODES:
        return ItemOutcome(OutcomeKind.AUTH, reason, label, platform_ref=trace)
    if code in TRANSIENT_CODES or error.get("is_transient") is True or status >= 500:
        return ItemOutcome(
            OutcomeKind.RETRY, reason, label, parse_retry_after(response.headers), platform_ref=trace
        )
    if code in PERMISSION_CODES or (code == 100 and subcode == MISSING_OBJECT_SUBCODE):
        # Access problem ("permission is either not granted or has been removed", or a dataset
        # the token cannot load): an operator fixes it, not the data, so the platform is held
        # behind its auth circuit instead of dead-lettering every event.
        return ItemOutcome(OutcomeKind.AUTH, reason, label, platform_ref=trace)
    if code == 100 and (subcode is None or subcode in INVALID_EVENT_SUBCODES):
        return ItemOutcome(OutcomeKind.REJECTED, reason, label, batch_rejected=True, platform_ref=trace)
    if status in (401, 403):
        return ItemOutcome(OutcomeKind.AUTH, reason, label, platform_ref=trace)
    return ItemOutcome(OutcomeKind.REJECTED, reason, label, batch_rejected=True, platform_ref=trace)
