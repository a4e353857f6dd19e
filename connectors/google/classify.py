"""Whole-request classification of a Google answer that is not a 2xx.

Both Google APIs answer request-level failures with a google.rpc Status; the HTTP code, the
``status`` name and the error codes in ``details`` together decide the outcome. Per-row
handling (Ads API partial failure, Data Manager field violations) lives with each API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.base import (
    HttpResponse,
    Item,
    ItemOutcome,
    OutcomeKind,
    default_classify,
    parse_retry_after,
)
from connectors.google.errors import (
    ACCESS,
    ACCESS_CATEGORIES,
    CONFIG,
    MIGRATE,
    MIGRATE_CODE,
    ads_failure_errors,
    parse_body,
    rpc_details,
)

_RETRY_STATUSES = frozenset({"UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED", "ABORTED", "UNKNOWN"})


def rpc_error(body: bytes) -> Mapping[str, Any]:
    """The ``error`` object of a google.rpc error body, or an empty mapping."""
    data = parse_body(body)
    if isinstance(data, Mapping):
        error = data.get("error")
        if isinstance(error, Mapping):
            return error
    return {}


def request_failure(response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
    """One outcome for every item of a request Google refused as a whole (non-2xx)."""
    status = response.status
    if status == 0:
        return default_classify(response, items)
    error = rpc_error(response.body)
    rpc_status = str(error.get("status") or "")
    details = error.get("details")
    ads_errors = ads_failure_errors(details)
    reason_code, rpc_delay, _ = rpc_details(details)
    codes = [e.code for e in ads_errors]
    if reason_code:
        codes.append(reason_code)
    first = codes[0] if codes else (rpc_status or str(status))
    message = str(error.get("message") or f"HTTP {status}")[:300]
    reason = f"HTTP {status} {rpc_status} {first}: {message}".replace("  ", " ")
    retry_after = parse_retry_after(response.headers)
    if retry_after is None:
        retry_after = rpc_delay
    if retry_after is None:
        retry_after = next((e.retry_delay for e in ads_errors if e.retry_delay is not None), None)

    outcome: ItemOutcome
    if any(code in MIGRATE for code in codes):
        outcome = ItemOutcome(
            OutcomeKind.REJECTED,
            reason=f"{reason} (Google no longer accepts new adopters of uploadClickConversions; "
            "set api: data_manager)",
            code=MIGRATE_CODE,
        )
    elif status == 401 or rpc_status == "UNAUTHENTICATED":
        outcome = ItemOutcome(OutcomeKind.AUTH, reason=reason, code=first)
    elif status == 429 or rpc_status == "RESOURCE_EXHAUSTED":
        outcome = ItemOutcome(OutcomeKind.THROTTLED, reason=reason, code=first, retry_after=retry_after)
    elif status >= 500 or status in (408, 425) or rpc_status in _RETRY_STATUSES:
        outcome = ItemOutcome(OutcomeKind.RETRY, reason=reason, code=first, retry_after=retry_after)
    elif (
        status == 403
        or rpc_status == "PERMISSION_DENIED"
        or any(code in ACCESS for code in codes)
        or any(e.category in ACCESS_CATEGORIES for e in ads_errors)
    ):
        outcome = ItemOutcome(OutcomeKind.AUTH, reason=reason, code=first)
    elif 400 <= status < 500:
        # A configuration problem fails every event alike: splitting the batch cannot help.
        split = not any(code in CONFIG for code in codes)
        outcome = ItemOutcome(OutcomeKind.REJECTED, reason=reason, code=first, batch_rejected=split)
    else:
        return default_classify(response, items)
    return [outcome] * len(items)
