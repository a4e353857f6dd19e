"""The delayed-retry schedule: backoff along the tiers, hints at any length, the platform's window."""

from __future__ import annotations

import math
import random

from consumer.kafka.retry_topic import RetryInfo, tier_partition
from consumer.receipts.build import build_receipt
from consumer.receipts.codec import ReceiptCodec, fast_receipt_encoder
from consumer.receipts.journey import Journey
from consumer.retry.schedule import DAY_MS, RetrySchedule

NOW = 1_700_000_000_000
HOUR_MS = 3_600_000


def _schedule(**kw: object) -> RetrySchedule:
    return RetrySchedule(windows_days={"meta": 7, "google": 90}, **kw)  # type: ignore[arg-type]


def test_backoff_follows_the_tiers_with_bounded_jitter_then_repeats_the_last() -> None:
    schedule = _schedule(jitter=0.1)
    rng = random.Random(1)
    for attempt, base in [(1, 60), (2, 300), (3, 1800), (4, 7200), (5, 21600), (9, 21600)]:
        wait = schedule.wait_s(attempt, None, rng)
        assert base <= wait <= base * 1.1


def test_a_six_hour_hint_is_honoured_not_dead_lettered() -> None:
    """Google's TOO_RECENT_EVENT asks for 6 h: longer than any in-process budget, well inside
    the 90-day window — the event waits on the retry topic."""
    plan = _schedule().plan(
        "google",
        attempt=1,
        event_time_ms=NOW,
        first_failure_ms=NOW,
        hint_s=21600.4,
        reason="x",
        now_ms=NOW,
        rng=random.Random(0),
    )
    assert plan is not None
    info, tier = plan
    assert info.not_before_ms == NOW + 21_600_400
    assert tier == 4 and info.due_ms == NOW + 21_600_000  # the 6 h tier; never handed out early


def test_a_platform_without_a_window_waits_like_an_unknown_one_not_forever() -> None:
    # TikTok and Pinterest document no window (window_days = inf): parking one of their units
    # raised OverflowError, the park task died and its source offset never committed.
    schedule = RetrySchedule(windows_days={"tiktok": math.inf})
    unknown = RetrySchedule().deadline_ms("snap", NOW, NOW)
    assert schedule.deadline_ms("tiktok", NOW, NOW) == unknown
    schedule = RetrySchedule(windows_days={"pinterest": math.inf}, max_age_s={"pinterest": 3600})
    assert schedule.deadline_ms("pinterest", NOW, NOW) == NOW + 3_600_000


def test_the_next_attempt_after_the_window_minus_margin_is_expired() -> None:
    schedule = _schedule(window_margin_s=3600)
    event_time = NOW - 7 * DAY_MS + HOUR_MS + 30_000  # 30 s before Meta's window minus margin
    assert (
        schedule.plan(
            "meta",
            attempt=1,
            event_time_ms=event_time,
            first_failure_ms=NOW,
            hint_s=None,
            reason="x",
            now_ms=NOW,
            rng=random.Random(0),
        )
        is None
    )
    assert (
        schedule.plan(
            "google",
            attempt=1,
            event_time_ms=event_time,
            first_failure_ms=NOW,
            hint_s=None,
            reason="x",
            now_ms=NOW,
            rng=random.Random(0),
        )
        is not None
    )


def test_max_age_gives_up_before_the_window() -> None:
    schedule = _schedule(max_age_s={"google": 2 * 3600})
    assert schedule.deadline_ms("google", NOW, NOW) == NOW + 2 * HOUR_MS
    assert schedule.deadline_ms("meta", NOW, NOW) == NOW + 7 * DAY_MS - HOUR_MS


def test_max_wait_scales_every_wait_down_including_hints_and_tiers() -> None:
    schedule = _schedule(delays_s=(1.0, 2.0, 4.0), max_wait_s=5.0, jitter=0)
    info, tier = schedule.plan(  # type: ignore[misc]
        "google",
        attempt=1,
        event_time_ms=NOW,
        first_failure_ms=NOW,
        hint_s=21600,
        reason="x",
        now_ms=NOW,
        rng=random.Random(0),
    )
    assert (tier, info.due_ms, info.not_before_ms) == (2, NOW + 4000, NOW + 5000)
    # read when its tier is due, a second before its hint: re-parked into the 1 s tier
    again, tier = schedule.park("google", 1, info.not_before_ms, NOW, info.deadline_ms, "x", NOW + 4000)
    assert (tier, again.due_ms) == (0, NOW + 5000)


