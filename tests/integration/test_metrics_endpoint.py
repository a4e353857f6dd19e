"""/metrics tells the truth about a real run, and /readyz follows the consumer group.

Why: dashboards and alerts are only as good as the counters behind them. After a run against
the real broker and the sandbox, the delivered count per platform must equal what the
platform (sandbox) accepted, and the dead-letter counter must equal the records actually on
the DLQ topic. Readiness must be 503 until partitions are assigned, then 200.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from consumer.observability.gauges import refresh_circuit_gauges
from consumer.observability.kafka_health import BrokerHealth, EngineReadiness
from consumer.observability.server import start_observability_server
from sandbox.testing import running_sandbox
from tests.conftest import NewTopicFactory
from tests.integration.observability_harness import (
    PLATFORMS,
    build,
    produce,
    relay_settings,
    run_until_finished,
    topic_record_count,
    wire_broker_health,
)

pytestmark = pytest.mark.integration

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


async def scrape(session: aiohttp.ClientSession, port: int) -> Samples:
    """Parse the exposition into {sample name: {sorted labels: value}}."""
    async with session.get(f"http://127.0.0.1:{port}/metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    out: Samples = defaultdict(dict)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[sample.name][tuple(sorted(sample.labels.items()))] = sample.value
    return out


def total(samples: Samples, name: str, **match: str) -> float:
    """Sum of a sample over the label sets that contain ``match``."""
    return sum(
        value
        for labels, value in samples.get(name, {}).items()
        if all((k, v) in labels for k, v in match.items())
    )


async def status(session: aiohttp.ClientSession, port: int, path: str) -> int:
    """HTTP status of a GET."""
    async with session.get(f"http://127.0.0.1:{port}{path}") as resp:
        return resp.status


async def test_metrics_match_sandbox_and_dlq(kafka_bootstrap: str, new_topic: NewTopicFactory) -> None:
    """Deltas of delivered and dead-lettered counters equal what really happened."""
    topics = {new_topic(2): "purchase", new_topic(1): "lead"}
    dlq = new_topic(1)
    traffic = produce(kafka_bootstrap, topics, n=40, poison=3)
    # Some events are refused by the platform: they must be counted and dead-lettered too.
    async with (
        running_sandbox(faults={"tiktok": {"reject_event_rate": 0.2}}, seed=5) as sandbox,
        aiohttp.ClientSession() as session,
    ):
        settings = relay_settings(kafka_bootstrap, topics, dlq, sandbox)
        health = BrokerHealth()
        wire_broker_health(settings, health)
        relay = build(settings)
        server = await start_observability_server(
            "127.0.0.1",
            0,
            EngineReadiness(relay.engine, health, max_silence_s=30),
            before_scrape=lambda: refresh_circuit_gauges(relay.dispatchers),
        )
        try:
            before = await scrape(session, server.port)
            assert await status(session, server.port, "/readyz") == 503
            assert await status(session, server.port, "/healthz") == 200

            lag_scraped: list[bool] = []

            def lag_published() -> bool:
                return bool(lag_scraped)

            run = asyncio.create_task(run_until_finished(relay, traffic.total, also=lag_published))
            ready_seen = False
            while not run.done():
                if not ready_seen and await status(session, server.port, "/readyz") == 200:
                    ready_seen = relay.engine.ready
                if ready_seen and any(topic in topics for topic, _ in health.last_lags):
                    during = await scrape(session, server.port)
                    lag_scraped.extend(
                        dict(labels)["topic"] in topics for labels in during.get("capi_consumer_lag", {})
                    )
                await asyncio.sleep(0.1)
            assert await run
            assert ready_seen, "/readyz never answered 200 while partitions were assigned"
            after = await scrape(session, server.port)
        finally:
            await server.stop()

        stats = sandbox.state.stats()
        for slug in PLATFORMS:
            delivered = total(after, "capi_deliveries_total", platform=slug, outcome="delivered") - total(
                before, "capi_deliveries_total", platform=slug, outcome="delivered"
            )
            assert delivered == stats[slug]["unique_events"], slug
            assert delivered > 0, slug
        assert stats["tiktok"]["rejected_events"] > 0  # the fault really fired

    dlq_delta = total(after, "capi_dlq_records_total") - total(before, "capi_dlq_records_total")
    decode_delta = total(after, "capi_dlq_records_total", platform="*") - total(
        before, "capi_dlq_records_total", platform="*"
    )
    assert decode_delta == traffic.poison
    assert dlq_delta == topic_record_count(kafka_bootstrap, dlq)
    assert dlq_delta > traffic.poison
    for slug in PLATFORMS:
        assert after["capi_circuit_state"][(("platform", slug),)] == 0  # refreshed at scrape time
    assert any(lag_scraped), "capi_consumer_lag was never exported for the source topics"
