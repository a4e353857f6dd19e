"""Classification of UET Conversions API answers.

Shape: ``{"eventsReceived", "error": {"code", "message", "details": [{"index", "propertyName",
"errorMessage", "errorCode", "isWarning"}]}, "traceId"}``. With ``continueOnValidationError`` a
200 may carry details: the indexed events were refused, the rest were ingested, and warnings
are only warnings. A 400 ingests nothing: indexed events are rejected, the others resent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from connectors.base import HttpResponse, Item, ItemOutcome, OutcomeKind, default_classify

RESEND = "fast_fail_resend"


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None


def _details(body: Any, n: int) -> tuple[str, str, dict[int, tuple[str, str]]]:
    """(code, message, index -> (errorCode, message)) for non-warning details within range."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", "", {}
    located: dict[int, tuple[str, str]] = {}
    for detail in error.get("details") or ():
        if not isinstance(detail, dict) or detail.get("isWarning") is True:
            continue
        index = detail.get("index")
        if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < n:
            code = str(detail.get("errorCode") or error.get("code") or "InvalidEvent")
            text = f"{detail.get('propertyName') or ''}: {detail.get('errorMessage') or 'invalid'}"
            located.setdefault(index, (code, text[:300]))
    return str(error.get("code") or ""), str(error.get("message") or "")[:300], located


def _ref(body: Any) -> str | None:
    trace = body.get("traceId") if isinstance(body, dict) else None
    return trace if isinstance(trace, str) else None


def classify(response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
    """One outcome per item; table in docs/platforms/microsoft.md."""
    status = response.status
    n = len(items)
    if status == 0 or status in (401, 403, 408, 425, 429) or status >= 500:
        return default_classify(response, items)
    body = _json(response.body)
    code, message, located = _details(body, n)
    ref = _ref(body)
    if 200 <= status < 300:
        return [
            ItemOutcome(OutcomeKind.REJECTED, f"Microsoft: {located[i][1]}", located[i][0], platform_ref=ref)
            if i in located
            else ItemOutcome(OutcomeKind.DELIVERED, platform_ref=ref)
            for i in range(n)
        ]
    label = code or str(status)
    if located:
        return [
            ItemOutcome(OutcomeKind.REJECTED, f"Microsoft: {located[i][1]}", located[i][0], platform_ref=ref)
            if i in located
            else ItemOutcome(
                OutcomeKind.RETRY, "batch refused for another event; resend", RESEND, platform_ref=ref
            )
            for i in range(n)
        ]
    reason = f"Microsoft HTTP {status}: {message}" if message else f"Microsoft HTTP {status}"
    return [ItemOutcome(OutcomeKind.REJECTED, reason, label, batch_rejected=True, platform_ref=ref)] * n
