"""Inspect's summary, the replay summary's exit codes, rate limit and progress line."""

from __future__ import annotations

import io

from consumer.dlq_ops.filters import RecordFilter
from consumer.dlq_ops.inspect import age_bucket, render_summary, summarize
from consumer.dlq_ops.progress import Progress, fmt_duration
from consumer.dlq_ops.ratelimit import TokenBucket
from consumer.dlq_ops.summary import ReplaySummary, Reported
from tests.dlq_ops.helpers import record

NOW = 1_700_000_000_000
H = 3_600_000


def test_header_round_trip() -> None:
    rec = record(platform="tiktok", replays=2, attempts=5, code="40100", failed_ms=NOW)
    assert (rec.platform, rec.stage, rec.outcome, rec.replays, rec.attempts) == (
        "tiktok",
        "deliver",
        "exhausted",
        2,
        5,
    )
    assert (rec.source_topic, rec.source_offset, rec.event_id, rec.failure_ms) == (
        "events.purchase",
        7,
        "ORD-1",
        NOW,
    )
    assert rec.reason_key == "40100"
    assert ("trace", b"abc") in rec.headers


def test_age_buckets() -> None:
    assert [age_bucket(x) for x in (0, H, 7 * H, 30 * H, 100 * H, 1000 * H)] == [
        "<1h",
        "1h-6h",
        "6h-24h",
        "1d-3d",
        "3d-7d",
        ">7d",
    ]


def test_summary_groups_counts_oldest_newest() -> None:
    records = [
        record(platform="meta", failed_ms=NOW - 10 * 60_000),
        record(platform="meta", failed_ms=NOW - 20 * 60_000, replays=1),
        record(platform="meta", failed_ms=NOW - 2 * H),
        record(platform="google", code="401", outcome="auth", failed_ms=NOW - 5 * 60_000),
        record(platform="*", stage="decode", code="malformed", failed_ms=NOW - 9 * 24 * H),
    ]
    summary = summarize(records, "capi.dlq", now_ms=NOW)
    data = summary.to_json()
    assert data["total"] == 5 and data["by_platform"] == {"*": 1, "google": 1, "meta": 3}
    groups = {(g["platform"], g["reason"], g["age"]): g for g in data["groups"]}
    recent = groups[("meta", "503", "<1h")]
    assert recent["count"] == 2 and recent["replayed"] == 1
    assert (recent["oldest_ms"], recent["newest_ms"]) == (NOW - 20 * 60_000, NOW - 10 * 60_000)
    assert groups[("*", "malformed", ">7d")]["count"] == 1
    text = render_summary(summary)
    assert "capi.dlq: 5 records" in text and "platform" in text.splitlines()[1]
    only_meta = summarize(records, "capi.dlq", RecordFilter.build(platforms=["meta"], now_ms=NOW), now_ms=NOW)
    assert (only_meta.total, only_meta.scanned) == (3, 5)
    assert "no dead-letter records" in render_summary(summarize([], "capi.dlq", now_ms=NOW))


def test_replay_summary_exit_codes_and_render() -> None:
    s = ReplaySummary("capi.dlq", "g", "platform=meta", dry_run=False)
    s.count("meta", "delivered", 5)
    s.count("meta", "expired", 1)
    assert s.exit_code == 0  # expired is reported, not a failure
    s.count("meta", "requeued")
    s.report(Reported("requeued", "meta", "ORD-9", 0, 12, "HTTP 503"))
    assert s.failed == 1 and s.exit_code == 1
    assert "ORD-9" in s.render() and "delivered" in s.render()
    s.finished, s.skipped = 7, 2
    s.count("google", "unroutable")
    assert s.handled == 10  # what the progress line counts
    s.interrupted = True
    assert s.exit_code == 130
    dry = ReplaySummary("capi.dlq", "g", "all records", dry_run=True)
    dry.count("meta", "would_fail")
    assert dry.exit_code == 0 and "DRY RUN" in dry.render()


def test_token_bucket_paces() -> None:
    t = [0.0]
    bucket = TokenBucket(10, burst=1, clock=lambda: t[0])
    assert bucket.try_take() == 0.0
    wait = bucket.try_take()
    assert 0.09 < wait <= 0.1
    t[0] += 0.1
    assert bucket.try_take() == 0.0


def test_progress_tty_and_log_modes() -> None:
    t = [0.0]
    tty = io.StringIO()
    p = Progress(100, tty, tty=True, clock=lambda: t[0])
    t[0] = 10.0
    p.update(50, {"delivered": 50})
    assert tty.getvalue().startswith("\r") and "50/100" in tty.getvalue() and "ETA 0:10" in tty.getvalue()
    log = io.StringIO()
    q = Progress(10, log, tty=False, clock=lambda: t[0])
    q.update(1, {})
    q.update(2, {})  # within the log interval: not printed
    q.close(10, {})
    assert log.getvalue().count("\n") == 2 and "\r" not in log.getvalue()
    assert fmt_duration(3725) == "1:02:05" and fmt_duration(float("inf")) == "--:--"
