"""A platform that says "wait" (Meta 341/368) or "access refused" (permission errors) is held, not
drained into the dead-letter topic: through the engine, against the sandbox and a real broker,
the events are delivered once the platform recovers."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from consumer.app import build_relay, run_relay
from consumer.config import load_settings
from consumer.delivery.credentials_api import StaticCredentials
from consumer.demo_settings import sandbox_credentials
from consumer.engine import Engine
from consumer.kafka.dlq import H_OUTCOME, H_PLATFORM, H_STAGE
from sandbox.testing import SandboxHandle, running_sandbox
from tests.integration.relay_harness import Scenario, verify

pytestmark = [pytest.mark.integration, pytest.mark.slow]

META = ["meta"]


async def _relay_with_fault_window(
    scenario: Scenario,
    sandbox: SandboxHandle,
    fault_s: float,
    until_all_accepted: bool = False,
    **overrides: object,
) -> None:
    """Run the relay until every produced message finished (and, with ``until_all_accepted``,
    until Meta accepted every event: units parked on the retry topic finish their message first
    and are delivered later); the sandbox's Meta fault is lifted after ``fault_s`` seconds."""
    settings = load_settings(
        **scenario.config(
            sandbox.base_url,
            META,
            delivery={
                "retry": {"max_attempts": 10, "base_delay_s": 0.2, "max_delay_s": 3, "budget_s": 300},
                "circuit": {"failure_threshold": 50, "cooldown_s": 1},
                "delayed_retry": {"delays_s": [1, 2], "max_wait_s": 2},  # scaled down by configuration
            },
            **overrides,
        )
    )
    tokens, extra = sandbox_credentials(META)
    relay = build_relay(settings, credentials=StaticCredentials(tokens, extra=extra))
    expected = len(scenario.produced)

    def done(engine: Engine) -> bool:
        finished = engine.stats.messages_finished >= expected
        return finished and (not until_all_accepted or len(sandbox.state.events("meta")) >= expected)

    task = asyncio.create_task(run_relay(relay, stop_when=done, install_signals=False))
    await asyncio.sleep(fault_s)
    sandbox.set_faults("meta", body_error_rate=0.0)
    await asyncio.wait_for(task, timeout=300)


@pytest.mark.parametrize("code", [341, 368])
async def test_meta_temporary_block_is_waited_out_not_dead_lettered(kafka_bootstrap: str, code: int) -> None:
    """Meta answers 341 (application limit) or 368 (temporarily blocked) for a while, then
    recovers: every event is delivered and no event reaches the dead-letter topic from delivery."""
    scenario = Scenario(kafka_bootstrap, partitions=1)
    scenario.create_topics()
    scenario.produce(60, seed=31)
    faults = {"meta": {"body_error_rate": 1.0, "body_error_codes": [code]}}
    async with running_sandbox(faults=faults) as sandbox:
        await _relay_with_fault_window(scenario, sandbox, 3.0)
        verdict = verify(scenario, META, {"meta": sandbox.state.events("meta")})
        assert sandbox.state.stats()["meta"]["fault_counts"].get("body_error", 0) >= 1
    delivery_letters = [
        r for r in scenario.dlq_records() if r.get(H_PLATFORM) == "meta" and r.get(H_STAGE) == "deliver"
    ]
    assert delivery_letters == []
    assert verdict.missing == []
    assert verdict.accepted["meta"] + verdict.dead_lettered["meta"] == len(scenario.produced)
    assert verdict.accepted["meta"] > 0


async def test_meta_permission_error_holds_the_platform_then_delivers(kafka_bootstrap: str) -> None:
    """Meta answers code 200 (permission not granted) for a while: the platform is held behind
    its auth circuit with one error line, only the probing batches are dead-lettered (outcome
    auth), and everything else is delivered once access is back — not the whole stream in the DLQ."""
    scenario = Scenario(kafka_bootstrap, partitions=1)
    scenario.create_topics()
    scenario.produce(200, seed=32)
    faults = {"meta": {"body_error_rate": 1.0, "body_error_codes": [200]}}
    async with running_sandbox(faults=faults) as sandbox:
        with capture_logs() as logs:
            await _relay_with_fault_window(
                scenario,
                sandbox,
                4.0,
                until_all_accepted=True,
                platforms={"meta": {"max_batch_events": 10, "max_connections": 1}},
            )
        verdict = verify(scenario, META, {"meta": sandbox.state.events("meta")})
    letters = [
        r for r in scenario.dlq_records() if r.get(H_PLATFORM) == "meta" and r.get(H_STAGE) == "deliver"
    ]
    refused = [e for e in logs if e["event"] == "platform_access_refused"]
    assert refused and refused[0]["log_level"] == "error" and refused[0]["code"] == "200"
    assert len(refused) <= 3  # one line per hold, not one per event
    assert {r.get(H_OUTCOME) for r in letters} <= {"auth"}
    assert len(letters) <= 30  # one connection: the batch in flight and the probes, 10 each
    assert verdict.missing == []
    assert verdict.accepted["meta"] >= len(scenario.produced) - len(letters) - verdict.dead_lettered["meta"]
    assert verdict.accepted["meta"] > len(scenario.produced) // 2
