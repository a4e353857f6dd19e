"""Classification of Reddit Conversions API answers.

Reddit processes a batch all-or-nothing: one invalid event and "None were processed". When the
answer names the bad events (v3 ``error.fields[].field`` like ``data.events[3].event_at``, or
v2-style ``invalid_events[].event`` carrying the conversion id), those are rejected and the
others resent; when it names none, the engine splits the batch to find the culprit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import orjson

from connectors.base import HttpResponse, Item, ItemOutcome, OutcomeKind, default_classify

_INDEX = re.compile(r"events\[(\d+)\]")
RESEND = "fast_fail_resend"


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None


def _error(body: Any) -> tuple[str, str, list[dict[str, Any]]]:
    """(code, message, fields) of a v3 error body (all empty when the shape is different)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        message = body.get("message") if isinstance(body, dict) else body if isinstance(body, str) else ""
        return "", str(message or "")[:300], []
    code = str(error.get("code") or error.get("reason") or "")
    message = str(error.get("message") or error.get("explanation") or "")[:300]
    fields = [f for f in error.get("fields") or () if isinstance(f, dict)]
    return code, message, fields


def _located(body: Any, fields: list[dict[str, Any]], items: Sequence[Item]) -> dict[int, str]:
    """Index -> reason for the events the answer names."""
    found: dict[int, str] = {}
    for entry in fields:
        match = _INDEX.search(str(entry.get("field") or ""))
        if match and int(match.group(1)) < len(items):
            found.setdefault(int(match.group(1)), str(entry.get("message") or "invalid")[:300])
    invalid = body.get("invalid_events") if isinstance(body, dict) else None
    if isinstance(invalid, list):
        by_conversion = {
            str((it.payload.get("metadata") or {}).get("conversion_id")): i for i, it in enumerate(items)
        }
        for entry in invalid:
            if not isinstance(entry, dict) or not isinstance(entry.get("event"), dict):
                continue
            event = entry["event"]
            meta = event.get("metadata") or event.get("event_metadata") or {}
            index = by_conversion.get(str(meta.get("conversion_id")))
            if index is not None:
                found.setdefault(index, str(entry.get("error_message") or "invalid")[:300])
    return found


def classify(response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
    """One outcome per item; table in docs/platforms/reddit.md."""
    status = response.status
    if status == 0 or status == 429 or status >= 500 or 200 <= status < 300 or status == 401:
        return default_classify(response, items)
    body = _json(response.body)
    code, message, fields = _error(body)
    label = code or str(status)
    reason = f"Reddit HTTP {status}: {message}" if message else f"Reddit HTTP {status}"
    if status == 403 and not fields:
        return [ItemOutcome(OutcomeKind.AUTH, reason, label)] * len(items)
    located = _located(body, fields, items)
    if located:
        return [
            ItemOutcome(OutcomeKind.REJECTED, f"Reddit: {located[i]}", label)
            if i in located
            else ItemOutcome(OutcomeKind.RETRY, "batch refused for another event; resend", RESEND)
            for i in range(len(items))
        ]
    if status in (408, 425):
        return default_classify(response, items)
    return [ItemOutcome(OutcomeKind.REJECTED, reason, label, batch_rejected=True)] * len(items)
