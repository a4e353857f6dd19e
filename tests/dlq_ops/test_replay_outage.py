"""Acceptance: after a Meta outage, `dlq replay --platform meta` delivers every dead-lettered
event to Meta exactly once and sends nothing to any other platform; a second run delivers
nothing new; a dry run sends nothing. Real broker, real relay, in-process sandbox."""

from __future__ import annotations

import io
import uuid

import pytest

from consumer.app import build_relay, run_relay
from consumer.dlq_ops.filters import RecordFilter
from consumer.dlq_ops.replay import ReplayOptions, run_replay
from sandbox.testing import running_sandbox
from tests.conftest import NewTopicFactory
from tests.dlq_ops.conftest import credentials, produce_events, read_dlq, relay_settings, sample_events

pytestmark = pytest.mark.integration

N = 24


async def test_outage_replay_meta_only(kafka_bootstrap: str, new_topic: NewTopicFactory) -> None:
    topics = {"purchase": new_topic(), "lead": new_topic()}
    dlq = new_topic()
    events = sample_events(N)
    ids = {e["event_id"] for e in events}
    async with running_sandbox(faults={"meta": {"outage": {"status": 503}}}) as sbx:
        settings = relay_settings(
            kafka_bootstrap,
            {t: e for e, t in topics.items()},
            dlq,
            sbx.url_for,
            group=f"relay-{uuid.uuid4().hex[:8]}",
        )
        produce_events(kafka_bootstrap, topics, events)

        # The outage: Meta's events exhaust their retries into the DLQ, TikTok gets everything.
        relay = build_relay(settings, credentials=credentials())
        await run_relay(relay, stop_when=lambda e: e.stats.messages_finished >= N, install_signals=False)
        assert {e["event_id"] for e in sbx.state.events("tiktok")} == ids
        assert sbx.state.stats()["meta"]["accepted_events"] == 0
        letters = read_dlq(kafka_bootstrap, dlq)
        assert sorted(r.event_id or "" for r in letters) == sorted(ids)
        assert {(r.platform, r.stage, r.outcome) for r in letters} == {("meta", "deliver", "exhausted")}

        sbx.set_faults("meta", outage=None)
        sbx.reset()
        meta_only = RecordFilter.build(platforms=["meta"])

        # Dry run: lists, sends nothing, commits nothing.
        out = io.StringIO()
        dry = await run_replay(
            settings,
            ReplayOptions(filter=meta_only, dry_run=True, progress=False, show=5),
            credentials=credentials(),
            out=out,
        )
        assert dry.totals() == {"would_send": N} and dry.exit_code == 0
        assert out.getvalue().count("would send") == 5
        assert all(s["requests"] == 0 for s in sbx.state.stats().values())

        # The replay: every event to Meta once, nothing anywhere else.
        summary = await run_replay(
            settings, ReplayOptions(filter=meta_only, progress=False), credentials=credentials()
        )
        assert summary.totals() == {"delivered": N}, summary.render()
        assert summary.exit_code == 0
        assert {e["event_id"]: e["count"] for e in sbx.state.events("meta")} == dict.fromkeys(ids, 1)
        stats = sbx.state.stats()
        assert all(s["requests"] == 0 for slug, s in stats.items() if slug != "meta")

        # A second run has nothing new to deliver.
        requests_before = stats["meta"]["requests"]
        again = await run_replay(
            settings, ReplayOptions(filter=meta_only, progress=False), credentials=credentials()
        )
        assert again.totals() == {} and again.total == 0 and again.exit_code == 0
        assert sbx.state.stats()["meta"]["requests"] == requests_before
        assert len(read_dlq(kafka_bootstrap, dlq)) == N  # nothing re-queued
