"""Prometheus metrics, defined once. Names are a contract with the Helm chart's dashboard and
alert rules (tests check that every metric an alert names is exported here)."""

from __future__ import annotations

import platform
from bisect import bisect_left
from collections.abc import Iterable
from importlib import metadata
from typing import Any

import prometheus_client


class _CachedLabels:
    """``labels(...)`` memoised per label tuple. prometheus_client validates, stringifies and
    takes a lock on every ``labels()`` call; the relay calls it ~25 times per event (consumed,
    mapped, match keys, outcomes, latency), which profiled at ~15% of the relay's CPU. The
    cache returns the same child object prometheus_client would; ``remove``/``clear`` drop it."""

    def labels(self, *labelvalues: Any, **labelkwargs: Any) -> Any:
        """The child for these label values (cached; keyword form is passed through)."""
        if labelkwargs:
            return super().labels(*labelvalues, **labelkwargs)  # type: ignore[misc]
        cache: dict[tuple[Any, ...], Any] | None = getattr(self, "_capi_children", None)
        if cache is None:
            cache = {}
            self._capi_children = cache
        child = cache.get(labelvalues)
        if child is None:
            child = cache[labelvalues] = super().labels(*labelvalues)  # type: ignore[misc]
        return child

    def remove(self, *labelvalues: Any) -> None:
        """Remove a child (and forget every cached one)."""
        self._capi_children = {}
        super().remove(*labelvalues)  # type: ignore[misc]

    def clear(self) -> None:
        """Remove every child (and the cache)."""
        self._capi_children = {}
        super().clear()  # type: ignore[misc]


class Counter(_CachedLabels, prometheus_client.Counter):
    """A prometheus_client Counter with cached label children."""


class Gauge(_CachedLabels, prometheus_client.Gauge):
    """A prometheus_client Gauge with cached label children."""


class Histogram(_CachedLabels, prometheus_client.Histogram):
    """A prometheus_client Histogram with cached label children, and `observe_many`."""

    def observe_many(self, amounts: Iterable[float]) -> None:
        """``observe(a)`` for each of ``amounts`` (a request's event latencies), with one
        increment per bucket touched and one of the sum, instead of two locked increments and
        a bucket scan per value (~1 µs per delivered event). Uses the child's own bucket values
        (``_upper_bounds``, ``_buckets``, ``_sum``, as ``observe`` does); a test compares the
        exposition with per-value ``observe`` calls, so a library change that moves them fails
        there, not in production."""
        self._raise_if_not_observable()
        bounds: list[float] = self._upper_bounds
        counts = [0] * len(bounds)
        total = 0.0
        for amount in amounts:
            total += amount
            counts[bisect_left(bounds, amount)] += 1  # the first bound >= amount; the last is +Inf
        self._sum.inc(total)
        buckets = self._buckets
        for i, n in enumerate(counts):
            if n:
                buckets[i].inc(n)


class Tally:
    """Counter increments gathered in a dict and applied in one go by ``flush()``.

    Why: the relay increments ~20 labelled counters per event (consumed, mapped, one per match
    key, outcomes, receipts); each ``inc()`` takes prometheus_client's lock. Gathering a
    consumed batch's increments and applying them once per (counter, labels) costs a dict
    update each instead. Callers flush before they next yield to the event loop, so a scrape
    never sees a batch half counted for longer than one synchronous step."""

    __slots__ = ("_counts", "_each")

    def __init__(self) -> None:
        self._counts: dict[tuple[Any, tuple[str, ...]], int] = {}
        self._each: dict[tuple[Any, str, tuple[str, ...]], int] = {}

    def add(self, counter: Any, *labels: str) -> None:
        """Count one increment of ``counter`` with these label values."""
        key = (counter, labels)
        self._counts[key] = self._counts.get(key, 0) + 1

    def add_each(self, counter: Any, label: str, values: tuple[str, ...]) -> None:
        """Count one increment of ``counter{label, v}`` for each ``v`` in ``values`` (an event's
        match keys): one dict update for the whole tuple, spread over its values at flush."""
        if values:
            key = (counter, label, values)
            self._each[key] = self._each.get(key, 0) + 1

    def flush(self) -> None:
        """Apply and forget the gathered increments."""
        if self._each:
            each, self._each = self._each, {}
            counts = self._counts
            for (counter, label, values), n in each.items():
                for value in values:
                    key = (counter, (label, value))
                    counts[key] = counts.get(key, 0) + n
        if self._counts:
            counts, self._counts = self._counts, {}
            for (counter, labels), n in counts.items():
                counter.labels(*labels).inc(n)


LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400)
RTT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

