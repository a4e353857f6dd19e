"""What librdkafka tells us about the broker, turned into metrics and a readiness signal.

librdkafka emits a statistics JSON document every ``statistics.interval.ms`` through the
``stats_cb`` callback and reports fatal-ish conditions (all brokers down) through ``error_cb``.
Both callbacks run on the thread that polls the consumer (the event loop thread here), so the
state below needs no locks. From the statistics we publish ``capi_consumer_lag`` per partition
and remember when a broker was last seen UP; `EngineReadiness` combines that with the engine's
assignment state for ``/readyz``.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import structlog

from consumer.kafka.acked_producer import STALL_PAUSE_S
from consumer.observability import metrics
from consumer.observability.faults import FAULTS
from consumer.observability.kafka_log import RateLimit

log = structlog.get_logger("capi_relay.kafka")

ALL_BROKERS_DOWN = "_ALL_BROKERS_DOWN"
"""librdkafka's error name when no broker connection is up."""


def lag_from_statistics(json_str: str) -> dict[tuple[str, str], int]:
    """Set ``capi_consumer_lag{topic,partition}`` from one librdkafka statistics document.

    Pass it as ``stats_cb`` (with ``statistics.interval.ms``). Partitions whose lag is unknown
    (``-1``: not assigned to us, or no committed/fetch position yet) lose their gauge so a
    revoked partition does not keep reporting stale lag; librdkafka's internal partition
    ``-1`` is skipped. Returns the lags that were set (for tests and callers).
    """
    try:
        stats = json.loads(json_str)
    except (TypeError, ValueError):
        return {}
    published: dict[tuple[str, str], int] = {}
    topics = stats.get("topics") if isinstance(stats, dict) else None
    if not isinstance(topics, dict):
        return published
    for topic, tstats in topics.items():
        partitions = tstats.get("partitions") if isinstance(tstats, dict) else None
        if not isinstance(partitions, dict):
            continue
        for pid, pstats in partitions.items():
            if str(pid) == "-1" or not isinstance(pstats, dict):
                continue
            lag = pstats.get("consumer_lag")
            if isinstance(lag, int) and lag >= 0:
                metrics.CONSUMER_LAG.labels(topic, str(pid)).set(lag)
                published[(topic, str(pid))] = lag
            else:
                with contextlib.suppress(KeyError):
                    metrics.CONSUMER_LAG.remove(topic, str(pid))
    return published


_CONSUME_ERRORS = RateLimit()


def log_consume_error(error: Any) -> str:
    """Log a consumer error (``error_cb``, or a message carrying one) as ``consume_error``, at
    most a few per error name every 30 s; returns librdkafka's error name."""
    name = error.name() if hasattr(error, "name") else str(error)
    if _CONSUME_ERRORS.allow(name):
        suppressed = _CONSUME_ERRORS.take_suppressed(name)
        text = error.str() if hasattr(error, "str") else str(error)
        log.warning("consume_error", error=name, detail=text, suppressed_since_last=suppressed)
    return name


class BrokerHealth:
    """Remembers when librdkafka last reported a broker connection UP.

    Wire ``stats_cb=health.on_statistics`` and ``error_cb=health.on_error`` into the consumer
    config (plus ``statistics.interval.ms``); ``on_statistics`` also publishes consumer lag, so
    one callback serves both purposes.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.last_up: float | None = None
        self.last_down_reason: str | None = None
        self.group_state: str | None = None
        self.statistics_seen = 0
        self.last_lags: dict[tuple[str, str], int] = {}

    def on_statistics(self, json_str: str) -> None:
        """``stats_cb``: publish lag and note whether any broker connection is UP."""
        self.statistics_seen += 1
        self.last_lags = lag_from_statistics(json_str)
        try:
            stats = json.loads(json_str)
        except (TypeError, ValueError):
            return
        if not isinstance(stats, dict):
            return
        brokers = stats.get("brokers")
        if isinstance(brokers, dict) and any(
            isinstance(b, dict) and b.get("state") == "UP" for b in brokers.values()
        ):
            self.mark_up()
        cgrp = stats.get("cgrp")
        if isinstance(cgrp, dict):
            self.group_state = str(cgrp.get("join_state") or cgrp.get("state") or "") or None

    def on_error(self, error: Any) -> None:
        """``error_cb``: logged as ``consume_error`` (at most a few per error name every 30 s);
        an all-brokers-down error makes the broker unreachable right away."""
        name = log_consume_error(error)
        if name == ALL_BROKERS_DOWN:
            self.last_up = None
            self.last_down_reason = "all brokers down"

    def mark_up(self) -> None:
        """Record a successful broker contact now."""
        self.last_up = self._clock()
        self.last_down_reason = None

    def reachable(self, max_silence_s: float) -> tuple[bool, str]:
        """Whether a broker was UP within ``max_silence_s``, with the reason when not."""
        if self.last_up is None:
            if self.last_down_reason:
                return False, f"broker unreachable: {self.last_down_reason}"
            return False, "no broker contact reported yet"
        age = self._clock() - self.last_up
        if age > max_silence_s:
            return False, f"no broker contact for {age:.0f}s"
        return True, "broker reachable"


class EngineView(Protocol):
    """The two engine attributes readiness needs (consumer.engine.Engine has them)."""

    ready: bool
    assigned: Any


class EngineReadiness:
    """The relay's `ReadinessProbe`: assigned (or group stable) and broker reachable recently.

    Without a `BrokerHealth` (statistics not wired), only the assignment state counts.
    """

    def __init__(
        self,
        engine: EngineView,
        broker: BrokerHealth | None = None,
        max_silence_s: float = 30.0,
        outputs: Sequence[Any] = (),
    ) -> None:
        self._engine = engine
        self._broker = broker
        self._max_silence_s = max_silence_s
        self._outputs = outputs  # acknowledged writers (topic, stalled_s): DLQ, receipts

    def is_ready(self) -> tuple[bool, str]:
        """(ready, reason) for ``/readyz``: every problem found, most fundamental first."""
        if not (self._engine.ready or len(self._engine.assigned) > 0):
            return False, "no partitions assigned yet (consumer group not joined)"
        problems = list(FAULTS.current())  # store, registry: the engine waits on them
        for writer in self._outputs:
            if writer.stalled_s >= STALL_PAUSE_S:
                stalled = f"{writer.stalled_s:.0f}s"
                problems.append(f"output topic {writer.topic} unwritable for {stalled} (intake paused)")
        if self._broker is not None and not problems:  # a waiting engine serves no statistics
            ok, reason = self._broker.reachable(self._max_silence_s)
            if not ok:
                problems.append(reason)
        if problems:
            return False, "; ".join(problems)
        return True, f"{len(self._engine.assigned)} partition(s) assigned"
