"""A platform that says "wait" (Meta 341/368) or "access refused" (permission errors) is held, not
drained into the dead-letter topic: through the engine, against the sandbox and a real broker,
the events are delivered once the platform recovers."""

from __future__ import annotations

import asyncio

import pytest

from consumer.app import build_relay, run_relay
from consumer.config import load_settings
from consumer.delivery.credentials_api import StaticCredentials
from consumer.demo_settings import sandbox_credentials
from consumer.kafka.dlq import H_PLATFORM, H_STAGE
from sandbox.testing import SandboxHandle, running_sandbox
from tests.integration.relay_harness import Scenario, verify

pytestmark = [pytest.mark.integration, pytest.mark.slow]

META = ["meta"]


async def _relay_with_fault_window(
    scenario: Scenario, sandbox: SandboxHandle, fault_s: float, **overrides: object
) -> None:
    """Run the relay until every produced message finished; the sandbox's Meta fault is lifted
    after ``fault_s`` seconds."""
    settings = load_settings(
        **scenario.config(
            sandbox.base_url,
            META,
            delivery={
                "retry": {"max_attempts": 10, "base_delay_s": 0.2, "max_delay_s": 3, "budget_s": 300},
                "circuit": {"failure_threshold": 50, "cooldown_s": 1},
            },
            **overrides,
        )
    )
    tokens, extra = sandbox_credentials(META)
    relay = build_relay(settings, credentials=StaticCredentials(tokens, extra=extra))
    expected = len(scenario.produced)
    task = asyncio.create_task(
        run_relay(relay, stop_when=lambda e: e.stats.messages_finished >= expected, install_signals=False)
    )
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
