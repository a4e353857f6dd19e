"""Acceptance: the kill -9 scenario of the engine issue, run twice — ledger off, then on — and the
duplicates the sandbox received compared. Without the ledger, everything accepted after the last
commit is sent again on restart; with it, only the crash window between the platform's answer
and the ledger write (~100 ms of buffered writes) can repeat."""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from sandbox.testing import sandbox_process
from tests.integration.relay_harness import RelayProcess, Scenario, verify, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TWO = ["meta", "google"]
EVENTS = 8_000
KILLS = 3


def _kill_run(bootstrap: str, tmp_path: Path, name: str, ledger: dict[str, Any]) -> tuple[int, int, int]:
    """Produce, run the relay with KILLS SIGKILLs, let a final one finish; (duplicates, missing)."""
    scenario = Scenario(bootstrap)
    scenario.create_topics()
    scenario.produce(EVENTS, seed=31)
    faults = tmp_path / f"{name}-faults.yaml"
    faults.write_text(
        "faults:\n"
        "  '*': {error_5xx_rate: 0.1, reject_event_rate: 0.02, latency_ms: 5, latency_jitter_ms: 40}\n"
        "  google: {throttle_rate: 0.05, retry_after_s: 1}\n"
    )
    rng = random.Random(7)
    with sandbox_process(faults_path=str(faults), seed=3) as sandbox:
        config = scenario.config(
            sandbox.base_url,
            TWO,
            ledger=ledger,
            platforms={slug: {"max_batch_events": 100} for slug in TWO},
            topics={"receipts": f"{scenario.prefix}.receipts"},
            delivery={
                "retry": {"max_attempts": 10, "base_delay_s": 0.2, "max_delay_s": 3, "budget_s": 120},
                "circuit": {"failure_threshold": 50, "cooldown_s": 1},
            },
        )
        for round_no in range(KILLS):
            relay = RelayProcess(config, tmp_path, f"{name}{round_no}")
            before = _accepted(sandbox)
            # kill while it is delivering, not while it is still starting up
            wait_until(lambda b=before: _accepted(sandbox) > b + 500, timeout=60, interval=0.2)
            time.sleep(rng.uniform(0.5, 2.0))
            relay.kill()
        final = RelayProcess(config, tmp_path, f"{name}-final")
        try:
            assert wait_until(scenario.fully_committed, timeout=600, interval=2), "relay did not finish"
            assert final.terminate()[0] == 0
        finally:
            final.stop_quietly()
        verdict = verify(scenario, TWO, {slug: sandbox.events(slug) for slug in TWO})
    stages = Counter(r["stage"] for r in _receipts(bootstrap, f"{scenario.prefix}.receipts"))
    print(f"\n{name}: duplicates={verdict.duplicates} receipts by stage={dict(stages)}")
    return verdict.duplicates, len(verdict.missing), stages["ledger"]


def _accepted(sandbox: Any) -> int:
    return sum(s.get("accepted_events", 0) for s in sandbox.stats().values())


def _receipts(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    from tests.integration.test_receipts_trace import read_all

    return [r for _, _, r in read_all(bootstrap, topic)]


def test_ledger_cuts_duplicates_after_kill_minus_nine(kafka_bootstrap: str, tmp_path: Path) -> None:
    without, missing_without, _ = _kill_run(kafka_bootstrap, tmp_path, "plain", {"enabled": False})
    ledger = {"backend": "sqlite", "sqlite_path": str(tmp_path / "ledger.db")}
    with_ledger, missing_with, skips = _kill_run(kafka_bootstrap, tmp_path, "ledger", ledger)
    print(f"\nkill test duplicates: without ledger={without}, with ledger={with_ledger}")
    assert missing_without == 0 and missing_with == 0
    assert skips > 0, "redelivered events already accepted must be skipped by the ledger"
    assert with_ledger <= without // 4  # what is left: requests in flight at the kill + write buffer
