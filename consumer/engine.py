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
from collections.abc import Mapping, Sequence
from typing import Any

import structlog

from connectors.base import Connector, Item, ItemOutcome, Reject
from consumer.codec import Codec, DecodeError, RegistryUnavailableError
from consumer.delivery.dispatcher import PlatformDispatcher, Unit
from consumer.engine_stats import EngineStats
from consumer.enrich.retrying import enrich_retrying
from consumer.kafka.acked_producer import STALL_PAUSE_S, output_stalled
from consumer.kafka.dlq import DECODE_PLATFORM, DeadLetterWriter
from consumer.kafka.offsets import OffsetTracker
from consumer.kafka.offsets import TopicPartition as TP
from consumer.ledger.guard import LedgerGuard
from consumer.messages import EngineLimits, EnricherLike, MessageRef, PartitionRun, Source
from consumer.observability import metrics
from consumer.observability.faults import FAULTS
from consumer.observability.kafka_health import log_consume_error
from consumer.outcomes import OutcomeRouter
from consumer.receipts.writer import ReceiptWriter
from consumer.waits import sleep_or_stop

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
        self.outcomes = OutcomeRouter(self._dispatchers, dlq, self.stats, self._unit_done, ledger, receipts)
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
        self._run_refs[(ref.topic, ref.partition)].add(ref)
        self._idle.clear()

    def _release(self, ref: MessageRef) -> None:
        self.in_flight -= 1
        self.in_flight_bytes -= ref.size
        if self.in_flight <= 0:
            self._idle.set()

    def _abandon(self, refs: list[MessageRef]) -> None:
        """Stopping mid-wait: release unfinished messages (never committed) so the drain ends."""
        for ref in refs:
            if ref in self._run_refs.get((ref.topic, ref.partition), ()):
                self._run_refs[(ref.topic, ref.partition)].discard(ref)
                self._release(ref)

    def _unit_done(self, ref: MessageRef) -> None:
        if not ref.alive:
            return
        ref.remaining -= 1
        if ref.remaining == 0:
            self._finish_message(ref)

    def _finish_message(self, ref: MessageRef) -> None:
        tp = (ref.topic, ref.partition)
        refs = self._run_refs.get(tp)
        if refs is not None:
            refs.discard(ref)
        self.tracker.done(tp, ref.offset)
        self.stats.messages_finished += 1
        self._release(ref)

    # -- outcomes --------------------------------------------------------------------------------

    def _on_outcome(self, unit: Unit, terminal: str, outcome: ItemOutcome) -> None:
        """A dispatcher's terminal outcome for one unit (see `OutcomeRouter.on_outcome`)."""
        self.outcomes.on_outcome(unit, terminal, outcome)

    # -- intake ----------------------------------------------------------------------------------

    async def run(self) -> None:
        """Consume until `stop()` is called, then stop fetching and return (see `drain`)."""
        for dispatcher in self._dispatchers.values():
            dispatcher.start(dispatcher.max_concurrency)  # no-op if the app already started it
        self._dlq.start()
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

    def _apply_backpressure(self) -> None:
        stalled = output_stalled(self._dlq, self._receipts) >= STALL_PAUSE_S  # DLQ/receipts unwritable
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
            self._source.resume(list(self.assigned))
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
        decoded: list[tuple[MessageRef, dict[str, Any]]] = []
        tally = metrics.Tally()
        for msg in messages:
            err = msg.error()
            if err is not None:
                log_consume_error(err)  # rate-limited
                continue
            tp = (msg.topic(), msg.partition())
            run = self._runs.get(tp)
            if run is None:  # not (or no longer) ours
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
            self.tracker.add(tp, ref.offset)
            self._admit(ref)
            event = await self._decode(ref, tally)
            if event is not None:
                decoded.append((ref, event))
        tally.flush()
        if not decoded:
            return
        if self._enricher is not None and not await self._enrich([e for _, e in decoded]):
            self._abandon([ref for ref, _ in decoded])  # stopped during a store outage
            return
        now_ms = int(time.time() * 1000)
        units: list[Unit] = []
        for ref, event in decoded:
            enrichment = event.get("_enrichment")
            if enrichment:
                ref.enriched = tuple(enrichment.get("added", ()))
            self._route(ref, event, now_ms, units, tally)
        tally.flush()
        await self.outcomes.submit(units)

    async def _decode(self, ref: MessageRef, tally: metrics.Tally | None = None) -> dict[str, Any] | None:
        delay = 0.5
        while True:
            try:
                event = self._codec.decode(ref.topic, ref.value)
                break
            except DecodeError as exc:
                metrics.DECODE_ERRORS.labels(exc.reason).inc()
                ref.remaining = 1
                self.outcomes.dead_letter(
                    ref,
                    ref.dead_letter(
                        stage="decode",
                        platform=DECODE_PLATFORM,
                        outcome="rejected",
                        reason=str(exc),
                        exception_class="capi_relay.DecodeError",
                        error_code=exc.reason,
                    ),
                )
                return None
            except RegistryUnavailableError as exc:
                if tally is not None:
                    tally.flush()  # about to wait: count what was consumed so far
                log.warning("schema_registry_unavailable", error=str(exc), retry_in_s=delay)
                FAULTS.report("schema registry", str(exc))
                if await sleep_or_stop(self._stopping, delay):
                    self._abandon([ref])
                    return None
                delay = min(delay * 2, 30.0)
        FAULTS.clear("schema registry")
        ref.event_id = event.get("event_id")
        ref.event_type = event["type"]
        ref.event_time_ms = event.get("event_time")
        if tally is None:
            metrics.EVENTS_CONSUMED.labels(ref.topic, ref.event_type).inc()
        else:
            tally.add(metrics.EVENTS_CONSUMED, ref.topic, event["type"])
        return event

    async def _enrich(self, events: list[dict[str, Any]]) -> bool:
        """Enrich; a store outage pauses intake and retries. False: stopped, batch given up."""
        assert self._enricher is not None
        enricher = self._enricher

        def outage() -> None:
            self.stats.enrich_retries += 1
            self._source.pause(list(self.assigned))

        def retry() -> None:
            if not self._paused_for_backpressure:
                self._source.resume(list(self.assigned))

        return await enrich_retrying(
            lambda: enricher.enrich_batch(events, int(time.time() * 1000)),
            self._stopping, self.limits.enrich_retry_max_s, outage, retry,
        )  # fmt: skip

    def _route(
        self, ref: MessageRef, event: dict[str, Any], now_ms: int, out: list[Unit], tally: metrics.Tally
    ) -> None:
        platforms = self._routing.get(event["type"], ())
        units: list[tuple[str, Item]] = []
        rejects: list[tuple[str, Reject]] = []
        for slug in platforms:
            try:
                mapped = self._connectors[slug].map_event(event, now_ms)
            except Exception as exc:  # a connector bug must not stop the line
                log.error("map_failed", platform=slug, event_id=ref.event_id, error=type(exc).__name__)
                mapped = Reject(f"connector error {type(exc).__name__}", code="connector_error")
            if isinstance(mapped, Reject):
                rejects.append((slug, mapped))
            else:
                units.append((slug, mapped))
        ref.remaining = len(units) + len(rejects)
        if ref.remaining == 0:
            self._finish_message(ref)
            return
        for slug, reject in rejects:
            if reject.code == "outside_window":
                metrics.EXPIRED_EVENTS.labels(slug).inc()
            self.stats.count(slug, "rejected")
            metrics.DELIVERIES.labels(slug, "rejected").inc()
            self.outcomes.dead_letter(
                ref,
                ref.dead_letter(
                    stage="map",
                    platform=slug,
                    outcome="rejected",
                    reason=reject.reason,
                    exception_class="capi_relay.Reject",
                    error_code=reject.code,
                ),
            )
        add = tally.add
        for slug, item in units:
            add(metrics.MAPPED_EVENTS, slug)
            for key in item.match_keys:
                add(metrics.MATCH_KEYS, slug, key)
            for dropped in item.dropped:
                add(metrics.DROPPED_IDENTIFIERS, slug, dropped)
            out.append(Unit(ref=ref, item=item, size=ref.size, platform=slug))

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
        if self._ledger is not None:
            await self._ledger.close()
