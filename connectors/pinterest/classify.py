"""Classification of Pinterest API for Conversions answers.

HTTP 200 carries ``events: [{status: processed | failed, error_message, warning_message}]`` in
request order; HTTP 422 carries the same list under ``details`` when some or all events were
invalid. Each event gets its own outcome, so failed events are rejected alone and processed
ones are never resent. Other errors are ``{code, message}`` for the whole request.
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

DEFAULT_THROTTLE_S = 60.0  # the limit is 5,000 calls per minute per ad account
THROTTLE_CODES = frozenset({8})
AUTH_CODES = frozenset({2})  # "Authentication failed."
RETRY_CODES = frozenset({4197})  # endpoint ramped down


def _json(body: bytes) -> dict[str, Any]:
    """The JSON object of the answer, or an empty dict."""
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _events(body: Mapping[str, Any]) -> list[Any] | None:
    """The per-event status list, top level (200) or under ``details`` (422)."""
    for holder in (body, body.get("details")):
        if isinstance(holder, dict) and isinstance(holder.get("events"), list):
            events: list[Any] = holder["events"]
            return events
    return None


def classify(response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
    """One outcome per item; see the classification table in docs/platforms/pinterest.md."""
    n = len(items)
    status = response.status
    if status == 0:
        return default_classify(response, items)
    body = _json(response.body)
    code = body.get("code") if isinstance(body.get("code"), int) else None
    label = str(code) if code is not None else str(status)
    reason = f"Pinterest HTTP {status} code {label}: {str(body.get('message') or '')[:200]}".rstrip(": ")
    if status == 429 or code in THROTTLE_CODES:
        retry_after = parse_retry_after(response.headers) or DEFAULT_THROTTLE_S
        return [ItemOutcome(OutcomeKind.THROTTLED, reason, label, retry_after)] * n
    if status in (401, 403) or code in AUTH_CODES:
        return [ItemOutcome(OutcomeKind.AUTH, reason, label)] * n
    if status in (408, 425) or status >= 500 or code in RETRY_CODES:
        return [ItemOutcome(OutcomeKind.RETRY, reason, label, parse_retry_after(response.headers))] * n
    events = _events(body)
    if events is not None and len(events) == n and (200 <= status < 300 or status == 422):
        return [_per_event(entry) for entry in events]
    if 200 <= status < 300:
        if events is not None:  # a count we cannot line up: resend (event_id deduplicates)
            why = f"Pinterest listed {len(events)} statuses for {n} events"
            return [ItemOutcome(OutcomeKind.RETRY, why, "events_mismatch")] * n
        return [delivered()] * n
    return [ItemOutcome(OutcomeKind.REJECTED, reason, label, batch_rejected=True)] * n


def _per_event(entry: Any) -> ItemOutcome:
    """The outcome for one entry of Pinterest's ``events`` list."""
    if not isinstance(entry, dict) or entry.get("status") == "processed":
        return delivered()
    message = str(entry.get("error_message") or "failed")[:200]
    return ItemOutcome(OutcomeKind.REJECTED, f"Pinterest: {message}", "failed")
