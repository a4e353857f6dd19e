"""Classification of LinkedIn Conversions API answers.

A BATCH_CREATE succeeds with HTTP 200 and one ``{"status": 201}`` per element. It fails as a
whole for one bad element; LinkedIn's message then names the bad elements (``Index: N`` lines
on 422, ``indices [N, …]`` on some 400s), so those are rejected and the others retried instead
of splitting blindly. No ``Retry-After`` is sent on 429 (daily quotas).
"""

from __future__ import annotations

import re
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

DEFAULT_THROTTLE_S = 60.0
_INDEX_LINE = re.compile(r"Index:\s*(\d+)\s*,\s*ERROR\s*::\s*([^\n]*)")
_INDICES = re.compile(r"indices\s*\[([0-9,\s]+)\]")


def _json(body: bytes) -> dict[str, Any]:
    """The JSON object of the answer, or an empty dict."""
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header value by case-insensitive name."""
    return next((v for k, v in headers.items() if k.lower() == name), None)


def bad_indices(message: str, n: int) -> dict[int, str]:
    """Element indices LinkedIn's error message blames, with the reason for each."""
    found: dict[int, str] = {}
    for match in _INDEX_LINE.finditer(message):
        index = int(match.group(1))
        if index < n:
            found.setdefault(index, match.group(2).strip()[:200])
    for match in _INDICES.finditer(message):
        for part in match.group(1).split(","):
            if part.strip().isdigit() and int(part) < n:
                found.setdefault(int(part), message[:200])
    return found


def classify(response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
    """One outcome per item; see the classification table in docs/platforms/linkedin.md."""
    n = len(items)
    status = response.status
    if status == 0:
        return default_classify(response, items)
    ref = _header(response.headers, "x-li-uuid")
    body = _json(response.body)
    if 200 <= status < 300:
        return _success(body, n, ref)
    code = body.get("code") if isinstance(body.get("code"), str) else None
    label = code or str(status)
    message = str(body.get("message") or "")
    reason = f"LinkedIn HTTP {status} {code or ''}: {message[:200]}".replace("  ", " ")
    if status in (401, 403):
        return [ItemOutcome(OutcomeKind.AUTH, reason, label, platform_ref=ref)] * n
    if status == 426:
        # The pinned LinkedIn-Version was sunset: nothing can succeed until it is bumped, so
        # open the circuit like an auth failure instead of dead-lettering every event.
        return [ItemOutcome(OutcomeKind.AUTH, reason, "version_sunset", platform_ref=ref)] * n
    if status == 429:
        retry_after = parse_retry_after(response.headers) or DEFAULT_THROTTLE_S
        return [ItemOutcome(OutcomeKind.THROTTLED, reason, label, retry_after, platform_ref=ref)] * n
    if status in (408, 423) or status >= 500:
        wait = parse_retry_after(response.headers)
        return [ItemOutcome(OutcomeKind.RETRY, reason, label, wait, platform_ref=ref)] * n
    blamed = bad_indices(message, n)
    if blamed:
        outcomes = []
        for index in range(n):
            if index in blamed:
                why = f"LinkedIn HTTP {status}: {blamed[index]}"
                outcomes.append(ItemOutcome(OutcomeKind.REJECTED, why, label, platform_ref=ref))
            else:
                outcomes.append(
                    ItemOutcome(
                        OutcomeKind.RETRY,
                        "batch failed for another element",
                        "batch_failed",
                        platform_ref=ref,
                    )
                )
        return outcomes
    return [ItemOutcome(OutcomeKind.REJECTED, reason, label, batch_rejected=True, platform_ref=ref)] * n


def _success(body: Mapping[str, Any], n: int, ref: str | None) -> list[ItemOutcome]:
    """Per-element statuses of a 2xx BATCH_CREATE answer (all delivered when none are listed)."""
    elements = body.get("elements")
    if not isinstance(elements, list):
        return [delivered(ref)] * n
    if len(elements) != n:
        outcome = ItemOutcome(
            OutcomeKind.RETRY,
            f"LinkedIn answered {len(elements)} statuses for {n} elements",
            "elements_mismatch",
            platform_ref=ref,
        )
        return [outcome] * n
    outcomes = []
    for element in elements:
        element_status = element.get("status") if isinstance(element, dict) else None
        if not isinstance(element_status, int) or 200 <= element_status < 300:
            outcomes.append(delivered(ref))
            continue
        error = element.get("error") if isinstance(element.get("error"), dict) else {}
        why = str(error.get("message") or element.get("message") or "")[:200]
        reason = f"LinkedIn element status {element_status}: {why}".rstrip(": ")
        if element_status == 429:
            outcomes.append(
                ItemOutcome(OutcomeKind.THROTTLED, reason, "429", DEFAULT_THROTTLE_S, platform_ref=ref)
            )
        elif element_status >= 500:
            outcomes.append(ItemOutcome(OutcomeKind.RETRY, reason, str(element_status), platform_ref=ref))
        else:
            outcomes.append(ItemOutcome(OutcomeKind.REJECTED, reason, str(element_status), platform_ref=ref))
    return outcomes
