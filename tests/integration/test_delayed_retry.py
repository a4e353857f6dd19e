"""Delayed retries on the retry topic, against the real broker and the sandbox: a platform down
for longer than the in-process budget loses nothing and holds nothing up, Google's
TOO_RECENT_EVENT hint is waited out, an event that leaves its window while waiting is
dead-lettered as expired, once. Delays are scaled down by configuration (``delays_s``,
``max_wait_s``, ``max_age_s``), never by a test-only code path."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from consumer.app import build_relay, run_relay
from consumer.config import load_settings
from consumer.delivery.credentials_api import StaticCredentials
from consumer.demo_settings import sandbox_credentials
from consumer.kafka.dlq import H_EVENT_ID, H_OUTCOME, H_PLATFORM
from sandbox.testing import running_sandbox
from tests.integration.relay_harness import Scenario
from tests.integration.test_receipts_trace import read_all

pytestmark = pytest.mark.integration


def _delivery(**delayed: Any) -> dict[str, Any]:
    return {
        "retry": {"max_attempts": 3, "base_delay_s": 0.1, "max_delay_s": 0.3, "budget_s": 2},
        "circuit": {"failure_threshold": 5, "cooldown_s": 0.5},
        "delayed_retry": {"delays_s": [1, 2, 4], "jitter": 0.1, **delayed},
    }


def _accepted(sandbox: Any, slug: str) -> dict[str, int]:
    return {e["event_id"]: e["count"] for e in sandbox.state.events(slug)}


async def _run(settings: Any, platforms: list[str], stop_when: Any, timeout: float = 60) -> Any:
    tokens, extra = sandbox_credentials(platforms)
    relay = build_relay(settings, credentials=StaticCredentials(tokens, extra=extra))
    await asyncio.wait_for(run_relay(relay, stop_when=stop_when, install_signals=False), timeout=timeout)
    return relay


async def test_outage_three_times_the_budget_ends_delivered_without_stalling(kafka_bootstrap: str) -> None:
    """TikTok answers 503 for 3x its 2 s in-process budget, then recovers: 0 dead letters, every
    event delivered once to both platforms, Meta undisturbed, the source committed while
    TikTok was still down."""
    n = 300
    scenario = Scenario(kafka_bootstrap, partitions=2)
    scenario.create_topics()
    scenario.produce(n, seed=61)
    down_until = time.time() + 6.0
    platforms = ["meta", "tiktok"]
    async with running_sandbox(
        faults={"tiktok": {"outage": {"status": 503, "until": down_until}}}
    ) as sandbox:
        settings = load_settings(**scenario.config(sandbox.base_url, platforms, delivery=_delivery()))
        seen: dict[str, float] = {}

        async def done(_engine: Any) -> bool:
            now = time.time()
            if "meta" not in seen and len(_accepted(sandbox, "meta")) == n:
                seen["meta"] = now
            if "source" not in seen and await asyncio.to_thread(scenario.fully_committed):
                seen["source"] = now
            return len(_accepted(sandbox, "tiktok")) == n and "source" in seen

        await _run(settings, platforms, done)
        meta, tiktok = _accepted(sandbox, "meta"), _accepted(sandbox, "tiktok")
    assert scenario.dlq_records() == []
    assert set(meta) == set(tiktok) == set(scenario.produced)
    assert set(meta.values()) == set(tiktok.values()) == {1}
    assert seen["meta"] < down_until, "meta waited for tiktok"
    assert seen["source"] < down_until, "the source partitions stalled behind tiktok's outage"


async def test_google_too_recent_event_is_delivered_after_its_hint(kafka_bootstrap: str) -> None:
    """Google answers TOO_RECENT_EVENT ("retry after 6 hours"); the hint is longer than any
    in-process budget, so the event waits on the retry topic — capped to 4 s by
    ``max_wait_s`` — and is delivered then; the receipts say it waited."""
    n = 20
    scenario = Scenario(kafka_bootstrap, partitions=1)
    scenario.create_topics()
    scenario.produce(n, seed=62)
    receipts = f"{scenario.prefix}.receipts"
    async with running_sandbox(faults={"google": {"too_recent_s": 3}}) as sandbox:
        config = scenario.config(
            sandbox.base_url, ["google"], delivery=_delivery(max_wait_s=4), topics={"receipts": receipts}
        )
        config["platforms"]["google"]["settings"]["api"] = "ads_api"
        started = time.monotonic()
        relay = await _run(
            load_settings(**config), ["google"], lambda _e: len(_accepted(sandbox, "google")) == n
        )
        elapsed = time.monotonic() - started
        stats = sandbox.state.stats()["google"]
    assert scenario.dlq_records() == []
    assert elapsed >= 4, "delivered before the (scaled) hint"
    assert stats["fault_counts"].get("too_recent", 0) >= n
    assert relay.engine.stats.outcomes["google"]["retry_later"] >= n
    by_outcome = Counter((r["outcome"], r.get("code")) for _, _, r in read_all(kafka_bootstrap, receipts))
    assert by_outcome[("retry_later", "TOO_RECENT_EVENT")] >= n
    assert by_outcome[("delivered", None)] == n
    waiting = next(r for _, _, r in read_all(kafka_bootstrap, receipts) if r["outcome"] == "retry_later")
    assert waiting["retry"]["attempt"] == 1 and waiting["retry"]["not_before_ms"] > waiting["receipt_time_ms"]


async def test_event_leaving_its_window_while_waiting_is_dead_lettered_expired_once(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """TikTok stays down; with ``max_age_s: 8`` its events are given up after a few delayed
    attempts: exactly one dead-letter record each, outcome ``expired``; Meta delivers all."""
    n = 40
    scenario = Scenario(kafka_bootstrap, partitions=1)
    scenario.create_topics()
    scenario.produce(n, seed=63)
    platforms = ["meta", "tiktok"]
    async with running_sandbox(faults={"tiktok": {"outage": {"status": 503}}}) as sandbox:
        config = scenario.config(sandbox.base_url, platforms, delivery=_delivery())
        config["platforms"]["tiktok"]["max_age_s"] = 8
        await _run(
            load_settings(**config),
            platforms,
            lambda e: e.stats.outcomes["tiktok"]["expired"] >= n and len(_accepted(sandbox, "meta")) == n,
        )
        assert sandbox.state.stats()["tiktok"]["accepted_events"] == 0
    records = scenario.dlq_records()
    assert {(r[H_PLATFORM], r[H_OUTCOME]) for r in records} == {("tiktok", "expired")}
    assert Counter(r[H_EVENT_ID] for r in records) == dict.fromkeys(scenario.produced, 1)
