"""Where units end: delivered (ledger note, receipt), parked on the retry topic to be tried
again later (acked retry record, receipt), dead-lettered (acked DLQ record, receipt), or skipped
because the delivery ledger says the platform already accepted the event. A message's unit
counts as done only after the acknowledgements it needs, so offsets never pass it early.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

from connectors.base import ItemOutcome
from consumer.delivery.dispatcher import PlatformDispatcher, Unit
from consumer.engine_stats import EngineStats
from consumer.kafka.dlq import DeadLetter, DeadLetterWriter
from consumer.ledger.guard import LedgerGuard
from consumer.messages import MessageRef
from consumer.observability import metrics
from consumer.receipts.build import build_receipt, receipt_for_letter
from consumer.receipts.writer import ReceiptWriter
from consumer.retry.parker import RetryParker

# Terminal kinds of the dispatcher that mean "not now" rather than "never": with a retry topic
# they are parked until a later attempt; without one they are dead-lettered as they are.
# "hold" (a paused platform) comes only with a retry topic (without one the dispatcher holds
# the unit in memory).
LATER = frozenset({"exhausted", "auth", "hold"})


class OutcomeRouter:
    """Routes terminal outcomes to the ledger, the receipts topic and the dead-letter topic, and
    hands new units to dispatchers after one ledger lookup per batch."""

    def __init__(
        self,
        dispatchers: Mapping[str, PlatformDispatcher],
        dlq: DeadLetterWriter,
        stats: EngineStats,
        done: Callable[[MessageRef], None],
        ledger: LedgerGuard | None = None,
        receipts: ReceiptWriter | None = None,
        parker: RetryParker | None = None,
    ) -> None:
        self._dispatchers = dispatchers
        self.parker = parker
        self._dlq = dlq
        self.stats = stats
        self._done = done
        self._ledger = ledger
        self._receipts = receipts
        self._background: set[asyncio.Task[Any]] = set()
        # (platform, event id) -> the message whose unit is in delivery, with a retry topic: a
        # crash between parking a unit and committing its source leaves two copies (the source
        # message and the retry record, or two retry records) that may be in delivery at once;
        # the ledger is asked when a unit is submitted, before either copy was accepted, so
        # only this map keeps the second copy from being sent too.
        self._in_delivery: dict[tuple[str, str], MessageRef] = {}

    def on_outcome(self, unit: Unit, terminal: str, outcome: ItemOutcome) -> None:
        ref: MessageRef = unit.ref
        slug = unit.platform
        if self.parker is not None:
            self._in_delivery.pop((slug, unit.item.event_id), None)
        if self.parker is not None and terminal in LATER:
            self.hold(unit, outcome, terminal)
            return
        self.stats.count(slug, terminal)
        metrics.DELIVERIES.labels(slug, terminal).inc()
        if terminal == "delivered":
            if outcome.duplicate:
                metrics.DUPLICATES_ACKED.labels(slug).inc()
            if ref.event_time_ms:
                metrics.DELIVERY_LATENCY.labels(slug).observe(
                    max(0.0, time.time() - ref.event_time_ms / 1000)
                )
            if self._ledger is not None:
                self._ledger.note(slug, unit.item.event_id)
            if self._receipts is not None:
                receipt = build_receipt(ref, slug, "delivered", "deliver", unit=unit, result=outcome)
                self._receipts.emit(ref, receipt, lambda: self._done(ref))
                return
            self._done(ref)
            return
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

    @staticmethod
    def _first_failure(unit: Unit) -> int | None:
        ref: MessageRef = unit.ref
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
        budget, an auth hold, or a platform an operator paused (``cause``)."""
        self._spawn(self._hold(unit, outcome, cause))

    async def _hold(self, unit: Unit, outcome: ItemOutcome, cause: str) -> None:
        assert self.parker is not None
        ref: MessageRef = unit.ref
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
            self._receipts.emit(ref, receipt, lambda: self._done(ref))
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
        self, ref: MessageRef, letter: DeadLetter, unit: Unit | None = None, result: Any = None
    ) -> None:
        """Write a dead letter (and its receipt) in the background; the message finishes on ack."""
        self._spawn(self._write_dead_letter(ref, letter, unit, result))

    async def _write_dead_letter(
        self, ref: MessageRef, letter: DeadLetter, unit: Unit | None = None, result: Any = None
    ) -> None:
        location = await self._dlq.write(letter)
        metrics.DLQ_RECORDS.labels(letter.platform, letter.stage, letter.error_code or letter.outcome).inc()
        self.stats.dead_lettered(letter.platform, letter.error_code or letter.outcome)
        if self._receipts is not None:
            dlq = (self._dlq.topic, *location) if location else None
            receipt = receipt_for_letter(ref, letter, dlq, unit, result)
            self._receipts.emit(ref, receipt, lambda: self._done(ref))
            return
        self._done(ref)

    def _ledger_skip(self, unit: Unit) -> None:
        """The ledger says the platform already accepted this event: finish without sending."""
        ref: MessageRef = unit.ref
        metrics.LEDGER_SKIPS.labels(unit.platform).inc()
        self.stats.count(unit.platform, "delivered")
        if self._receipts is not None:
            receipt = build_receipt(
                ref, unit.platform, "delivered", "ledger", unit=unit, reason="already accepted (ledger)"
            )
            self._receipts.emit(ref, receipt, lambda: self._done(ref))
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
            else:
                self._dispatchers[unit.platform].submit(unit)

    def _copy_in_delivery(self, unit: Unit) -> bool:
        """True if another copy of this (event, platform) is being delivered; else note this one."""
        key = (unit.platform, unit.item.event_id)
        twin = self._in_delivery.get(key)
        if twin is not None and twin is not unit.ref and twin.alive:
            return True
        self._in_delivery[key] = unit.ref
        return False

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def cancel_pending(self) -> None:
        """Cancel dead-letter writes still waiting (their messages stay unfinished: redelivered)."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
