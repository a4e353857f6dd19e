"""A dead letter too large for its topic loses its value (and then its key), never its context."""

from __future__ import annotations

from consumer.kafka.dlq import (
    H_KEY_BYTES,
    H_OFFSET,
    H_TOPIC,
    H_VALUE_BYTES,
    H_VALUE_OMITTED,
    DeadLetter,
    headers_dict,
    smaller_letter,
)
from consumer.observability.kafka_log import RateLimit


def _letter() -> DeadLetter:
    return DeadLetter(
        topic="events.purchase",
        partition=2,
        offset=41,
        key=b"k" * 10_000,
        value=b"v" * 5_000_000,
        headers=[("traceparent", b"x" * 100)],
        stage="decode",
        platform="*",
        outcome="rejected",
        reason="not avro",
    )


def test_level_one_drops_value_and_original_headers_keeps_pointer() -> None:
    letter = _letter()
    record = smaller_letter(letter, letter.kafka_headers(), 1)
    assert record is not None and record.value is None and record.key == letter.key
    ctx = headers_dict([(k, v if isinstance(v, bytes) else str(v).encode()) for k, v in record.headers or ()])
    assert ctx[H_VALUE_OMITTED] == "too_large" and ctx[H_VALUE_BYTES] == "5000000"
    assert ctx[H_TOPIC] == "events.purchase" and ctx[H_OFFSET] == "41"
    assert "traceparent" not in ctx


def test_level_two_drops_key_and_then_gives_up() -> None:
    letter = _letter()
    record = smaller_letter(letter, letter.kafka_headers(), 2)
    assert record is not None and record.key is None
    assert (H_KEY_BYTES, b"10000") in list(record.headers or ())
    assert smaller_letter(letter, letter.kafka_headers(), 3) is None


def test_rate_limit_allows_a_burst_per_window_and_counts_the_rest() -> None:
    now = [0.0]
    limit = RateLimit(burst=2, window_s=10, clock=lambda: now[0])
    assert [limit.allow("FAIL") for _ in range(5)] == [True, True, False, False, False]
    assert limit.allow("OTHER")
    now[0] = 11
    assert limit.allow("FAIL") and limit.take_suppressed("FAIL") == 3
