"""Where units end: delivered (ledger note, receipt), parked on the retry topic to be tried
again later (acked retry record, receipt), failed (the driver's `FailurePolicy`: the relay
dead-letters, `dlq replay` re-queues or reports; then the receipt), or skipped because the
delivery ledger says the platform already accepted the event. A message's unit counts as done
only after the acknowledgements it needs, so offsets never pass it early. One router for every
driver: the relay (source and retry topics) and `dlq replay` (a dead-letter topic).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from connectors.base import ItemOutcome
from consumer.delivery.dispatcher import PlatformDispatcher, Unit
from consumer.engine_stats import EngineStats
from consumer.kafka.dlq import DeadLetter, DeadLetterWriter
from consumer.ledger.guard import LedgerGuard
from consumer.messages import MessageRef
from consumer.observability import metrics
from consumer.receipts.build import DlqLocation, build_receipt, receipt_for_letter
from consumer.receipts.writer import ReceiptWriter
from consumer.retry.parker import RetryParker

log = structlog.get_logger("capi_relay.outcomes")

# Terminal kinds of the dispatcher that mean "not now" rather than "never": with a retry topic
# they are parked until a later attempt; without one they are dead-lettered as they are.
# "hold" (a paused platform) comes only with a retry topic (without one the dispatcher holds
# the unit in memory).
LATER = frozenset({"exhausted", "auth", "hold"})


@dataclass(frozen=True, slots=True)
class Failed:
    """How a failure ended: the dead letter its receipt states (platform, outcome, stage, reason,
    code) and the dead-letter record it names (None: none was written or kept)."""

    letter: DeadLetter
    dlq: DlqLocation | None


class FailurePolicy(Protocol):
    """What a driver does with a (message, platform) that was not delivered — the one thing the
    relay and `dlq replay` do differently once a unit has an outcome.

    ``parker``: "not now" outcomes are parked on the retry topic (None: they fail like the
    rest). ``fail`` settles one failure (its dead letter as the router built it) and says what
    the receipt names, or None for no receipt; ``delivered`` observes a delivery (``ledger``:
    skipped because the ledger says the platform already accepted the event)."""

    parker: RetryParker | None

    async def fail(self, ref: MessageRef, letter: DeadLetter) -> Failed | None: ...

    def delivered(self, ref: MessageRef, platform: str, ledger: bool) -> None: ...


class DeadLetters:
    """The relay's policy: park "not now" on the retry topic (if configured), write every
    failure to the dead-letter topic and wait for the broker's acknowledgement."""

    def __init__(
        self, writer: DeadLetterWriter, stats: EngineStats, parker: RetryParker | None = None
    ) -> None:
        self.writer = writer
        self.stats = stats
        self.parker = parker

    async def fail(self, ref: MessageRef, letter: DeadLetter) -> Failed | None:
        location = await self.writer.write(letter)
        metrics.DLQ_RECORDS.labels(letter.platform, letter.stage, letter.error_code or letter.outcome).inc()
        self.stats.dead_lettered(letter.platform, letter.error_code or letter.outcome)
        return Failed(letter, (self.writer.topic, *location) if location else None)

    def delivered(self, ref: MessageRef, platform: str, ledger: bool) -> None:
        """Counted by the router's stats and metrics already."""


