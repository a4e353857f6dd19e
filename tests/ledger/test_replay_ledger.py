"""Acceptance: a replay after a partial outage sends nothing to a platform that already accepted
the event. Meta is down, its events go to the DLQ; after it recovers, a redelivery (a fresh
consumer group over the purchase topic, as after a crash or rebalance) gets the purchases to
Meta first; `dlq replay --platform meta` then delivers only the leads and skips the purchases
by the ledger. Every event reaches Meta exactly once. Real broker, relay and sandbox."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from consumer.app import build_relay, run_relay
from consumer.dlq_ops.filters import RecordFilter
from consumer.dlq_ops.replay import ReplayOptions, run_replay
from consumer.observability import metrics
from sandbox.testing import running_sandbox
from tests.conftest import NewTopicFactory
from tests.dlq_ops.conftest import credentials, produce_events, read_dlq, relay_settings, sample_events

pytestmark = pytest.mark.integration

N = 20


async def test_replay_skips_platforms_that_already_accepted(
    kafka_bootstrap: str, new_topic: NewTopicFactory, tmp_path: Path
) -> None:
    topics = {"purchase": new_topic(), "lead": new_topic()}
    dlq = new_topic()
    events = sample_events(N)
    purchases = {e["event_id"] for e in events if e["type"] == "purchase"}
    leads = {e["event_id"] for e in events if e["type"] == "lead"}
    ledger = {"backend": "sqlite", "sqlite_path": str(tmp_path / "ledger.db")}
    async with running_sandbox(faults={"meta": {"outage": {"status": 503}}}) as sbx:
        settings = relay_settings(
            kafka_bootstrap,
            {t: e for e, t in topics.items()},
            dlq,
            sbx.url_for,
            group=f"relay-{uuid.uuid4().hex[:8]}",
            ledger=ledger,
        )
        produce_events(kafka_bootstrap, topics, events)
        relay = build_relay(settings, credentials=credentials())
        await run_relay(relay, stop_when=lambda e: e.stats.messages_finished >= N, install_signals=False)
        assert len(read_dlq(kafka_bootstrap, dlq)) == N  # every Meta delivery failed
        assert sbx.state.stats()["tiktok"]["accepted_events"] == N

        # Meta recovers; the purchase topic is consumed again (redelivery) and reaches Meta.
        sbx.set_faults("meta", outage=None)
        skips_before = metrics.LEDGER_SKIPS.labels("tiktok")._value.get()
        redelivery = relay_settings(
            kafka_bootstrap,
            {topics["purchase"]: "purchase"},
            dlq,
            sbx.url_for,
            group=f"redeliver-{uuid.uuid4().hex[:8]}",
            ledger=ledger,
        )
        relay = build_relay(redelivery, credentials=credentials())
        await run_relay(
            relay, stop_when=lambda e: e.stats.messages_finished >= len(purchases), install_signals=False
        )
        assert {e["event_id"] for e in sbx.state.events("meta")} == purchases
        # TikTok had them already: the redelivery skipped it by the ledger, sent nothing.
        assert metrics.LEDGER_SKIPS.labels("tiktok")._value.get() - skips_before == len(purchases)
        assert all(e["count"] == 1 for e in sbx.state.events("tiktok"))

        requests_before = sbx.state.stats()["meta"]["requests"]
        summary = await run_replay(
            settings,
            ReplayOptions(filter=RecordFilter.build(platforms=["meta"]), progress=False),
            credentials=credentials(),
        )
        assert summary.counts["meta"] == {"already_accepted": len(purchases), "delivered": len(leads)}, (
            summary.render()
        )
        assert summary.exit_code == 0
        counts = {e["event_id"]: e["count"] for e in sbx.state.events("meta")}
        assert counts == dict.fromkeys(purchases | leads, 1)
        assert sbx.state.stats()["meta"]["requests"] > requests_before  # the leads were sent
        assert "already_accepted" in summary.render()
