"""Readiness says what is wrong (store, registry, output topic, broker), forgets an assignment the
group took away, and liveness fails when assigned partitions have lag and nothing finishes."""

from __future__ import annotations

import io
import json
from typing import Any

from consumer.observability.faults import FAULTS, FaultBoard
from consumer.observability.kafka_health import BrokerHealth, EngineReadiness
from consumer.observability.liveness import WedgeDetector
from consumer.observability.logging import configure_logging


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeEngine:
    def __init__(self) -> None:
        self.ready = True
        self.assigned: set[Any] = {("t", 0)}


class StalledWriter:
    topic = "capi.dlq"
    stalled_s = 42.0


class FakeError:
    def __init__(self, name: str) -> None:
        self._name = name

    def name(self) -> str:
        return self._name

    def str(self) -> str:
        return f"{self._name}: details"


def test_fault_board_lists_open_faults_oldest_first() -> None:
    clock = Clock()
    board = FaultBoard(clock)
    board.report("click-ID store", "unable to open database file")
    clock.now += 5
    board.report("schema registry", "connection refused")
    board.report("click-ID store", "still down")  # keeps its first time
    clock.now += 7
    assert board.current() == [
        "click-ID store unavailable for 12s: still down",
        "schema registry unavailable for 7s: connection refused",
    ]
    board.clear("click-ID store")
    assert board.current() == ["schema registry unavailable for 7s: connection refused"]


def test_readiness_names_the_store_and_the_output_before_blaming_the_broker() -> None:
    broker = BrokerHealth()  # no statistics: the waiting engine serves none
    probe = EngineReadiness(FakeEngine(), broker, outputs=[StalledWriter()])
    FAULTS.report("click-ID store", "SQLite click-ID store /data/x.db: disk I/O error")
    try:
        ok, reason = probe.is_ready()
    finally:
        FAULTS.clear("click-ID store")
    assert not ok
    assert "click-ID store unavailable" in reason and "/data/x.db" in reason
    assert "output topic capi.dlq unwritable for 42s" in reason
    assert "broker" not in reason
    assert probe.is_ready() == (False, "output topic capi.dlq unwritable for 42s (intake paused)")


def test_consume_errors_are_logged_and_rate_limited() -> None:
    out = io.StringIO()
    configure_logging("json", stream=out)
    health = BrokerHealth()
    for _ in range(50):
        health.on_error(FakeError("_SSL"))
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    errors = [line for line in lines if line["event"] == "consume_error"]
    assert 1 <= len(errors) <= 5 and errors[0]["error"] == "_SSL"


def test_wedge_detector_fails_only_with_lag_and_no_progress() -> None:
    clock = Clock()
    state = {"done": 0, "lag": 0}
    wedge = WedgeDetector(lambda: state["done"], lambda: state["lag"], after_s=60, clock=clock)
    clock.now += 600
    assert wedge.check() == (True, "ok")  # idle without lag is fine
    state["lag"] = 100
    clock.now += 30
    assert wedge.check()[0]
    state["done"] = 5  # progress resets the clock
    clock.now += 59
    assert wedge.check()[0]
    clock.now += 61
    alive, reason = wedge.check()
    assert not alive and reason.startswith("wedged: no message finished for 61s with lag 100")
    assert WedgeDetector(lambda: 0, lambda: 9, after_s=0, clock=clock).check()[0]  # 0 = off
