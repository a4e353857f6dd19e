"""Engine acceptance against the real broker and the sandbox: kill -9, poison, shutdown,
rebalance and stall — every (event, platform) pair ends delivered or dead-lettered, never lost."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest

from consumer.app import build_relay, run_relay
from consumer.config import load_settings
from consumer.delivery.credentials_api import StaticCredentials
from consumer.demo_settings import sandbox_credentials
from sandbox.testing import running_sandbox, sandbox_process
from tests.integration.relay_harness import RelayProcess, Scenario, verify, wait_until

pytestmark = pytest.mark.integration

TWO = ["meta", "google"]


def _fast_retry() -> dict:
    return {
        "delivery": {
            "retry": {"max_attempts": 10, "base_delay_s": 0.2, "max_delay_s": 3, "budget_s": 120},
            "circuit": {"failure_threshold": 50, "cooldown_s": 1},
        }
    }


@pytest.mark.slow
def test_kill_minus_nine_loses_nothing(kafka_bootstrap: str, tmp_path: Path) -> None:
    """20,000 events to two platforms through a faulty sandbox; SIGKILL three times; 0 missing."""
    scenario = Scenario(kafka_bootstrap)
    scenario.create_topics()
    scenario.produce(20_000, seed=21)
    faults = tmp_path / "faults.yaml"
    # ~10% 5xx, ~2% permanent rejections and random latency on both; bursts of 429 with
    # Retry-After on Google (Meta throttles with a body code and a minutes-long block instead).
    faults.write_text(
        "faults:\n"
        "  '*': {error_5xx_rate: 0.1, reject_event_rate: 0.02, latency_ms: 5, latency_jitter_ms: 40}\n"
        "  google: {throttle_rate: 0.05, retry_after_s: 1}\n"
    )
    rng = random.Random(5)
    with sandbox_process(faults_path=str(faults), seed=3) as sandbox:
        config = scenario.config(sandbox.base_url, TWO, **_fast_retry())
        for round_no in range(3):
            relay = RelayProcess(config, tmp_path, f"relay{round_no}")
            time.sleep(rng.uniform(4.0, 9.0))
            relay.kill()
        final = RelayProcess(config, tmp_path, "final")
        try:
            assert wait_until(scenario.fully_committed, timeout=600, interval=2), "relay did not finish"
            code, _ = final.terminate()
            assert code == 0
        finally:
            final.stop_quietly()
        verdict = verify(scenario, TWO, {slug: sandbox.events(slug) for slug in TWO})
    print(
        f"\nkill test: accepted={verdict.accepted} dead-lettered={verdict.dead_lettered} "
        f"duplicates={verdict.duplicates} reasons={dict(verdict.reasons.most_common(5))}"
    )
    assert verdict.missing == []
    assert sum(verdict.dead_lettered.values()) > 0  # the 2% permanent rejections are there


async def _run_in_process(
    scenario: Scenario, sandbox_url: str, platforms: list[str], expected: int, **overrides
):
    settings = load_settings(**scenario.config(sandbox_url, platforms, **overrides))
    tokens, extra = sandbox_credentials(platforms)
    relay = build_relay(settings, credentials=StaticCredentials(tokens, extra=extra))
    await asyncio.wait_for(
        run_relay(relay, stop_when=lambda e: e.stats.messages_finished >= expected, install_signals=False),
        timeout=300,
    )
    return relay


async def test_poison_messages_are_dead_lettered_and_the_line_moves(kafka_bootstrap: str) -> None:
    scenario = Scenario(kafka_bootstrap)
    scenario.create_topics()
    scenario.produce(2_000, poison_every=20, seed=22)
    assert scenario.poison == 100
    async with running_sandbox() as sandbox:
        await _run_in_process(scenario, sandbox.base_url, ["meta"], 2_100)
        verdict = verify(scenario, ["meta"], {"meta": sandbox.state.events("meta")})
    assert verdict.decode_records == 100
    assert verdict.missing == []
    assert verdict.accepted["meta"] + verdict.dead_lettered["meta"] == 2_000
    assert scenario.fully_committed()


def test_sigterm_drains_exits_zero_and_restart_finishes(kafka_bootstrap: str, tmp_path: Path) -> None:
    scenario = Scenario(kafka_bootstrap)
    scenario.create_topics()
    scenario.produce(8_000, seed=23)
    with sandbox_process(seed=4) as sandbox:
        sandbox.set_faults("*", latency_ms=20)
        config = scenario.config(sandbox.base_url, TWO, consumer={"drain_deadline_s": 10})
        relay = RelayProcess(config, tmp_path, "first")
        try:
            assert wait_until(
                lambda: sum(s.get("accepted_events", 0) for s in sandbox.stats().values()) > 500, 120
            )
            code, seconds = relay.terminate(timeout=60)
        finally:
            relay.stop_quietly()
        assert code == 0
        assert seconds < 10 + 10  # drain deadline plus close
        # the first relay may legitimately have finished everything; the second one then gets
        # SIGTERM while still starting up, and must exit 0 all the same (regression: it died -15)
        second = RelayProcess(config, tmp_path, "second")
        try:
            assert wait_until(scenario.fully_committed, timeout=300, interval=1)
            assert second.terminate()[0] == 0
        finally:
            second.stop_quietly()
        verdict = verify(scenario, TWO, {slug: sandbox.events(slug) for slug in TWO})
    assert verdict.missing == []


def test_sigterm_during_startup_exits_zero(kafka_bootstrap: str, tmp_path: Path) -> None:
    """Kubernetes may stop a pod that is still starting: SIGTERM before the engine runs is a
    clean stop (exit 0), not death by signal (-15), and nothing is committed past what was done."""
    scenario = Scenario(kafka_bootstrap)
    scenario.create_topics()
    scenario.produce(200, seed=29)
    with sandbox_process(seed=6) as sandbox:
        relay = RelayProcess(scenario.config(sandbox.base_url, TWO), tmp_path, "early")
        try:
            assert relay.wait_started()
            code, seconds = relay.terminate(timeout=60)
        finally:
            relay.stop_quietly()
        assert code == 0, relay.log.read_text(errors="replace")[-2000:]
        assert seconds < 30
        second = RelayProcess(scenario.config(sandbox.base_url, TWO), tmp_path, "after")
        try:
            assert wait_until(scenario.fully_committed, timeout=120, interval=0.5)
            assert second.terminate()[0] == 0
        finally:
            second.stop_quietly()
        verdict = verify(scenario, TWO, {slug: sandbox.events(slug) for slug in TWO})
    assert verdict.missing == []


@pytest.mark.slow
def test_rebalance_second_instance_joins_and_leaves(kafka_bootstrap: str, tmp_path: Path) -> None:
    scenario = Scenario(kafka_bootstrap, partitions=6)
    scenario.create_topics()
    scenario.produce(12_000, seed=24)
    with sandbox_process(seed=5) as sandbox:
        sandbox.set_faults("*", latency_ms=30)
        config = scenario.config(sandbox.base_url, TWO)
        first = RelayProcess(config, tmp_path, "first")
        second = None
        try:
            assert wait_until(lambda: sandbox.stats()["meta"].get("accepted_events", 0) > 1000, 120)
            second = RelayProcess(config, tmp_path, "second")
            time.sleep(8)
            assert second.terminate(timeout=60)[0] == 0
            assert wait_until(scenario.fully_committed, timeout=300, interval=1)
            assert first.terminate()[0] == 0
        finally:
            first.stop_quietly()
            if second is not None:
                second.stop_quietly()
        verdict = verify(scenario, TWO, {slug: sandbox.events(slug) for slug in TWO})
    print(f"\nrebalance test: duplicates={verdict.duplicates}")
    assert verdict.missing == []


@pytest.mark.slow
async def test_stalled_platform_pauses_within_bounds_and_others_flow(kafka_bootstrap: str) -> None:
    """Google stops answering for 30 s: in-flight stays under the bound, Meta keeps receiving,
    partitions pause and resume, and in the end nothing is lost."""
    scenario = Scenario(kafka_bootstrap)
    scenario.create_topics()
    scenario.produce(6_000, seed=25)
    bound = 600
    async with running_sandbox() as sandbox:
        sandbox.set_faults("google", timeout_rate=1.0, timeout_hold_s=60)
        settings = load_settings(
            **scenario.config(
                sandbox.base_url,
                TWO,
                delivery={
                    "max_in_flight_events": bound,
                    "retry": {"budget_s": 300, "base_delay_s": 0.2, "max_delay_s": 2},
                    "circuit": {"failure_threshold": 3, "cooldown_s": 1},
                },
                platforms={"google": {"timeout_s": 1.0}, "meta": {"timeout_s": 5.0}},
            )
        )
        tokens, extra = sandbox_credentials(TWO)
        relay = build_relay(settings, credentials=StaticCredentials(tokens, extra=extra))
        task = asyncio.create_task(
            run_relay(relay, stop_when=lambda e: e.stats.messages_finished >= 6_000, install_signals=False)
        )
        await asyncio.sleep(10)
        meta_mid = sandbox.state.stats()["meta"]["accepted_events"]
        google_mid = sandbox.state.stats()["google"]["accepted_events"]
        await asyncio.sleep(20)
        meta_late = sandbox.state.stats()["meta"]["accepted_events"]
        assert relay.engine.stats.pauses >= 1
        assert relay.engine.stats.max_in_flight <= bound + settings.consumer.batch_size
        sandbox.set_faults("google", timeout_rate=0.0)
        await asyncio.wait_for(task, timeout=300)
        verdict = verify(scenario, TWO, {slug: sandbox.state.events(slug) for slug in TWO})
    assert google_mid == 0
    assert meta_mid > 0 and meta_late >= meta_mid
    assert verdict.missing == []
