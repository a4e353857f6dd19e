"""Acceptance: a replayed record that fails again is back in the DLQ with replays + 1 and more
attempts; at the cap it is reported, not re-queued. Also: expired events are counted and never
sent; decode-stage records are decoded again and routed to every platform of their type."""

from __future__ import annotations

import time

import pytest

from consumer.dlq_ops.filters import RecordFilter
from consumer.dlq_ops.replay import Replayer, ReplayOptions, ReplayUsageError, run_replay
from sandbox.testing import running_sandbox
from tests.conftest import NewTopicFactory
from tests.dlq_ops.conftest import (
    credentials,
    dead_letter_for,
    read_dlq,
    relay_settings,
    sample_events,
    write_letters,
)

pytestmark = pytest.mark.integration
DAY_MS = 86_400_000


async def test_failed_again_is_requeued_then_capped(kafka_bootstrap: str, new_topic: NewTopicFactory) -> None:
    sources, dlq = {"purchase": "events.purchase", "lead": "events.lead"}, new_topic()
    events = sample_events(6)
    await write_letters(
        kafka_bootstrap, dlq, [dead_letter_for(e, sources[e["type"]], i) for i, e in enumerate(events)]
    )
    async with running_sandbox(faults={"meta": {"outage": {"status": 503}}}) as sbx:
        settings = relay_settings(kafka_bootstrap, {t: e for e, t in sources.items()}, dlq, sbx.url_for)
        options = ReplayOptions(filter=RecordFilter.build(platforms=["meta"]), max_replays=2, progress=False)

        first = await run_replay(settings, options, credentials=credentials())
        assert first.totals() == {"requeued": 6} and first.exit_code == 1
        records = read_dlq(kafka_bootstrap, dlq)
        assert len(records) == 12
        requeued = records[6:]
        assert {r.replays for r in requeued} == {1}
        assert all(r.attempts > 2 for r in requeued), [(r.attempts, r.reason, r.outcome) for r in requeued]
        assert {(r.platform, r.stage) for r in requeued} == {("meta", "deliver")}
        assert {r.source_topic for r in requeued} == set(sources.values())
        assert sorted(r.event_id or "" for r in requeued) == sorted(e["event_id"] for e in events)
        assert all(
            r.value == o.value and r.first_failure_ms == o.first_failure_ms
            for r, o in zip(sorted(requeued, key=lambda r: r.source_offset), records[:6], strict=True)
        )

        second = await run_replay(settings, options, credentials=credentials())
        assert second.total == 6  # resumed after the first run's range: only the re-queued copies
        assert second.totals() == {"capped": 6} and second.exit_code == 1
        assert {r.kind for r in second.reported} == {"capped"}
        assert len(read_dlq(kafka_bootstrap, dlq)) == 12  # reported, not re-queued
        third = await run_replay(settings, options, credentials=credentials())
        assert third.total == 0 and third.exit_code == 0
        assert sbx.state.stats()["tiktok"]["requests"] == 0


async def test_expired_and_decode_records(kafka_bootstrap: str, new_topic: NewTopicFactory) -> None:
    source, dlq = "events.purchase", new_topic()
    now = int(time.time() * 1000)
    fresh, old, redecodable = sample_events(3, seed=5, now_ms=now, types=("purchase",))
    old["event_time"] = now - 8 * DAY_MS
    letters = [
        dead_letter_for(fresh, source, 0),
        dead_letter_for(old, source, 1),
        # failed to decode at the time (registry trouble), fine now: goes to every routed platform
        dead_letter_for(
            redecodable,
            source,
            2,
            platform="*",
            stage="decode",
            outcome="rejected",
            reason="unknown_schema_id: schema id 7 is not in the registry",
            error_code="unknown_schema_id",
        ),
        # still garbage: re-queued as a decode failure
        dead_letter_for(
            fresh,
            source,
            3,
            platform="*",
            stage="decode",
            outcome="rejected",
            value=b"\x00garbage",
            reason="malformed",
            error_code="malformed",
        ),
    ]
    await write_letters(kafka_bootstrap, dlq, letters)
    async with running_sandbox() as sbx:
        settings = relay_settings(kafka_bootstrap, {source: "purchase"}, dlq, sbx.url_for)
        summary = await run_replay(settings, ReplayOptions(progress=False), credentials=credentials())
        totals = summary.totals()
        assert summary.counts["meta"] == {"delivered": 2, "expired": 1}, summary.render()
        assert summary.counts["tiktok"] == {"delivered": 1}
        assert summary.counts["*"] == {"requeued": 1}
        assert totals["expired"] == 1 and summary.exit_code == 1
        assert any(r.kind == "expired" and r.event_id == old["event_id"] for r in summary.reported)
        assert sbx.state.count("meta", old["event_id"]) == 0
        assert sbx.state.count("meta", redecodable["event_id"]) == 1
        assert sbx.state.count("tiktok", redecodable["event_id"]) == 1
        assert sbx.state.count("tiktok", fresh["event_id"]) == 0  # a Meta record goes to Meta only
        back = read_dlq(kafka_bootstrap, dlq)[4:]
        assert [(r.platform, r.stage, r.replays, r.error_code) for r in back] == [
            ("*", "decode", 1, "truncated")
        ]


def test_unknown_platform_is_a_usage_error(kafka_bootstrap: str) -> None:
    settings = relay_settings(
        kafka_bootstrap, {"events.purchase": "purchase"}, "capi.dlq", lambda s: f"http://127.0.0.1:9/{s}"
    )
    with pytest.raises(ReplayUsageError, match="google"):
        Replayer(
            settings,
            ReplayOptions(filter=RecordFilter.build(platforms=["google"])),
            credentials=credentials(),
        )
