"""Classification of Snap Conversions API v3 answers.

Snap answers ``{"status": "VALID" | "INVALID", "reason", "event"?, "errors"?}``; the validate
endpoint (test mode) answers ``event_logs`` with one entry per checked event. Snap's v3 OpenAPI
(``api/openapi.yaml`` in Snapchat/business-sdk-v3-java) calls ``event`` "the event identifier",
not the event's position in the batch, and documents no order for ``event_logs``: using either
as an index could reject a good event and resend a bad one. So an INVALID answer rejects the
whole batch for a split: the engine halves and resends until the bad event stands alone (the
event id makes the resends harmless).
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

DEFAULT_THROTTLE_S = 5.0  # Snap's API limits are per second; no Retry-After is sent
_BAD_STATUSES = frozenset({"INVALID", "FAILURE", "FAILED", "ERROR"})


def _json(body: bytes) -> dict[str, Any]:
    """The JSON object of the answer, or an empty dict."""
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _errors_text(entry: Mapping[str, Any]) -> str:
    """Snap's ``errors.error_msgs`` (or ``reason``) as one short string."""
    errors = entry.get("errors")
    msgs = errors.get("error_msgs") if isinstance(errors, dict) else None
    if isinstance(msgs, list) and msgs:
        return "; ".join(str(m) for m in msgs)[:200]
    return str(entry.get("reason") or "")[:200]


def _errors_code(entry: Mapping[str, Any], fallback: str) -> str:
    """The first of Snap's ``errors.codes``, or ``fallback``."""
    errors = entry.get("errors")
    codes = errors.get("codes") if isinstance(errors, dict) else None
    if isinstance(codes, list) and codes:
        return str(codes[0])
    return fallback


def classify(response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
    """One outcome per item; see the classification table in docs/platforms/snap.md."""
    n = len(items)
    status = response.status
    if status == 0:
        return default_classify(response, items)
    body = _json(response.body)
    reason = f"Snap HTTP {status}: {_errors_text(body)}".rstrip(": ")
    if status in (401, 403):
        return [ItemOutcome(OutcomeKind.AUTH, reason, str(status))] * n
    if status == 429:
        retry_after = parse_retry_after(response.headers) or DEFAULT_THROTTLE_S
        return [ItemOutcome(OutcomeKind.THROTTLED, reason, "429", retry_after)] * n
    if status in (408, 425) or status >= 500:
        return [ItemOutcome(OutcomeKind.RETRY, reason, str(status), parse_retry_after(response.headers))] * n
    logs = body.get("event_logs")
    if isinstance(logs, list) and logs:
        return _from_logs(logs, n, 200 <= status < 300)
    invalid = str(body.get("status") or "").upper() in _BAD_STATUSES or not 200 <= status < 300
    if not invalid:
        return [delivered()] * n
    code = _errors_code(body, str(status) if status >= 300 else "INVALID")
    return [ItemOutcome(OutcomeKind.REJECTED, reason, code, batch_rejected=True)] * n


def _from_logs(logs: list[Any], n: int, ok_status: bool) -> list[ItemOutcome]:
    """Outcomes from the validate endpoint's ``event_logs``: any INVALID entry rejects the batch
    for a split (an entry's ``event`` is not documented as a position); otherwise delivered."""
    for entry in logs:
        if isinstance(entry, dict) and str(entry.get("status") or "").upper() in _BAD_STATUSES:
            why = f"Snap validation: {_errors_text(entry)}".rstrip(": ")
            code = _errors_code(entry, "INVALID")
            return [ItemOutcome(OutcomeKind.REJECTED, why, code, batch_rejected=True)] * n
    if ok_status:
        return [delivered()] * n
    return [ItemOutcome(OutcomeKind.REJECTED, "Snap validation failed", "INVALID", batch_rejected=True)] * n
