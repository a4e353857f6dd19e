"""Tally: gathered counter increments land in the counters, once per (counter, labels)."""

from __future__ import annotations

from consumer.observability import metrics


def _value(counter: metrics.Counter, *labels: str) -> float:
    return float(counter.labels(*labels)._value.get())


def test_flush_applies_counts_and_forgets_them() -> None:
    before_email = _value(metrics.MATCH_KEYS, "tally-test", "email")
    before_phone = _value(metrics.MATCH_KEYS, "tally-test", "phone")
    tally = metrics.Tally()
    for _ in range(3):
        tally.add(metrics.MATCH_KEYS, "tally-test", "email")
    tally.add(metrics.MATCH_KEYS, "tally-test", "phone")
    assert _value(metrics.MATCH_KEYS, "tally-test", "email") == before_email  # nothing until flush
    tally.flush()
    tally.flush()  # a second flush adds nothing
    assert _value(metrics.MATCH_KEYS, "tally-test", "email") == before_email + 3
    assert _value(metrics.MATCH_KEYS, "tally-test", "phone") == before_phone + 1
