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


def test_add_each_counts_every_value_of_the_tuple() -> None:
    """An event's match keys as one tuple: each key counted once per add, with plain adds."""
    before = {k: _value(metrics.MATCH_KEYS, "tally-each", k) for k in ("email", "phone", "fbc")}
    tally = metrics.Tally()
    tally.add_each(metrics.MATCH_KEYS, "tally-each", ("email", "phone"))
    tally.add_each(metrics.MATCH_KEYS, "tally-each", ("email", "phone"))
    tally.add_each(metrics.MATCH_KEYS, "tally-each", ("email", "fbc"))
    tally.add_each(metrics.MATCH_KEYS, "tally-each", ())
    tally.add(metrics.MATCH_KEYS, "tally-each", "email")
    tally.flush()
    tally.flush()
    after = {k: _value(metrics.MATCH_KEYS, "tally-each", k) for k in before}
    assert {k: after[k] - before[k] for k in before} == {"email": 4, "phone": 2, "fbc": 1}
