"""Classification of Events API answers: TikTok reports most errors as HTTP 200 with a non-zero
``code`` in the body, so the body decides and the HTTP status is only the fallback."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from connectors.base import (
    HttpResponse,
    Item,
    ItemOutcome,
    OutcomeKind,
    default_classify,
    parse_retry_after,
)

SUCCESS_CODES = frozenset({0, 20001})  # 20001: accepted by RudderStack as success (partial?)
# Codes and names from TikTok's own Business API SDK (tiktok_business/tiktok_code.py).
THROTTLE_CODES = frozenset({40100, 40132})  # request too frequent / request frequency limited
# Token expired, empty or invalid; invalid core user; permission error, forbidden, app forbidden,
# app method forbidden, not in whitelist, developer without permission, scope not authorized:
# an operator fixes these, so the platform is held behind its auth circuit.
AUTH_CODES = frozenset({40102, 40104, 40105, 40106})
PERMISSION_CODES = frozenset({40001, 40003, 40113, 40117, 40118, 40125, 40130})
RETRY_CODES = frozenset({50000, 50002})
DEFAULT_THROTTLE_S = 10.0


def _json(body: bytes) -> dict[str, Any]:
    """The JSON object of the answer, or an empty dict."""
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def classify(response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
    """One outcome per item (the request is all-or-nothing); table in docs/platforms/tiktok.md."""
    n = len(items)
    status = response.status
    if status == 0:
        return default_classify(response, items)
    body = _json(response.body)
    code = body.get("code")
    ref = body.get("request_id") if isinstance(body.get("request_id"), str) else None
    if (not isinstance(code, int) or isinstance(code, bool)) and 200 <= status < 300:
        # TikTok always answers with a code; anything else (a proxy page?) is not an ack.
        outcome = ItemOutcome(OutcomeKind.RETRY, f"HTTP {status} without a TikTok code", "no_code")
        return [outcome] * n
    if not isinstance(code, int) or isinstance(code, bool) or status == 429 or status >= 500:
        outcomes = default_classify(response, items)
        return [_with_ref(o, ref) for o in outcomes]
    message = str(body.get("message") or "")[:300]
    reason = f"TikTok code {code}: {message}" if message else f"TikTok code {code}"
    label = str(code)
    if code in SUCCESS_CODES:
        if 200 <= status < 300:
            return [ItemOutcome(OutcomeKind.DELIVERED, reason if code else "", None if code == 0 else label,
                                platform_ref=ref)] * n
        return [_with_ref(o, ref) for o in default_classify(response, items)]
    if code in THROTTLE_CODES:
        retry_after = parse_retry_after(response.headers) or DEFAULT_THROTTLE_S
        outcome = ItemOutcome(OutcomeKind.THROTTLED, reason, label, retry_after, platform_ref=ref)
    elif code in AUTH_CODES or code in PERMISSION_CODES:
        outcome = ItemOutcome(OutcomeKind.AUTH, reason, label, platform_ref=ref)
    elif code in RETRY_CODES or code >= 50000:
        outcome = ItemOutcome(
            OutcomeKind.RETRY, reason, label, parse_retry_after(response.headers), platform_ref=ref
        )
    elif status in (401, 403):
        outcome = ItemOutcome(OutcomeKind.AUTH, reason, label, platform_ref=ref)
    else:
        # 40002 (invalid parameter) and other codes: one bad event fails the whole batch.
        outcome = ItemOutcome(OutcomeKind.REJECTED, reason, label, batch_rejected=True, platform_ref=ref)
    return [outcome] * n


def _with_ref(outcome: ItemOutcome, ref: str | None) -> ItemOutcome:
    """``outcome`` carrying TikTok's request id, when the body had one."""
    if ref is None:
        return outcome
    return ItemOutcome(
        outcome.kind, outcome.reason, outcome.code, outcome.retry_after,
        outcome.batch_rejected, ref, outcome.duplicate,
    )
