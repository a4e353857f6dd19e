"""Building dead-letter records for tests exactly as the engine writes them (its own
`DeadLetter.kafka_headers`), so the tests exercise the real header contract."""

from __future__ import annotations

from typing import Any

from consumer.dlq_ops.records import DlqRecord
from consumer.kafka.dlq import DeadLetter


def letter(
    *,
    platform: str = "meta",
    stage: str = "deliver",
    outcome: str = "exhausted",
    reason: str = "HTTP 503",
    code: str | None = "503",
    event_id: str | None = "ORD-1",
    event_type: str | None = "purchase",
    failed_ms: int = 1_700_000_000_000,
    replays: int = 0,
    attempts: int = 3,
    value: bytes | None = b"x",
    topic: str = "events.purchase",
    offset: int = 7,
) -> DeadLetter:
    """A dead letter with sensible defaults; override what the test is about."""
    return DeadLetter(
        topic=topic,
        partition=0,
        offset=offset,
        key=b"k",
        value=value,
        headers=[("trace", b"abc")],
        stage=stage,
        platform=platform,
        outcome=outcome,
        reason=reason,
        attempts=attempts,
        error_code=code,
        first_failure_ms=failed_ms - 1000,
        last_failure_ms=failed_ms,
        event_id=event_id,
        event_type=event_type,
        replays=replays,
    )


def record(dlq_offset: int = 0, **kwargs: Any) -> DlqRecord:
    """The record the DLQ would hand back for ``letter(**kwargs)``."""
    dl = letter(**kwargs)
    headers = [(k, v if isinstance(v, bytes) else None) for k, v in dl.kafka_headers()]
    return DlqRecord.from_parts(0, dlq_offset, 1_700_000_000_500, dl.key, dl.value, headers)
