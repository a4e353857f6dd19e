"""Gauges read from live objects at scrape time rather than pushed on every change.

The circuit breakers change state deep inside the dispatchers; instead of threading metric
updates through them, the observability server calls `refresh_circuit_gauges` just before it
renders ``/metrics``, so ``capi_circuit_state`` and ``capi_circuit_auth_open`` are always
current when Prometheus looks (and the alerts on them can fire while the relay runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from consumer.observability import metrics


def refresh_circuit_gauges(dispatchers: Mapping[str, Any]) -> None:
    """Set the circuit gauges of every platform from ``dispatcher.circuit`` (state, reason)."""
    for slug, dispatcher in dispatchers.items():
        circuit = getattr(dispatcher, "circuit", None)
        if circuit is None:
            continue
        state = int(circuit.state)
        metrics.CIRCUIT_STATE.labels(slug).set(state)
        auth_open = state != 0 and getattr(circuit, "reason", "") == "auth"
        metrics.CIRCUIT_AUTH_OPEN.labels(slug).set(1 if auth_open else 0)
