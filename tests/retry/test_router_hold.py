"""The outcome router's "not now" path: park on the retry topic (acked before the unit is done),
or dead-letter as expired when the next attempt would fall after the window — including the
`hold` hook a paused platform uses."""

from __future__ import annotations

import asyncio
import time

from structlog.testing import capture_logs

from connectors.base import Item, ItemOutcome, OutcomeKind
from consumer.delivery.dispatcher import Unit
from consumer.engine_stats import EngineStats
from consumer.kafka.dlq import DeadLetter
from consumer.kafka.retry_topic import H_RETRY_ATTEMPT, H_RETRY_PLATFORM, RetryInfo
from consumer.messages import MessageRef, PartitionRun
from consumer.outcomes import DeadLetters, OutcomeRouter
from consumer.retry.parker import RetryParker
from consumer.retry.schedule import DAY_MS, RetrySchedule


class FakeWriter:
    """An acknowledged producer that acknowledges at once (records what it was given)."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.letters: list[tuple[DeadLetter, int | None]] = []

    async def write(self, letter: DeadLetter, partition: int | None = None) -> tuple[int, int]:
        self.letters.append((letter, partition))
        return (partition or 0, len(self.letters) - 1)


def _router() -> tuple[OutcomeRouter, FakeWriter, FakeWriter, list[MessageRef]]:
    dlq, retry = FakeWriter("capi.dlq"), FakeWriter("capi.retry")
    done: list[MessageRef] = []
    schedule = RetrySchedule(windows_days={"meta": 7}, jitter=0)
    parker = RetryParker(retry, schedule, seed=1)  # type: ignore[arg-type]
    stats = EngineStats()
    failures = DeadLetters(dlq, stats, parker)  # type: ignore[arg-type]
    router = OutcomeRouter({}, failures, stats, done.append)
    return router, dlq, retry, done


def _unit(event_age_ms: int = 0, retry: RetryInfo | None = None) -> Unit:
    now = int(time.time() * 1000)
    ref = MessageRef("events.purchase", 0, 7, b"k", b"v", [], 100, PartitionRun(), retry=retry)
    ref.event_id, ref.event_type, ref.event_time_ms, ref.remaining = (
        "ORD-1",
        "purchase",
        now - event_age_ms,
        1,
    )
    item = Item("ORD-1", "purchase", now, {})
    return Unit(ref=ref, item=item, size=100, platform="meta", attempts=3, first_attempt_ms=now)


async def _settle(router: OutcomeRouter) -> None:
    while router._background:
        await asyncio.sleep(0)


async def test_spent_attempts_park_on_the_first_tier_and_finish_on_the_ack() -> None:
    router, dlq, retry, done = _router()
    unit = _unit()
    router.on_outcomes("exhausted", [unit], [ItemOutcome(OutcomeKind.RETRY, reason="HTTP 503", code="503")])
    assert done == []  # not before the retry record is acknowledged
    await _settle(router)
    ((letter, partition),) = retry.letters
    assert (letter.outcome, letter.platform, partition, dlq.letters) == ("retry_later", "meta", 0, [])
    assert letter.extra[H_RETRY_ATTEMPT] == "1" and letter.extra[H_RETRY_PLATFORM] == "meta"
    assert (letter.topic, letter.offset, letter.attempts, letter.http_status) == (
        "events.purchase",
        7,
        3,
        None,
    )
    assert done == [unit.ref] and router.stats.outcomes["meta"]["retry_later"] == 1


async def test_a_paused_platform_parks_without_counting_an_attempt() -> None:
    """Being paused is not a failed attempt: a retry record of the paused platform keeps its
    attempt and first failure, goes to the shortest tier and is ready at once (sent as soon as
    the platform is resumed); a fresh unit waits as attempt 0."""
    router, _dlq, retry, done = _router()
    waiting = RetryInfo("meta", 2, 0, 0, 1_000, 0, "503")
    paused = ItemOutcome(OutcomeKind.RETRY, reason="meta is paused (rotation)", code="paused")
    before = int(time.time() * 1000)
    router.hold(_unit(retry=waiting), paused, "hold")
    router.on_outcomes("hold", [_unit()], [paused])
    await _settle(router)
    (again, p1), (fresh, p2) = retry.letters
    assert (again.extra[H_RETRY_ATTEMPT], fresh.extra[H_RETRY_ATTEMPT], p1, p2) == ("2", "0", 0, 0)
    assert again.first_failure_ms == 1_000 and again.reason == "meta is paused (rotation)"
    info = RetryInfo.from_headers(dict(again.extra))
    assert info is not None and before <= info.not_before_ms <= int(time.time() * 1000)
    assert info.due_ms - info.not_before_ms == 60_000  # the shortest tier
    assert len(done) == 2 and router.stats.outcomes["meta"]["retry_later"] == 2


async def test_a_pause_expires_an_event_only_once_its_deadline_has_passed() -> None:
    """A plain retry expires when its next attempt would fall after the deadline; a paused
    unit is parked up to the deadline itself (a pause never brings `expired` forward)."""
    router, dlq, retry, _done = _router()
    paused = ItemOutcome(OutcomeKind.RETRY, reason="meta is paused", code="paused")
    margin = 3_600_000
    router.on_outcomes("hold", [_unit(event_age_ms=7 * DAY_MS - margin - 30_000)], [paused])
    router.on_outcomes("hold", [_unit(event_age_ms=7 * DAY_MS - margin + 30_000)], [paused])
    await _settle(router)
    assert len(retry.letters) == 1  # 30 s before its deadline: still parked (a retry would expire)
    ((letter, _),) = dlq.letters
    assert letter.outcome == "expired"


async def test_the_next_attempt_after_the_window_is_dead_lettered_expired() -> None:
    router, dlq, retry, done = _router()
    router.on_outcomes(
        "auth", [_unit(event_age_ms=7 * DAY_MS - 60_000)], [ItemOutcome(OutcomeKind.AUTH, code="190")]
    )
    await _settle(router)
    ((letter, _),) = dlq.letters
    assert (letter.outcome, letter.error_code, retry.letters) == ("expired", "190", [])
    assert "outside meta's window" in letter.reason and len(done) == 1


async def test_a_permanent_rejection_goes_to_the_dlq_as_before() -> None:
    router, dlq, retry, _done = _router()
    router.on_outcomes("rejected", [_unit()], [ItemOutcome(OutcomeKind.REJECTED, reason="bad", code="100")])
    await _settle(router)
    assert [letter.outcome for letter, _ in dlq.letters] == ["rejected"] and retry.letters == []


async def test_without_a_retry_topic_a_hold_fails_now_through_the_policy() -> None:
    dlq = FakeWriter("capi.dlq")
    done: list[MessageRef] = []
    stats = EngineStats()
    router = OutcomeRouter({}, DeadLetters(dlq, stats), stats, done.append)  # type: ignore[arg-type]
    router.hold(_unit(), ItemOutcome(OutcomeKind.RETRY, reason="paused by an operator"), "hold")
    await _settle(router)
    ((letter, _),) = dlq.letters
    assert (letter.outcome, letter.reason) == ("exhausted", "paused by an operator") and len(done) == 1


async def test_a_settlement_that_raises_is_logged_not_silent() -> None:
    """A background settlement (park, dead letter) that raises leaves its message unfinished;
    it must say so in the log instead of "Task exception was never retrieved" at exit."""
    router, _, _, done = _router()

    async def broken() -> None:
        raise OverflowError("cannot convert float infinity to integer")

    with capture_logs() as logs:
        router._spawn(broken())
        await _settle(router)
    failed = [e for e in logs if e["event"] == "outcome_settlement_failed"]
    assert failed and failed[0]["log_level"] == "error" and failed[0]["error"] == "OverflowError"
    assert done == []
