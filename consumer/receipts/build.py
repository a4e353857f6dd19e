"""Receipt dicts from what the engine knows about one (message, platform) at its terminal outcome.

Only names and codes go in: match keys and enrichment are key names, reasons are built from
codes and our own messages (the same rule as dead-letter headers), never from field values.
"""

from __future__ import annotations

import time
from typing import Any

from connectors.base import ItemOutcome
from consumer.delivery.dispatcher import Unit
from consumer.kafka.dlq import DeadLetter
from consumer.kafka.retry_topic import RetryInfo
from consumer.messages import MessageRef

DlqLocation = tuple[str, int, int]
"""(topic, partition, offset) of a dead-letter record."""


def receipt_key(ref: MessageRef) -> bytes:
    """Kafka key: the event id, or ``topic-partition-offset`` for an undecodable message."""
    if ref.event_id:
        return str(ref.event_id).encode()
    return f"{ref.topic}-{ref.partition}-{ref.offset}".encode()


def build_receipt(
    ref: MessageRef,
    platform: str,
    outcome: str,
    stage: str,
    *,
    unit: Unit | None = None,
    result: ItemOutcome | None = None,
    reason: str | None = None,
    code: str | None = None,
    dlq: DlqLocation | None = None,
    retry: tuple[RetryInfo, DlqLocation] | None = None,
) -> dict[str, Any]:
    """One receipt.

    ``ref`` is the engine's message reference (topic, partition, offset, event id/type/time, the
    enrichment's added key names, and the dead-letter record a `dlq replay` re-sends), ``unit``
    the dispatcher's unit (attempts, times, status, the item's match keys) when the event
    reached delivery, ``result`` the platform's classified answer (reason, code, trace id,
    duplicate flag). ``retry`` is (RetryInfo, retry-topic location) for a unit parked on the
    retry topic (outcome ``retry_later``)."""
    return {
        **message_fields(ref),
        **attempt_fields(platform, outcome, stage, unit, result, reason, code),
        **place_fields(dlq, int(time.time() * 1000)),
        "retry": _retry_field(retry) if retry else None,
    }


def message_fields(ref: MessageRef) -> dict[str, Any]:
    """The receipt fields that are the message's own, the same for each of its platforms."""
    replay = ref.replay
    return {
        "event_id": ref.event_id,
        "event_type": ref.event_type,
        "enrichment_added": list(ref.enriched),
        "event_time_ms": ref.event_time_ms,
        "source_topic": ref.topic,
        "source_partition": ref.partition,
        "source_offset": ref.offset,
        "replay_of": (
            {
                "topic": replay.topic,
                "partition": replay.partition,
                "offset": replay.offset,
                "replay": replay.replays + 1,
            }
            if replay is not None
            else None
        ),
    }


def attempt_fields(
    platform: str,
    outcome: str,
    stage: str,
    unit: Unit | None,
    result: ItemOutcome | None,
    reason: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """The receipt fields of one (message, platform)'s attempts and the platform's answer.
    Reads only the fields `attempt_key` lists (plus the item's match keys)."""
    if reason is None and result is not None:
        reason = result.reason or None
    if code is None and result is not None:
        code = result.code
    return {
        "platform": platform,
        "outcome": outcome,
        "stage": stage,
        "duplicate": result is not None and result.duplicate,
        "attempts": unit.attempts if unit is not None else 0,
        "first_attempt_ms": (unit.first_attempt_ms or None) if unit is not None else None,
        "last_attempt_ms": (unit.last_attempt_ms or None) if unit is not None else None,
        "http_status": unit.last_status if unit is not None else None,
        "platform_ref": result.platform_ref if result is not None else None,
        "reason": reason,
        "code": code,
        "match_keys": list(unit.item.match_keys) if unit is not None else [],
    }


AttemptKey = tuple[int, int, int, int | None, bool, str | None, str | None, str | None]


def attempt_key(unit: Unit, result: ItemOutcome) -> AttemptKey:
    """Everything `attempt_fields` reads of a delivered unit and its answer, but the match keys:
    units of one request with equal keys have equal attempt fields (shared encodings)."""
    return (
        unit.attempts,
        unit.first_attempt_ms,
        unit.last_attempt_ms,
        unit.last_status,
        result.duplicate,
        result.platform_ref,
        result.reason,
        result.code,
    )


def place_fields(dlq: DlqLocation | None, now_ms: int) -> dict[str, Any]:
    """Where the failure was kept (its dead-letter record, if any) and when the receipt was made."""
    return {
        "dlq_topic": dlq[0] if dlq else None,
        "dlq_partition": dlq[1] if dlq else None,
        "dlq_offset": dlq[2] if dlq else None,
        "receipt_time_ms": now_ms,
    }


def _retry_field(retry: tuple[RetryInfo, DlqLocation]) -> dict[str, Any]:
    info, (topic, partition, offset) = retry
    return {
        "not_before_ms": info.not_before_ms,
        "attempt": info.attempt,
        "first_failure_ms": info.first_failure_ms,
        "deadline_ms": info.deadline_ms,
        "topic": topic,
        "partition": partition,
        "offset": offset,
    }


def receipt_for_letter(
    ref: MessageRef,
    letter: DeadLetter,
    dlq: DlqLocation | None,
    unit: Unit | None = None,
    result: ItemOutcome | None = None,
) -> dict[str, Any]:
    """The receipt of a dead-lettered (message, platform): decode, map or deliver stage."""
    return build_receipt(
        ref,
        letter.platform,
        letter.outcome,
        letter.stage,
        unit=unit,
        result=result,
        reason=letter.reason,
        code=letter.error_code,
        dlq=dlq,
    )
