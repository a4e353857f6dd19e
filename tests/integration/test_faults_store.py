"""Acceptance: a click-ID store that fails mid-run is retried with its name in the message, and a
SIGTERM during that outage ends the wait — the relay drains what it can, commits what finished
and exits 0 within its drain deadline (it used to ignore the signal until the store came back)."""

from __future__ import annotations

from pathlib import Path

import pytest

from consumer.devtools.redis_local import RedisServer
from sandbox.testing import sandbox_process
from tests.integration.relay_harness import RelayProcess, Scenario, wait_until

pytestmark = pytest.mark.integration

DRAIN_DEADLINE_S = 8


def test_sigterm_during_a_store_outage_exits_0_within_the_drain_deadline(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    scenario = Scenario(kafka_bootstrap)
    scenario.create_topics()
    scenario.produce(4_000, seed=51)
    with RedisServer() as redis, sandbox_process() as sandbox:
        config = scenario.config(
            sandbox.base_url,
            ["meta"],
            store={"backend": "redis", "redis_url": redis.url},
            ledger={"enabled": False},
            receipts={"enabled": False},
            consumer={"drain_deadline_s": DRAIN_DEADLINE_S, "batch_size": 100},
            delivery={"max_in_flight_events": 200},
        )
        relay = RelayProcess(config, tmp_path)
        try:
            accepted = lambda: sandbox.stats().get("meta", {}).get("accepted_events", 0)  # noqa: E731
            assert wait_until(lambda: accepted() > 100, timeout=60, interval=0.2)
            redis.kill()
            assert wait_until(lambda: b"click_id_store_unavailable" in relay.log.read_bytes(), timeout=30)
            code, seconds = relay.terminate(timeout=DRAIN_DEADLINE_S + 30)
        finally:
            relay.stop_quietly()
    assert code == 0
    assert seconds < DRAIN_DEADLINE_S + 10
    log = relay.log.read_text()
    assert f"Redis click-ID store 127.0.0.1:{redis.port}" in log
    assert "Traceback" not in log
