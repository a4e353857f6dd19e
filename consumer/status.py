"""``/status``: each platform's state and the consumer's, as one JSON document.

Every number is read from the object that already owns it, at request time — terminal
outcomes and dead-letter counts from `EngineStats`, circuit and queue sizes from the
dispatcher, last success/error from its `PlatformState`, pause state from the platform
control, lag from librdkafka's statistics (`BrokerHealth`), readiness from the same probe as
``/readyz`` — so ``/status``, ``/metrics`` and the end-of-run table cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from consumer.delivery.circuit import CircuitState
from consumer.delivery.dispatcher import PlatformDispatcher
from consumer.engine_stats import EngineStats
from consumer.observability import metrics
from consumer.observability.kafka_health import BrokerHealth
from consumer.observability.server import ReadinessProbe


class PauseView(Protocol):
    """Whether a platform is paused, and why (consumer.control.PlatformControl)."""

    def is_paused(self, slug: str) -> bool: ...

    def pause_reason(self, slug: str) -> str | None: ...


class EngineView(Protocol):
    """What the status needs from the engine."""

    stats: EngineStats
    assigned: Any
    in_flight: int


RetryBacklog = Callable[[str], int]
"""Units of a platform parked outside the process for a later retry (the retry topic)."""


def _no_backlog(_slug: str) -> int:
    return 0


def _backlog_gauge(slug: str) -> float:
    for family in metrics.RETRY_BACKLOG.collect():
        for sample in family.samples:
            if sample.labels.get("platform") == slug:
                return float(sample.value)
    return 0.0


def retry_backlog_metric(slug: str) -> int:
    """The platform's ``capi_retry_backlog`` (parked by this instance minus taken by it; read,
    not counted twice). Never below 0: after a restart an instance takes records an earlier
    one parked."""
    return max(0, int(_backlog_gauge(slug)))


def retry_backlog_since_now() -> RetryBacklog:
    """`retry_backlog_metric` counted from this moment: the gauge is per process, and a relay
    built after another in the same process (tests, the benchmark) must not show the first
    one's parked units as its own."""
    start = {
        sample.labels.get("platform", ""): float(sample.value)
        for family in metrics.RETRY_BACKLOG.collect()
        for sample in family.samples
    }

    def backlog(slug: str) -> int:
        return max(0, int(_backlog_gauge(slug) - start.get(slug, 0.0)))

    return backlog


def relay_status(
    engine: EngineView,
    dispatchers: Mapping[str, PlatformDispatcher],
    readiness: ReadinessProbe,
    broker: BrokerHealth | None = None,
    control: PauseView | None = None,
    disabled: tuple[str, ...] = (),
    retry_backlog: RetryBacklog = _no_backlog,
) -> dict[str, Any]:
    """The whole status document (see docs/operations.md for its fields)."""
    try:
        ready, reason = readiness.is_ready()
    except Exception as exc:  # same rule as /readyz: a broken probe reads as "not ready"
        ready, reason = False, f"readiness check failed: {type(exc).__name__}"
    platforms: dict[str, Any] = {}
    for slug, dispatcher in sorted(dispatchers.items()):
        platforms[slug] = _platform(slug, dispatcher, engine.stats, control, retry_backlog)
    for slug in disabled:
        platforms.setdefault(slug, {"enabled": False})
    lags = dict(broker.last_lags) if broker is not None else {}
    return {
        "ready": ready,
        "readiness": reason,
        "consumer": {
            "assigned_partitions": sorted(f"{t}[{p}]" for t, p in engine.assigned),
            "lag": {f"{t}[{p}]": n for (t, p), n in sorted(lags.items())},
            "total_lag": sum(lags.values()),
            "in_flight_messages": engine.in_flight,
        },
        "platforms": platforms,
    }


def _platform(
    slug: str,
    dispatcher: PlatformDispatcher,
    stats: EngineStats,
    control: PauseView | None,
    retry_backlog: RetryBacklog,
) -> dict[str, Any]:
    circuit = dispatcher.circuit
    outcomes = stats.outcomes.get(slug, {})
    paused = control.is_paused(slug) if control is not None else False
    return {
        "enabled": True,
        "paused": paused,
        "pause_reason": control.pause_reason(slug) if control is not None and paused else None,
        "circuit": CircuitState(circuit.state).name.lower(),
        "circuit_reason": circuit.reason or None,
        "in_flight": dispatcher.in_flight,
        "waiting_retry": dispatcher.waiting_retry + retry_backlog(slug),
        **dispatcher.state.as_dict(),
        "since_start": {
            "delivered": outcomes.get("delivered", 0),
            "rejected": outcomes.get("rejected", 0),
            "exhausted": outcomes.get("exhausted", 0),
            "auth": outcomes.get("auth", 0),
            "dead_lettered": stats.dlq.get(slug, 0),
        },
    }


def status_table(doc: Mapping[str, Any]) -> str:
    """The human form of the status document (what `capi-relay status` prints)."""
    consumer = doc.get("consumer", {})
    head = (
        f"ready: {'yes' if doc.get('ready') else 'no'} ({doc.get('readiness', '')})\n"
        f"partitions: {len(consumer.get('assigned_partitions', []))}  lag: {consumer.get('total_lag', 0)}"
        f"  in flight: {consumer.get('in_flight_messages', 0)}"
    )
    rows = [
        (
            "platform",
            "state",
            "circuit",
            "in flight",
            "retry",
            "delivered",
            "dlq",
            "last success",
            "last error",
        )
    ]
    for slug, p in doc.get("platforms", {}).items():
        if not p.get("enabled", True):
            rows.append((slug, "disabled", "", "", "", "", "", "", ""))
            continue
        error = p.get("last_error") or {}
        since = p.get("since_start", {})
        rows.append(
            (
                slug,
                "paused" if p.get("paused") else "active",
                str(p.get("circuit", "")),
                str(p.get("in_flight", 0)),
                str(p.get("waiting_retry", 0)),
                str(since.get("delivered", 0)),
                str(since.get("dead_lettered", 0)),
                str(p.get("last_success") or "-"),
                f"{error.get('code') or error.get('kind')}: {error.get('reason')}" if error else "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return head + "\n\n" + "\n".join(lines)
