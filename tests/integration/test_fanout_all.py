"""One stream of sample events, through the real broker and the engine, to all eight platforms.

Why: each connector is tested alone against golden cases, and each sandbox stand-in alone
against hand-made payloads, both written from the platforms' documentation by different
people. Here they meet: every (event, platform) pair must end accepted by that platform's
sandbox or refused by the connector before sending (and dead-lettered) — nothing missing — and
the sandboxes must refuse nothing the connectors chose to send.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from connectors.registry import CONNECTORS
from consumer.app import build_relay, run_relay
from consumer.config import load_settings
from consumer.delivery.credentials_api import StaticCredentials
from consumer.demo_settings import sandbox_credentials, sandbox_platforms
from consumer.kafka.dlq import H_PLATFORM, H_STAGE
from sandbox.testing import SandboxHandle, running_sandbox
from tests.integration.relay_harness import EVENT_TYPES, Scenario, verify

pytestmark = pytest.mark.integration

N = 600
PLATFORMS = ["meta", "google", "tiktok", "linkedin", "snap", "pinterest", "reddit", "microsoft"]


def platform_settings(sbx: SandboxHandle) -> dict[str, dict[str, Any]]:
    """Every connector pointed at its sandbox stand-in, with ids in the platforms' own shapes."""
    return sandbox_platforms(sbx.base_url, PLATFORMS)


def test_every_platform_is_registered() -> None:
    assert sorted(PLATFORMS) == sorted(CONNECTORS)


async def test_fanout_to_all_eight_platforms(kafka_bootstrap: str) -> None:
    scenario = Scenario(kafka_bootstrap)
    scenario.create_topics()
    scenario.produce(N, seed=31)
    assert set(Counter(scenario.produced.values())) == set(EVENT_TYPES)
    async with running_sandbox(seed=2) as sbx:
        config = scenario.config(sbx.base_url, PLATFORMS)
        config["platforms"] = platform_settings(sbx)
        config["delivery"] = {
            "retry": {"max_attempts": 3, "base_delay_s": 0.1, "max_delay_s": 1, "budget_s": 30}
        }
        settings = load_settings(**config)
        tokens, extra = sandbox_credentials(PLATFORMS)
        credentials = StaticCredentials(tokens, extra=extra)
        relay = build_relay(settings, credentials=credentials)
        await asyncio.wait_for(
            run_relay(relay, stop_when=lambda e: e.stats.messages_finished >= N, install_signals=False),
            timeout=240,
        )
        stats = sbx.state.stats()
        verdict = verify(scenario, PLATFORMS, {slug: sbx.state.events(slug) for slug in PLATFORMS})
    records = scenario.dlq_records()
    refused_before = Counter(r.get(H_PLATFORM, "") for r in records if r.get(H_STAGE) == "map")
    stages = Counter(r.get(H_STAGE, "") for r in records)
    report = {
        slug: (verdict.accepted[slug], verdict.dead_lettered[slug], stats[slug]["rejected_events"])
        for slug in PLATFORMS
    }
    print(
        f"\nfan-out (accepted, dead-lettered, sandbox-rejected): {report}\nDLQ stages: {dict(stages)}"
        f"\nreasons: {dict(verdict.reasons.most_common(8))}"
    )
    assert verdict.missing == []
    assert verdict.duplicates == 0
    for slug in PLATFORMS:
        assert verdict.accepted[slug] + verdict.dead_lettered[slug] == N, slug
        # what the sandbox accepted is what was routed there minus what the connector refused
        assert verdict.accepted[slug] == N - refused_before[slug], slug
        assert stats[slug]["rejected_events"] == 0, (slug, stats[slug])
        assert verdict.accepted[slug] > 0, slug
    assert scenario.fully_committed()
