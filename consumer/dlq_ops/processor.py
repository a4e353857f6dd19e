"""The per-record half of `dlq replay`: what is specific to the command line around the one
pipeline the relay runs.

Each dead-letter record that passes the filters (and is neither unroutable nor already at the
re-queue cap) becomes the relay's `MessageRef` — original source position, bytes and headers,
its dead-letter position in ``at`` and ``replay`` — and goes through the relay's `Intake`
(decode with registry back-off → enrich with store-outage retry → ledger lookup → map with the
connector-bug guard) and `OutcomeRouter` (delivered / failed / receipt / ledger). The router's
failure policy is `Requeue`; its ``pace`` is this module's rate limit and dry run.

The `Replayer` (in `replay`) owns Kafka and the lifecycle; a record is marked finished in the
offset tracker only when every target is done — including the broker's acknowledgement of a
re-queued copy and of each target's receipt — so a commit never passes unfinished work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TextIO

from connectors.base import Connector
from consumer.codec import Codec
from consumer.delivery.dispatcher import PlatformDispatcher, Unit
from consumer.dlq_ops.options import ReplayOptions
from consumer.dlq_ops.ratelimit import TokenBucket
from consumer.dlq_ops.records import DlqRecord
from consumer.dlq_ops.requeue import Requeue
from consumer.dlq_ops.summary import ReplaySummary, Reported
from consumer.engine_stats import EngineStats
from consumer.intake import Intake
from consumer.kafka.dlq import DECODE_PLATFORM, DeadLetterWriter
from consumer.kafka.offsets import OffsetTracker
from consumer.ledger.guard import LedgerGuard
from consumer.messages import EnricherLike, MessageRef, PartitionRun, Replayed
from consumer.observability import metrics
from consumer.outcomes import OutcomeRouter
from consumer.receipts.writer import ReceiptWriter

__all__ = ["RecordProcessor", "ReplayOptions"]


class RecordProcessor:
    """Feeds dead-letter records to the shared intake. ``pending`` counts records in flight
    (``idle`` is set when it is zero); `stop` makes it hand nothing new to a platform. Call
    `start` (with the re-queue writer and the receipt writer, None in a dry run or with receipts
    off) before `ingest`; the dispatchers it sends to are added to ``dispatchers`` then."""

    def __init__(
        self,
        options: ReplayOptions,
        topic: str,
        summary: ReplaySummary,
        tracker: OffsetTracker,
        connectors: Mapping[str, Connector],
        routing: Mapping[str, Sequence[str]],
        codec: Codec,
        enricher: EnricherLike | None,
        commit_skipped: bool,
        out: TextIO,
    ) -> None:
        self.options = options
        self.filter = options.filter
        self.topic = topic
        self.summary = summary
        self.tracker = tracker
        self.connectors = connectors
        self.routing = routing
        self.codec = codec
        self.enricher = enricher
        self.commit_skipped = commit_skipped
        self.out = out
        self.dispatchers: dict[str, PlatformDispatcher] = {}
        self.ledger: LedgerGuard | None = None
        self.failures = Requeue(options, summary, topic)
        self.stats = EngineStats()
        self.idle = asyncio.Event()
        self.idle.set()
        self._stop = asyncio.Event()
        self._run = PartitionRun()
        self._open: set[MessageRef] = set()
        self._bucket = TokenBucket(options.rate) if options.rate else None
        self._shown = 0
        self.outcomes: OutcomeRouter | None = None
        self.intake: Intake | None = None

    def start(self, writer: DeadLetterWriter | None, receipts: ReceiptWriter | None) -> OutcomeRouter:
        """Build the run's outcome router and intake; returns the router (the dispatchers'
        outcome callback is its ``on_outcomes``)."""
        self.failures.writer = writer
        self.outcomes = OutcomeRouter(
            self.dispatchers,
            self.failures,
            self.stats,
            self._unit_done,
            self.ledger,
            None if self.options.dry_run else receipts,
            pace=self._pace,
        )
        self.intake = Intake(
            self.codec,
            self.connectors,
            self.routing,
            self.outcomes,
            self.stats,
            self._finish,
            self.enricher,
            stop=self._stop,
            abandon=self._abandon,
        )
        return self.outcomes

    @property
    def pending(self) -> int:
        """Records taken in and not yet finished (nor given up)."""
        return len(self._open)

    @property
    def stopping(self) -> bool:
        """True once `stop` was called."""
        return self._stop.is_set()

    def stop(self) -> None:
        """Hand nothing new to a platform; waits (registry, store) end now."""
        self._stop.set()

    async def cancel_background(self) -> None:
        """Cancel re-queue writes still waiting for the broker (their records stay unfinished)."""
        if self.outcomes is not None:
            await self.outcomes.cancel_pending()

    # -- per record ------------------------------------------------------------------------------

    async def ingest(self, records: list[DlqRecord]) -> None:
        """Handle one polled batch in offset order: filter, check, then the shared intake."""
        assert self.intake is not None, "start() first"
        refs: list[MessageRef] = []
        for record in records:
            if self.stopping:
                break
            tp = (self.topic, record.partition)
            self.tracker.add(tp, record.offset)
            self.summary.scanned += 1
            if not self.filter.matches(record):
                self.summary.skipped += 1
                if self.commit_skipped:
                    self.tracker.done(tp, record.offset)
                continue
            self.summary.matched += 1
            if record.platform != DECODE_PLATFORM and record.platform not in self.connectors:
                self.summary.count(record.platform, "unroutable")
                self._report(record, "unroutable", f"platform {record.platform!r} is not configured")
                continue  # left uncommitted: a run with the platform configured will pick it up
            if record.replays >= self.options.max_replays:
                cap = self.options.max_replays
                reason = f"already replayed {record.replays} times (max {cap}): {record.reason}"
                self._report(record, "capped", reason)
                self.tracker.done(tp, record.offset)
                self.summary.finished += 1
                continue
            refs.append(self.admit(record))
        if refs:
            await self.intake.process(refs, metrics.Tally())

    def admit(self, record: DlqRecord) -> MessageRef:
        """The relay's message reference for a dead-letter record, counted in flight."""
        ref = MessageRef(
            topic=record.source_topic,
            partition=record.source_partition,
            offset=record.source_offset,
            key=record.key,
            value=record.value,
            headers=record.headers,
            size=len(record.value or b"") + 64,
            run=self._run,
            event_id=record.event_id,
            event_type=record.event_type,
            at=(self.topic, record.partition, record.offset),
            replay=Replayed(
                self.topic,
                record.partition,
                record.offset,
                record.platform,
                record.replays,
                record.attempts,
                record.first_failure_ms,
            ),
        )
        self._open.add(ref)
        self.idle.clear()
        return ref

    def _report(self, record: DlqRecord, kind: str, reason: str) -> None:
        self.summary.report(
            Reported(kind, record.platform, record.event_id, record.partition, record.offset, reason)
        )

    async def _pace(self, unit: Unit) -> bool:
        """Before a unit goes to its dispatcher: a dry run shows it instead, the rate limit
        waits, and after a stop nothing more is sent (the record stays uncommitted)."""
        ref = unit.ref
        if self.options.dry_run:
            self.summary.count(unit.platform, "would_send")
            self._show(unit, ref)
            self._unit_done(ref)
            return False
        if self._bucket is not None:
            await self._bucket.acquire()
        if self.stopping:
            self._abandon([ref])
            return False
        return True

    def _show(self, unit: Unit, ref: MessageRef) -> None:
        if self._shown >= self.options.show or ref.replay is None:
            return
        self._shown += 1
        self.out.write(
            f"would send  {unit.platform:<10} {ref.event_type or '-':<9} {ref.event_id or '-'}"
            f"  (dlq {ref.replay.partition}/{ref.replay.offset}, route {unit.item.route or '-'}, "
            f"keys {','.join(unit.item.match_keys) or '-'})\n"
        )

    # -- finishing -------------------------------------------------------------------------------

    def _unit_done(self, ref: MessageRef) -> None:
        ref.remaining -= 1
        if ref.remaining == 0:
            self._finish(ref)

    def _finish(self, ref: MessageRef) -> None:
        """Every target of the record is done: its offset may be committed."""
        if ref not in self._open:
            return  # given up when the run stopped: stays uncommitted
        self._open.discard(ref)
        self.tracker.done(ref.tp, ref.consumed_offset)
        self.summary.finished += 1
        self._settle()

    def _abandon(self, refs: list[MessageRef]) -> None:
        """Stopped before these records were sent: release them unfinished (replayed next run)."""
        for ref in refs:
            self._open.discard(ref)
        self._settle()

    def _settle(self) -> None:
        if not self._open:
            self.idle.set()
