"""Histogram.observe_many: exactly what one ``observe`` per value exposes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest

from consumer.observability import metrics

_AMOUNTS = st.lists(
    st.one_of(
        st.floats(min_value=0, max_value=1e6, allow_nan=False),
        st.sampled_from([0.0, *metrics.LATENCY_BUCKETS]),  # on a bound: the bound's bucket
    ),
    max_size=40,
)


def _exposition(amounts: list[float], many: bool) -> bytes:
    registry = CollectorRegistry()
    histogram = metrics.Histogram(
        "h_seconds", "test", ["platform"], buckets=metrics.LATENCY_BUCKETS, registry=registry
    )
    child = histogram.labels("meta")
    if many:
        child.observe_many(amounts)
    else:
        for amount in amounts:
            child.observe(amount)
    return b"\n".join(line for line in generate_latest(registry).splitlines() if b"_created" not in line)


@settings(max_examples=300)
@given(amounts=_AMOUNTS)
def test_observe_many_equals_one_observe_per_value(amounts: list[float]) -> None:
    assert _exposition(amounts, many=True) == _exposition(amounts, many=False)