class OutcomeRouter:
    """Routes terminal outcomes to the ledger, the receipts topic, the retry topic and the
    driver's failure policy, and hands new units to dispatchers after one ledger lookup per
    batch. ``pace`` (`dlq replay`'s rate limit and dry run) is awaited before each unit goes to
    its dispatcher; False: not handed over (the pace decided its fate)."""

    def __init__(
        self,
        dispatchers: Mapping[str, PlatformDispatcher],
        failures: FailurePolicy,
        stats: EngineStats,
        done: Callable[[MessageRef], None],
        ledger: LedgerGuard | None = None,
        receipts: ReceiptWriter | None = None,
        pace: Callable[[Unit], Awaitable[bool]] | None = None,
    ) -> None:
        self._dispatchers = dispatchers
        self.failures = failures
        self.parker = failures.parker
        self._pace = pace
        self.stats = stats
        self._done = done
        self._ledger = ledger
        self._receipts = receipts
        self._background: set[asyncio.Task[None]] = set()
        # (platform, event id) -> the message whose unit is in delivery, with a retry topic: a
        # crash between parking a unit and committing its source leaves two copies (the source
        # message and the retry record, or two retry records) that may be in delivery at once;
        # the ledger is asked when a unit is submitted, before either copy was accepted, so
        # only this map keeps the second copy from being sent too.
        self._in_delivery: dict[tuple[str, str], MessageRef] = {}

    def on_outcomes(self, terminal: str, units: Sequence[Unit], outcomes: Sequence[ItemOutcome]) -> None:
        """One platform's units that reached ``terminal`` together (a request's deliveries or
        refusals, or a single unit), with the platform's answers in the same order."""
        if not units:
            return
        slug = units[0].platform
        if self.parker is not None:
            in_delivery = self._in_delivery
            for unit in units:
                in_delivery.pop((slug, unit.item.event_id), None)
            if terminal in LATER:
                for unit, outcome in zip(units, outcomes, strict=True):
                    self.hold(unit, outcome, terminal)
                return
        self.stats.count(slug, terminal, len(units))
        metrics.DELIVERIES.labels(slug, terminal).inc(len(units))
        if terminal == "delivered":
            self._delivered(slug, units, outcomes)
            return
        for unit, outcome in zip(units, outcomes, strict=True):
            self._fail(unit, terminal, outcome)

    def _delivered(self, slug: str, units: Sequence[Unit], outcomes: Sequence[ItemOutcome]) -> None:
        """A request's deliveries: metrics, ledger notes and receipts once per request."""
        now = time.time()
        latencies: list[float] = []
        duplicates = 0
        for unit, outcome in zip(units, outcomes, strict=True):
            ref = unit.ref
            duplicates += outcome.duplicate
            if ref.event_time_ms:
                latencies.append(max(0.0, now - ref.event_time_ms / 1000))
            self.failures.delivered(ref, slug, False)
        metrics.DELIVERY_LATENCY.labels(slug).observe_many(latencies)
        if duplicates:
            metrics.DUPLICATES_ACKED.labels(slug).inc(duplicates)
        if self._ledger is not None:
            self._ledger.note_many(slug, [unit.item.event_id for unit in units])
        if self._receipts is not None:
            self._receipts.emit_delivered(slug, units, outcomes, self._done)
            return
        for unit in units:
            self._done(unit.ref)

    def _fail(self, unit: Unit, terminal: str, outcome: ItemOutcome) -> None:
        """A delivery failure: its dead letter, settled by the driver's policy."""
        ref = unit.ref
        slug = unit.platform
        letter = ref.dead_letter(
            stage="deliver",
            platform=slug,
            outcome=terminal,
            reason=outcome.reason or terminal,
            attempts=unit.attempts,
            http_status=unit.last_status,
            error_code=outcome.code,
            first_failure_ms=self._first_failure(unit),
            last_failure_ms=unit.last_attempt_ms or None,
        )
        self.dead_letter(ref, letter, unit, outcome)

    def _emit(self, ref: MessageRef, receipt: dict[str, Any]) -> None:
        """Queue a receipt; the unit is done once the broker acknowledged it."""
        assert self._receipts is not None
        self._receipts.emit(ref, receipt, self._done)

    @staticmethod
    def _first_failure(unit: Unit) -> int | None:
        ref = unit.ref
        if ref.retry is not None:
            return ref.retry.first_failure_ms
        return unit.first_attempt_ms or None

    @staticmethod
    def retry_context(ref: MessageRef) -> dict[str, Any]:
        """Dead-letter context a retry record carries over (when the event first failed)."""
        return {"first_failure_ms": ref.retry.first_failure_ms} if ref.retry is not None else {}

    # -- later -------------------------------------------------------------------------------------

    def hold(self, unit: Unit, outcome: ItemOutcome, cause: str = "hold") -> None:
        """Park a unit on the retry topic for a later attempt (or dead-letter it as expired if
        that attempt would fall after the platform's window). The hook for everything that means
        "not now" for one platform: in-process attempts spent, a hint longer than the in-process
        budget, an auth hold, or a platform an operator paused (``cause``). Without a retry
        topic (a replay, or delayed retries off) the unit fails now, as ``exhausted`` (or
        ``auth``), through the driver's policy."""
        if self.parker is None:
            terminal = "auth" if cause == "auth" else "exhausted"
            self.stats.count(unit.platform, terminal)
            metrics.DELIVERIES.labels(unit.platform, terminal).inc()
            self._fail(unit, terminal, outcome)
            return
        self._spawn(self._hold(unit, outcome, cause))

    async def _hold(self, unit: Unit, outcome: ItemOutcome, cause: str) -> None:
        assert self.parker is not None
        ref = unit.ref
        slug = unit.platform
        now_ms = int(time.time() * 1000)
        reason = outcome.reason or cause
        if outcome.code and outcome.code not in reason:
            reason = f"{outcome.code}: {reason}"
        if cause == "hold":  # paused: not a failed attempt (`RetrySchedule.hold`)
            plan = self.parker.plan_hold(ref, slug, reason, unit.first_attempt_ms, now_ms)
        else:
            plan = self.parker.plan(ref, slug, outcome.retry_after, reason, unit.first_attempt_ms, now_ms)
        context: dict[str, Any] = {
            "attempts": unit.attempts,
            "http_status": unit.last_status,
            "error_code": outcome.code,
            "first_failure_ms": self._first_failure(unit),
            "last_failure_ms": unit.last_attempt_ms or None,
        }
        if plan is None:
            self.stats.count(slug, "expired")
            metrics.DELIVERIES.labels(slug, "expired").inc()
            metrics.EXPIRED_EVENTS.labels(slug).inc()
            letter = ref.dead_letter(
                stage="deliver",
                platform=slug,
                outcome="expired",
                reason=f"expired: the next attempt would fall outside {slug}'s window (last: {reason})",
                **context,
            )
            await self._write_dead_letter(ref, letter, unit, outcome)
            return
        info, tier = plan
        location = await self.parker.write(ref, info, tier, **context)
        self.stats.count(slug, "retry_later")
        metrics.RETRY_SCHEDULED.labels(slug, cause).inc()
        metrics.RETRY_BACKLOG.labels(slug).inc()
        if self._receipts is not None:
            receipt = build_receipt(
                ref,
                slug,
                "retry_later",
                "deliver",
                unit=unit,
                result=outcome,
                reason=reason,
                retry=(info, (self.parker.topic, *location)),
            )
            self._emit(ref, receipt)
            return
        self._done(ref)

    def repark(self, ref: MessageRef) -> None:
        """A retry record read when its tier was due but before its own ``not_before`` (a hint
        longer than the tier): write it again to a shorter tier; it finishes on the ack."""
        assert self.parker is not None and ref.retry is not None
        parker = self.parker

        async def write() -> None:
            info, tier = parker.repark(ref.retry, int(time.time() * 1000))  # type: ignore[arg-type]
            await parker.write(ref, info, tier, first_failure_ms=info.first_failure_ms)
            self._done(ref)

        self._spawn(write())

    def dead_letter(
        self, ref: MessageRef, letter: DeadLetter, unit: Unit | None = None, result: ItemOutcome | None = None
    ) -> None:
        """Settle a failure through the driver's policy (and write its receipt) in the
        background; the message finishes on the acknowledgements."""
        self._spawn(self._write_dead_letter(ref, letter, unit, result))

    async def _write_dead_letter(
        self, ref: MessageRef, letter: DeadLetter, unit: Unit | None = None, result: ItemOutcome | None = None
    ) -> None:
        failed = await self.failures.fail(ref, letter)
        if failed is not None and self._receipts is not None:
            self._emit(ref, receipt_for_letter(ref, failed.letter, failed.dlq, unit, result))
            return
        self._done(ref)

    def _ledger_skip(self, unit: Unit) -> None:
        """The ledger says the platform already accepted this event: finish without sending."""
        ref = unit.ref
        metrics.LEDGER_SKIPS.labels(unit.platform).inc()
        self.stats.count(unit.platform, "delivered")
        self.failures.delivered(ref, unit.platform, True)
        if self._receipts is not None:
            receipt = build_receipt(
                ref, unit.platform, "delivered", "ledger", unit=unit, reason="already accepted (ledger)"
            )
            self._emit(ref, receipt)
            return
        self._done(ref)

    async def submit(self, units: list[Unit]) -> None:
        """Hand units to their dispatchers, after one ledger lookup for the whole batch."""
        accepted: dict[str, set[str]] = {}
        if self._ledger is not None and units:
            query: dict[str, list[str]] = {}
            for unit in units:
                query.setdefault(unit.platform, []).append(unit.item.event_id)
            accepted = await self._ledger.lookup(query)
        for unit in units:
            if accepted and unit.item.event_id in accepted.get(unit.platform, ()):
                self._ledger_skip(unit)
            elif self.parker is not None and self._copy_in_delivery(unit):
                metrics.RETRY_COPIES.labels(unit.platform).inc()
                self._done(unit.ref)  # its twin in delivery decides (delivered, parked or DLQ)
            elif self._pace is None or await self._pace(unit):
                self._dispatchers[unit.platform].submit(unit)

    def _copy_in_delivery(self, unit: Unit) -> bool:
        """True if another copy of this (event, platform) is being delivered; else note this one."""
        key = (unit.platform, unit.item.event_id)
        twin = self._in_delivery.get(key)
        if twin is not None and twin is not unit.ref and twin.alive:
            return True
        self._in_delivery[key] = unit.ref
        return False

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._settled)

    def _settled(self, task: asyncio.Task[None]) -> None:
        """A background settlement that raised leaves its message unfinished (uncommitted, so
        redelivered after a restart, and the wedge check fails liveness): never silently."""
        self._background.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("outcome_settlement_failed", error=type(exc).__name__, detail=str(exc)[:200])

    async def cancel_pending(self) -> None:
        """Cancel dead-letter writes still waiting (their messages stay unfinished: redelivered)."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
