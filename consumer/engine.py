"""The relay's heart: consume, decode, enrich, map, hand units to platform dispatchers, and
commit a source offset only when every unit of every message at or below it is finished.

A message is finished when each platform it was routed to reached a terminal outcome and every
dead-letter record it needed was acknowledged. Work of revoked partitions is dropped (it will
be redelivered to the new owner); memory is bounded by pausing partitions when the in-flight
count or bytes reach their caps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import structlog

from connectors.base import Connector
from consumer.codec import Codec
from consumer.delivery.dispatcher import PlatformDispatcher
from consumer.engine_stats import EngineStats
from consumer.intake import Intake
from consumer.kafka.acked_producer import STALL_PAUSE_S, output_stalled
from consumer.kafka.dlq import DECODE_PLATFORM, DeadLetterWriter
from consumer.kafka.offsets import OffsetTracker
from consumer.kafka.offsets import TopicPartition as TP
from consumer.ledger.guard import LedgerGuard
from consumer.messages import EngineLimits, EnricherLike, MessageRef, PartitionRun, Source
from consumer.observability import metrics
from consumer.observability.kafka_health import log_consume_error
from consumer.outcomes import DeadLetters, OutcomeRouter
from consumer.receipts.writer import ReceiptWriter
from consumer.retry.gate import RetryGate
from consumer.retry.parker import RetryParker

log = structlog.get_logger("capi_relay.engine")


class Engine:
    """Wires the source, codec, enricher, connectors, dispatchers and the dead-letter writer."""

    def __init__(
        self,
        source: Source,
        codec: Codec,
        connectors: Mapping[str, Connector],
        dispatchers: Mapping[str, PlatformDispatcher],
        routing: Mapping[str, Sequence[str]],
        dlq: DeadLetterWriter,
        enricher: EnricherLike | None = None,
        limits: EngineLimits | None = None,
        stats: EngineStats | None = None,
        ledger: LedgerGuard | None = None,
        receipts: ReceiptWriter | None = None,
        parker: RetryParker | None = None,
    ) -> None:
        self._source = source
        self._ledger = ledger
        self._receipts = receipts
        self._codec = codec
        self._connectors = dict(connectors)
        self._dispatchers = dict(dispatchers)
        self._routing = {t: [p for p in ps if p in self._connectors] for t, ps in routing.items()}
        self._dlq = dlq
        self._enricher = enricher
        self.limits = limits or EngineLimits()
        self.tracker = OffsetTracker()
        self.stats = stats or EngineStats()
        self._runs: dict[TP, PartitionRun] = {}
        self._run_refs: dict[TP, set[MessageRef]] = {}
        self.in_flight = 0
        self.in_flight_bytes = 0
        self._paused_for_backpressure = False
        self._stopping = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        failures = DeadLetters(dlq, self.stats, parker)  # the relay's: park, else dead-letter
        self.outcomes = OutcomeRouter(
            self._dispatchers, failures, self.stats, self._unit_done, ledger, receipts
        )
        self._gate = RetryGate(parker.topic, source, self._may_resume) if parker is not None else None
        self.intake = Intake(
            codec,
            self._connectors,
            self._routing,
            self.outcomes,
            self.stats,
            self._finish_message,
            enricher,
            pause=self._pause_all,
            resume=self._resume_all,
            enrich_retry_max_s=self.limits.enrich_retry_max_s,
            stop=self._stopping,
            abandon=self._abandon,
        )
        self.assigned: set[TP] = set()
        self.ready = False

    # -- rebalance callbacks (run on the loop thread inside consume) -------------------------------

    def on_assign(self, tps: list[TP]) -> None:
        """New partitions: start a fresh run; keep them paused if we are over capacity."""
        for tp in tps:
            self._runs[tp] = PartitionRun()
            self._run_refs[tp] = set()
            self.assigned.add(tp)
        self.ready = True
        metrics.ASSIGNED_PARTITIONS.set(len(self.assigned))
        if self._paused_for_backpressure or self._stopping.is_set():
            self._source.pause(tps)
        log.info("partitions_assigned", partitions=[f"{t}-{p}" for t, p in tps])

    def on_revoke(self, tps: list[TP]) -> None:
        """Commit what is finished for these partitions, then drop their unfinished work."""
        final = self.tracker.revoke(tps)
        if final:
            self._source.store_offsets(final)
            try:
                self._source.commit(final)
            except Exception as exc:  # a failed commit only means more redelivery
                log.warning("commit_on_revoke_failed", error=str(exc))
        self._drop(tps)
        log.info("partitions_revoked", partitions=[f"{t}-{p}" for t, p in tps])

    def on_lost(self, tps: list[TP]) -> None:
        """Partitions lost without a clean revoke: nothing may be committed, just drop."""
        self.tracker.revoke(tps)
        self._drop(tps)
        log.warning("partitions_lost", partitions=[f"{t}-{p}" for t, p in tps])

    def _drop(self, tps: list[TP]) -> None:
        if self._gate is not None:
            self._gate.forget(tps)
        for tp in tps:
            run = self._runs.pop(tp, None)
            if run is not None:
                run.alive = False
            for ref in self._run_refs.pop(tp, set()):
                self._release(ref)
            self.assigned.discard(tp)
        self.ready = self.ready and bool(self.assigned)  # readiness after a broker restart
        metrics.ASSIGNED_PARTITIONS.set(len(self.assigned))

    # -- accounting ----------------------------------------------------------------------------

    def _admit(self, ref: MessageRef) -> None:
        self.in_flight += 1
        self.in_flight_bytes += ref.size
        self._run_refs[ref.tp].add(ref)
        self._idle.clear()

    def _release(self, ref: MessageRef) -> None:
        self.in_flight -= 1
        self.in_flight_bytes -= ref.size
        if self.in_flight <= 0:
            self._idle.set()

    def _abandon(self, refs: list[MessageRef]) -> None:
        """Stopping mid-wait: release unfinished messages (never committed) so the drain ends."""
        for ref in refs:
            run_refs = self._run_refs.get(ref.tp)
            if run_refs is not None and ref in run_refs:
                run_refs.discard(ref)
                self._release(ref)

    def _unit_done(self, ref: MessageRef) -> None:
        if not ref.alive:
            return
        ref.remaining -= 1
        if ref.remaining == 0:
            self._finish_message(ref)

    def _finish_message(self, ref: MessageRef) -> None:
        tp = ref.tp
        refs = self._run_refs.get(tp)
        if refs is not None:
            refs.discard(ref)
        self.tracker.done(tp, ref.consumed_offset)
        self.stats.messages_finished += 1
        self._release(ref)

    # -- intake ----------------------------------------------------------------------------------

    async def run(self) -> None:
        """Consume until `stop()` is called, then stop fetching and return (see `drain`)."""
        for dispatcher in self._dispatchers.values():
            dispatcher.start(dispatcher.max_concurrency)  # no-op if the app already started it
        self._dlq.start()
        if self.outcomes.parker is not None:
            self.outcomes.parker.writer.start()
        if self._receipts is not None:
            self._receipts.start()
        last_store = time.monotonic()
        while not self._stopping.is_set():
            self._apply_backpressure()
            messages = self._source.consume(self.limits.batch_size, 0)
            now = time.monotonic()
            if now - last_store >= self.limits.store_interval_s:
                self.store_finished()
                last_store = now
            if not messages:
                await asyncio.sleep(self.limits.idle_sleep_s)
                continue
            await self._ingest(messages)
            await asyncio.sleep(0)

    def stop(self) -> None:
        """Stop fetching; `run` returns at its next iteration."""
        self._stopping.set()
        if self._gate is not None:
            self._gate.close()

    def follow_pauses(self, is_paused: Callable[[str], bool]) -> None:
        """With a retry topic, a paused platform's units are parked there (cause ``hold``)
        instead of held in memory, and come back as soon as it is resumed. Without one, the
        dispatchers keep holding them in memory (intake pauses at the in-flight cap)."""
        gate = self._gate
        if gate is None:
            return
        gate.ready = lambda slug: not is_paused(slug)
        for dispatcher in self._dispatchers.values():
            dispatcher.park_paused = True
            dispatcher.on_resume = lambda _slug: None if self._stopping.is_set() else gate.wake()

    def _may_resume(self, tp: TP) -> bool:
        """Whether a held retry partition may fetch again now that its head is due."""
        return tp in self.assigned and not self._paused_for_backpressure and not self._stopping.is_set()

    def _resumable(self) -> list[TP]:
        held = self._gate.held if self._gate is not None else frozenset()
        return [tp for tp in self.assigned if tp not in held]

    def _pause_all(self) -> None:
        self._source.pause(list(self.assigned))

    def _resume_all(self) -> None:
        if not self._paused_for_backpressure and not self._stopping.is_set():
            self._source.resume(self._resumable())

    def _apply_backpressure(self) -> None:
        parker = self.outcomes.parker
        outputs = (self._dlq, self._receipts, parker.writer if parker is not None else None)
        stalled = output_stalled(*outputs) >= STALL_PAUSE_S  # DLQ/receipts/retry topic unwritable
        over = stalled or (
            self.in_flight >= self.limits.max_in_flight_events
            or self.in_flight_bytes >= self.limits.max_in_flight_bytes
        )
        under = not stalled and (
            self.in_flight <= self.limits.max_in_flight_events * 0.7
            and self.in_flight_bytes <= self.limits.max_in_flight_bytes * 0.7
        )
        if over and not self._paused_for_backpressure:
            self._paused_for_backpressure = True
            self._source.pause(list(self.assigned))
            metrics.PAUSED_PARTITIONS.set(len(self.assigned))
            self.stats.pauses += 1
        elif under and self._paused_for_backpressure:
            self._paused_for_backpressure = False
            self._source.resume(self._resumable())
            metrics.PAUSED_PARTITIONS.set(0)
        metrics.IN_FLIGHT_EVENTS.set(self.in_flight)
        metrics.IN_FLIGHT_BYTES.set(self.in_flight_bytes)
        self.stats.max_in_flight = max(self.stats.max_in_flight, self.in_flight)

    def store_finished(self) -> None:
        """Store the committable offsets that advanced (librdkafka commits them)."""
        dirty = self.tracker.take_dirty()
        if dirty:
            self._source.store_offsets(dirty)

    async def _ingest(self, messages: list[Any]) -> None:
        refs: list[MessageRef] = []
        tally = metrics.Tally()
        gate = self._gate
        held: set[TP] = set()
        now_ms = int(time.time() * 1000)
        for msg in messages:
            err = msg.error()
            if err is not None:
                log_consume_error(err)  # rate-limited
                continue
            tp = (msg.topic(), msg.partition())
            run = self._runs.get(tp)
            if run is None or tp in held:  # not (or no longer) ours, or held at an earlier record
                continue
            value = msg.value()
            ref = MessageRef(
                topic=tp[0],
                partition=tp[1],
                offset=msg.offset(),
                key=msg.key(),
                value=value,
                headers=list(msg.headers() or ()),
                size=len(value or b"") + 64,
                run=run,
            )
            if gate is not None and tp[0] == gate.topic and not self._take_retry(ref, msg, now_ms, held):
                continue
            self.tracker.add(ref.tp, ref.consumed_offset)
            self._admit(ref)
            if ref.retry is not None and ref.retry.not_before_ms > now_ms:
                ref.remaining = 1
                self.outcomes.repark(ref)  # due by its tier, not yet by its hint
                continue
            refs.append(ref)
        if refs:
            await self.intake.process(refs, tally)
        else:
            tally.flush()

    def _take_retry(self, ref: MessageRef, msg: Any, now_ms: int, held: set[TP]) -> bool:
        """A retry-topic record: hold its partition if not due (False), else turn ``ref`` into
        the waiting event's reference — original position, only the platform that failed."""
        assert self._gate is not None
        record = self._gate.parse(msg)
        tp = ref.tp
        if record is None:  # not a retry record: dead-letter it like any undecodable message
            self.tracker.add(tp, ref.offset)
            self._admit(ref)
            ref.remaining = 1
            self.outcomes.dead_letter(
                ref,
                ref.dead_letter(
                    stage="retry",
                    platform=DECODE_PLATFORM,
                    outcome="rejected",
                    reason="record on the retry topic without retry headers",
                    error_code="not_a_retry_record",
                ),
            )
            return False
        if not self._gate.due(tp, ref.offset, record.info, now_ms):
            held.add(tp)
            return False
        ref.at = (tp[0], tp[1], ref.offset)
        ref.topic, ref.partition, ref.offset = record.origin
        ref.headers = record.headers
        ref.retry = record.info
        ref.event_id, ref.event_type = record.event_id, record.event_type
        if record.info.not_before_ms <= now_ms:
            ready = self._gate.ready
            if ready is None or ready(record.info.platform):  # a paused one is parked again
                metrics.RETRY_REDELIVERED.labels(record.info.platform).inc()
            metrics.RETRY_BACKLOG.labels(record.info.platform).dec()
        return True

    # -- shutdown --------------------------------------------------------------------------------

    async def drain(self, deadline_s: float) -> bool:
        """After `stop`: pause everything, wait for in-flight work up to the deadline, store
        what finished. True if everything in flight finished."""
        self._source.pause(list(self.assigned))
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=deadline_s)
            drained = True
        except TimeoutError:
            drained = False
        self.store_finished()
        return drained

    async def close(self) -> None:
        """Stop dispatchers, commit stored offsets, leave the group, flush the DLQ producer."""
        for dispatcher in self._dispatchers.values():
            await dispatcher.stop()
        await self.outcomes.cancel_pending()
        if self._receipts is not None:
            await self._receipts.close()  # acks that arrive now still finish their messages
        self.store_finished()
        try:
            self._source.commit()
        except Exception as exc:
            log.warning("final_commit_failed", error=str(exc))
        self._source.close()
        await self._dlq.close()
        if self.outcomes.parker is not None:
            await self.outcomes.parker.writer.close()
        if self._ledger is not None:
            await self._ledger.close()