def test_tier_partitions_keep_tiers_apart() -> None:
    assert [tier_partition(t, 5, 5, b"k") for t in range(5)] == [0, 1, 2, 3, 4]
    assert {tier_partition(1, 5, 10, bytes([i])) for i in range(50)} == {1, 6}
    assert tier_partition(4, 5, 2, b"k") == 0  # fewer partitions than tiers: shared


def test_retry_headers_round_trip() -> None:
    info = RetryInfo("meta", 3, NOW + 1, NOW + 2, NOW - 5, NOW + 9, "503: HTTP 503")
    assert RetryInfo.from_headers(info.headers()) == info
    assert RetryInfo.from_headers({}) is None


class _Ref:
    topic, partition, offset = "events.purchase", 1, 42
    event_id, event_type, event_time_ms, enriched = "ORD-1", "purchase", NOW, ()
    replay = None


def test_a_retry_later_receipt_encodes_fast_and_trace_says_waiting() -> None:
    info = RetryInfo("google", 2, NOW + 6 * HOUR_MS, NOW + 6 * HOUR_MS, NOW - 1000, NOW + 80 * DAY_MS, "x")
    receipt = build_receipt(
        _Ref(),
        "google",
        "retry_later",
        "deliver",
        reason="TOO_RECENT_EVENT: retry later",
        retry=(info, ("capi.retry", 4, 17)),
    )
    encoder = fast_receipt_encoder()
    assert encoder is not None
    codec = ReceiptCodec()
    assert encoder(receipt) == codec.encode(receipt)
    decoded = codec.decode(codec.encode(receipt))
    assert decoded["retry"]["attempt"] == 2 and decoded["retry"]["offset"] == 17
    text = Journey("ORD-1", [decoded]).render()
    assert (
        "waiting for retry until 2023-11-15 04:13:20.000Z (attempt 2, TOO_RECENT_EVENT: retry later)" in text
    )
    assert "capi.retry partition 4 offset 17" in text


def test_a_paused_unit_waits_in_the_shortest_tier_ready_at_once_until_its_deadline() -> None:
    """Being paused is not an attempt: the attempt and first failure stay, the wait is the
    shortest tier (re-parked there while the pause lasts), ``not_before`` is now so a resume
    takes it at once; expired only once the deadline itself has passed."""
    schedule = RetrySchedule(windows_days={"meta": 7}, window_margin_s=3600)
    now = 10 * DAY_MS
    event = now - DAY_MS
    plan = schedule.hold("meta", attempt=3, event_time_ms=event, first_failure_ms=5, reason="p", now_ms=now)
    assert plan is not None
    info, tier = plan
    assert (tier, info.attempt, info.first_failure_ms, info.not_before_ms) == (0, 3, 5, now)
    assert info.due_ms == now + 60_000 and info.deadline_ms == event + 7 * DAY_MS - 3_600_000
    at_deadline = info.deadline_ms
    assert schedule.hold(
        "meta", attempt=3, event_time_ms=event, first_failure_ms=5, reason="p", now_ms=at_deadline
    )
    assert (
        schedule.hold(
            "meta", attempt=3, event_time_ms=event, first_failure_ms=5, reason="p", now_ms=at_deadline + 1
        )
        is None
    )


def test_a_platform_without_a_time_limit_waits_seven_days_not_forever() -> None:
    """TikTok's and Pinterest's windows are infinite: the deadline was ``int(inf)`` (an
    OverflowError that left the unit unfinished and its partition wedged)."""
    schedule = RetrySchedule(windows_days={"tiktok": math.inf}, window_margin_s=3600)
    assert schedule.deadline_ms("tiktok", 1_000, 1) == 1_000 + 7 * DAY_MS - 3_600_000
    assert schedule.hold(
        "tiktok", attempt=0, event_time_ms=1_000, first_failure_ms=1, reason="p", now_ms=2_000
    )
