"""librdkafka statistics become lag gauges and a broker-reachability signal for /readyz.

Why: KEDA scales on the group's lag and operators alert on it; readiness must fail when the
broker has been unreachable, and must not be fooled by one old success.
"""

from __future__ import annotations

import json
from typing import Any

from prometheus_client import REGISTRY

from consumer.observability.kafka_health import BrokerHealth, EngineReadiness, lag_from_statistics
from consumer.observability.logging import lag_from_statistics as exported


def stats(lags: dict[str, int], broker_state: str = "UP", join_state: str = "steady") -> str:
    """A trimmed librdkafka statistics document."""
    return json.dumps(
        {
            "name": "rdkafka#consumer-1",
            "type": "consumer",
            "brokers": {
                "127.0.0.1:9092/1": {"name": "127.0.0.1:9092/1", "nodeid": 1, "state": broker_state},
                "GroupCoordinator": {"name": "GroupCoordinator", "nodeid": -1, "state": broker_state},
            },
            "topics": {
                "lagtest.purchase": {
                    "topic": "lagtest.purchase",
                    "partitions": {
                        **{pid: {"partition": int(pid), "consumer_lag": lag} for pid, lag in lags.items()},
                        "-1": {"partition": -1, "consumer_lag": -1},
                    },
                }
            },
            "cgrp": {"state": "up", "join_state": join_state},
        }
    )


def lag(partition: str) -> float | None:
    """The exported gauge value, or None when absent."""
    return REGISTRY.get_sample_value(
        "capi_consumer_lag", {"topic": "lagtest.purchase", "partition": partition}
    )


def test_lag_gauges_follow_statistics() -> None:
    """Known lags are set; unknown (-1) lags remove the gauge; garbage is ignored."""
    assert exported is lag_from_statistics
    assert lag_from_statistics(stats({"0": 5, "1": 0})) == {
        ("lagtest.purchase", "0"): 5,
        ("lagtest.purchase", "1"): 0,
    }
    assert (lag("0"), lag("1"), lag("-1")) == (5, 0, None)
    lag_from_statistics(stats({"0": 7, "1": -1}))
    assert (lag("0"), lag("1")) == (7, None)
    assert lag_from_statistics("not json") == {}
    assert lag_from_statistics(json.dumps({"topics": {"t": {"partitions": "x"}}})) == {}


class Clock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeError:
    """The part of confluent_kafka.KafkaError the callback reads."""

    def __init__(self, name: str) -> None:
        self._name = name

    def name(self) -> str:
        return self._name


def test_broker_health_tracks_contact_and_outages() -> None:
    """UP brokers in statistics refresh contact; silence and all-brokers-down end it."""
    clock = Clock()
    health = BrokerHealth(clock)
    assert health.reachable(30) == (False, "no broker contact reported yet")
    health.on_statistics(stats({"0": 1}, broker_state="INIT"))
    assert not health.reachable(30)[0]
    health.on_statistics(stats({"0": 1}))
    assert health.reachable(30) == (True, "broker reachable") and health.group_state == "steady"
    clock.now += 31
    ok, reason = health.reachable(30)
    assert not ok and "no broker contact for 31s" in reason
    health.on_statistics(stats({"0": 1}))
    health.on_error(FakeError("_TRANSPORT"))
    assert health.reachable(30)[0]
    health.on_error(FakeError("_ALL_BROKERS_DOWN"))
    assert health.reachable(30) == (False, "broker unreachable: all brokers down")


class FakeEngine:
    """Engine attributes readiness reads."""

    def __init__(self) -> None:
        self.ready = False
        self.assigned: set[Any] = set()


def test_engine_readiness_needs_assignment_and_broker() -> None:
    """Not ready before the group is joined, nor when the broker went quiet."""
    engine, clock = FakeEngine(), Clock()
    broker = BrokerHealth(clock)
    probe = EngineReadiness(engine, broker, max_silence_s=30)
    assert probe.is_ready() == (False, "no partitions assigned yet (consumer group not joined)")
    engine.ready, engine.assigned = True, {("t", 0), ("t", 1)}
    assert probe.is_ready()[0] is False  # no broker contact yet
    broker.mark_up()
    assert probe.is_ready() == (True, "2 partition(s) assigned")
    assert EngineReadiness(engine).is_ready()[0]  # without statistics, assignment alone counts