EVENTS_CONSUMED = Counter(
    "capi_events_consumed_total", "Messages consumed, by topic and event type", ["topic", "type"]
)
DECODE_ERRORS = Counter(
    "capi_decode_errors_total", "Messages that could not be decoded, by reason", ["reason"]
)
DELIVERIES = Counter(
    "capi_deliveries_total",
    "Terminal (event, platform) outcomes: delivered, rejected, exhausted, auth",
    ["platform", "outcome"],
)
DUPLICATES_ACKED = Counter(
    "capi_platform_duplicates_total",
    "Events the platform reported as already received (counted as delivered)",
    ["platform"],
)
DELIVERY_LATENCY = Histogram(
    "capi_delivery_latency_seconds",
    "Event time to acceptance by the platform",
    ["platform"],
    buckets=LATENCY_BUCKETS,
)
REQUEST_SECONDS = Histogram(
    "capi_request_seconds", "HTTP round trip per request", ["platform"], buckets=RTT_BUCKETS
)
RETRIES = Counter(
    "capi_retries_total",
    "Retry attempts scheduled, by platform and cause (retry, throttled)",
    ["platform", "cause"],
)
THROTTLES = Counter(
    "capi_throttles_total", "Throttling answers (429 or body-level rate limits)", ["platform"]
)
SPLITS = Counter(
    "capi_batch_splits_total", "Batches split and resent after a whole-batch rejection", ["platform"]
)
CIRCUIT_STATE = Gauge("capi_circuit_state", "Circuit breaker: 0 closed, 1 open, 2 half-open", ["platform"])
CIRCUIT_AUTH_OPEN = Gauge(
    "capi_circuit_auth_open", "1 while the platform's circuit is open because of AUTH failures", ["platform"]
)
DLQ_RECORDS = Counter(
    "capi_dlq_records_total", "Dead-letter records written", ["platform", "stage", "reason"]
)
IN_FLIGHT_EVENTS = Gauge("capi_in_flight_events", "Messages consumed and not yet finished")
IN_FLIGHT_BYTES = Gauge("capi_in_flight_bytes", "Bytes of messages consumed and not yet finished")
PAUSED_PARTITIONS = Gauge("capi_paused_partitions", "Partitions paused for backpressure")
ASSIGNED_PARTITIONS = Gauge("capi_assigned_partitions", "Partitions assigned to this instance")
CONSUMER_LAG = Gauge(
    "capi_consumer_lag", "Consumer lag per partition (librdkafka statistics)", ["topic", "partition"]
)
ENRICH_LOOKUPS = Counter(
    "capi_enrichment_lookups_total",
    "Click-ID store lookups by result (hit, miss, expired, error)",
    ["result"],
)
MAPPED_EVENTS = Counter(
    "capi_mapped_events_total",
    "Events mapped for a platform (denominator of match-key coverage)",
    ["platform"],
)
MATCH_KEYS = Counter(
    "capi_match_key_events_total",
    "Mapped events carrying a match key, by platform and key",
    ["platform", "key"],
)
DROPPED_IDENTIFIERS = Counter(
    "capi_dropped_identifiers_total", "Invalid identifiers left out of payloads", ["platform", "field"]
)
EXPIRED_EVENTS = Counter(
    "capi_events_outside_window_total", "Events older than the platform's window", ["platform"]
)
LEDGER_FALLBACKS = Counter(
    "capi_ledger_fallbacks_total",
    "Delivery-ledger outages during which events were sent without a check",
    ["op"],
)
LEDGER_SKIPS = Counter(
    "capi_ledger_skips_total",
    "(event, platform) pairs not sent because the delivery ledger says the platform accepted them",
    ["platform"],
)
RECEIPTS = Counter(
    "capi_receipts_total",
    "Receipts acknowledged by the broker, by platform and outcome",
    ["platform", "outcome"],
)
OUTPUT_WRITE_ERRORS = Counter(
    "capi_output_write_errors_total",
    "Failed writes to an output topic (dlq, receipts), each retried; by output and librdkafka error",
    ["output", "error"],
)
OUTPUT_STALLED = Gauge(
    "capi_output_stalled_seconds",
    "How long the oldest failing write to an output topic has been failing",
    ["output"],
)
BUILD_INFO = Gauge(
    "capi_build_info",
    "Always 1, labelled with the running relay's version; its absence means no relay is up",
    ["version", "python"],
)


def _version() -> str:
    try:
        return metadata.version("capi-relay")
    except metadata.PackageNotFoundError:
        return "unknown"


BUILD_INFO.labels(_version(), platform.python_version()).set(1)
RETRY_SCHEDULED = Counter(
    "capi_retry_scheduled_total",
    "Units parked on the retry topic for a later attempt, by platform and cause (exhausted: the"
    " in-process attempts or a hint longer than them; auth; hold: a paused platform)",
    ["platform", "cause"],
)
RETRY_REDELIVERED = Counter(
    "capi_retry_redelivered_total", "Retry-topic records taken for a new attempt when due", ["platform"]
)
RETRY_BACKLOG = Gauge(
    "capi_retry_backlog",
    "Units waiting on the retry topic: parked by this instance minus taken by it (sum over the"
    " consumer group's instances)",
    ["platform"],
)
RETRY_OLDEST_DUE = Gauge(
    "capi_retry_oldest_due_timestamp_seconds",
    "Earliest due time among the retry-topic partition heads this instance is waiting for",
    ["platform"],
)
RETRY_NEXT_DEADLINE = Gauge(
    "capi_retry_next_deadline_timestamp_seconds",
    "Earliest window end (after it: dead-lettered as expired) among the waiting heads",
    ["platform"],
)
RETRY_COPIES = Counter(
    "capi_retry_copies_skipped_total",
    "Units not sent because another copy of the same (event, platform) was in delivery (a crash"
    " between parking a unit and committing its source leaves two copies)",
    ["platform"],
)
