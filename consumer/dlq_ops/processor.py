"""The per-record half of `dlq replay`: filter, decode, enrich, map, hand to the platform's
dispatcher, and turn each outcome into delivered / expired / re-queued / reported.

The `Replayer` (in `replay`) owns Kafka and the lifecycle; this module owns what happens to one
record, and marks it finished in the offset tracker only when every target is done — including
the broker's acknowledgement of a re-queued copy and of each target's receipt — so a commit
never passes unfinished work, and every committed outcome has a durable receipt.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any, TextIO

import structlog

from connectors.base import Connector, ItemOutcome, Reject
from consumer.codec import Codec, DecodeError
from consumer.delivery.dispatcher import PlatformDispatcher, Unit
from consumer.dlq_ops.jobs import Job, ReplayOptions
from consumer.dlq_ops.ratelimit import TokenBucket
from consumer.dlq_ops.receipting import ReplayReceipts
from consumer.dlq_ops.records import DlqRecord
from consumer.dlq_ops.summary import ReplaySummary, Reported
from consumer.intake import decode_waiting, enrich_waiting, map_guarded
from consumer.kafka.dlq import DECODE_PLATFORM, DeadLetter, DeadLetterWriter
from consumer.kafka.offsets import OffsetTracker
from consumer.ledger.guard import LedgerGuard
from consumer.messages import EnricherLike
from consumer.observability import metrics

__all__ = ["Job", "RecordProcessor", "ReplayOptions"]

log = structlog.get_logger("capi_relay.dlq_replay")


class RecordProcessor:
    """Per-record replay logic. ``pending`` counts sends, DLQ writes and receipts in flight
    (``idle`` is set when it is zero); setting ``stopping`` makes it hand nothing new to a
    platform. ``receipts`` (set by the replayer unless receipts are off or it is a dry run)
    writes one receipt per terminal (record, platform) outcome."""

    def __init__(
        self,
        options: ReplayOptions,
        topic: str,
        summary: ReplaySummary,
        tracker: OffsetTracker,
        connectors: Mapping[str, Connector],
        routing: Mapping[str, list[str]],
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
        self.writer: DeadLetterWriter | None = None
        self.ledger: LedgerGuard | None = None
        self.receipts: ReplayReceipts | None = None
        self.pending = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self.stopping = False
        self._bucket = TokenBucket(options.rate) if options.rate else None
        self._background: set[asyncio.Task[Any]] = set()
        self._shown = 0

    async def cancel_background(self) -> None:
        """Cancel re-queue writes still waiting for the broker (their records stay unfinished)."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    # -- per record ------------------------------------------------------------------------------

    async def ingest(self, records: list[DlqRecord]) -> None:
        """Handle one polled batch in offset order: filter, decode, enrich, map, send."""
        decoded: list[tuple[Job, dict[str, Any]]] = []
        for record in records:
            if self.stopping:
                return
            tp = (self.topic, record.partition)
            self.tracker.add(tp, record.offset)
            self.summary.scanned += 1
            if not self.filter.matches(record):
                self.summary.skipped += 1
                if self.commit_skipped:
                    self.tracker.done(tp, record.offset)
                continue
            self.summary.matched += 1
            job = Job(record, remaining=1, event_id=record.event_id, event_type=record.event_type)
            if record.platform != DECODE_PLATFORM and record.platform not in self.connectors:
                self._report(
                    job, record.platform, "unroutable", f"platform {record.platform!r} is not configured"
                )
                continue  # left uncommitted: a run with the platform configured will pick it up
            if record.replays >= self.options.max_replays:
                self._report(
                    job,
                    record.platform,
                    "capped",
                    f"already replayed {record.replays} times "
                    f"(max {self.options.max_replays}): {record.reason}",
                )
                self._unit_finished(job)
                continue
            event = await self._decode(job)
            if event is not None:
                decoded.append((job, event))
        if decoded and self.enricher is not None:
            await self._enrich([e for _, e in decoded])
            for job, event in decoded:
                job.enriched = tuple((event.get("_enrichment") or {}).get("added", ()))
        accepted = await self._ledger_lookup(decoded)
        for job, event in decoded:
            if self.stopping:
                return
            await self._route(job, event, accepted)

    def _targets(self, job: Job, event: dict[str, Any]) -> list[str]:
        if job.record.platform == DECODE_PLATFORM:
            return list(self.routing.get(event["type"], ()))
        return [job.record.platform]

    async def _ledger_lookup(self, decoded: list[tuple[Job, dict[str, Any]]]) -> dict[str, set[str]]:
        """One delivery-ledger query for the batch: which targets already accepted which event."""
        if self.ledger is None or not decoded:
            return {}
        query: dict[str, list[str]] = {}
        for job, event in decoded:
            event_id = event.get("event_id")
            if event_id:
                for slug in self._targets(job, event):
                    query.setdefault(slug, []).append(str(event_id))
        return await self.ledger.lookup(query)

    async def _enrich(self, events: list[dict[str, Any]]) -> None:
        """Add stored click IDs; a store outage waits and retries (the relay's own step)."""
        assert self.enricher is not None
        await enrich_waiting(self.enricher, events, stopped=lambda: self.stopping)

    async def _decode(self, job: Job) -> dict[str, Any] | None:
        record = job.record
        try:
            event = await decode_waiting(
                self.codec, record.source_topic, record.value, stopped=lambda: self.stopping
            )
        except DecodeError as exc:
            self._failed(
                job,
                record.platform,
                "decode",
                "rejected",
                str(exc),
                exc.reason,
                exception_class="capi_relay.DecodeError",
            )
            return None
        if event is None:
            return None
        job.event_id = job.event_id or event.get("event_id")
        job.event_type = event.get("type")
        event_time = event.get("event_time")
        job.event_time_ms = event_time if isinstance(event_time, int) else None
        return event

    async def _route(
        self, job: Job, event: dict[str, Any], accepted: dict[str, set[str]] | None = None
    ) -> None:
        record = job.record
        targets = self._targets(job, event)
        job.remaining = len(targets)
        if not targets:
            job.remaining = 1
            self._unit_finished(job)
            return
        now_ms = int(time.time() * 1000)
        for slug in targets:
            if accepted and event.get("event_id") in accepted.get(slug, ()):
                # the platform already accepted this event (a redelivery got there first)
                self.summary.count(slug, "already_accepted")
                if not self.options.dry_run:
                    metrics.LEDGER_SKIPS.labels(slug).inc()
                self._receipted(job, slug, "delivered", "ledger", reason="already accepted (ledger)")
                continue
            mapped = map_guarded(self.connectors[slug], event, now_ms, slug)
            if isinstance(mapped, Reject):
                if mapped.code == "outside_window":
                    self.summary.count(slug, "expired")
                    self._report(job, slug, "expired", mapped.reason)
                    self._receipted(job, slug, "rejected", "map", reason=mapped.reason, code=mapped.code)
                else:
                    self._failed(
                        job,
                        slug,
                        "map",
                        "rejected",
                        mapped.reason,
                        mapped.code,
                        exception_class="capi_relay.Reject",
                    )
                continue
            if self.options.dry_run:
                self.summary.count(slug, "would_send")
                self._show(slug, job, mapped.route, mapped.match_keys)
                self._unit_finished(job)
                continue
            if self._bucket is not None:
                await self._bucket.acquire()
                if self.stopping:
                    return  # not sent: the record stays uncommitted and is replayed next run
            self.pending += 1
            self.idle.clear()
            self.dispatchers[slug].submit(
                Unit(ref=job, item=mapped, size=len(record.value or b"") + 64, platform=slug)
            )

    def _show(self, slug: str, job: Job, route: str, keys: tuple[str, ...]) -> None:
        if self._shown >= self.options.show:
            return
        self._shown += 1
        self.out.write(
            f"would send  {slug:<10} {job.event_type or '-':<9} {job.event_id or '-'}"
            f"  (dlq {job.record.partition}/{job.record.offset}, route {route or '-'}, "
            f"keys {','.join(keys) or '-'})\n"
        )

    # -- outcomes --------------------------------------------------------------------------------

    def on_outcome(self, unit: Unit, terminal: str, outcome: ItemOutcome) -> None:
        """The dispatchers' callback: one terminal outcome of one (record, platform)."""
        job: Job = unit.ref
        self._release()
        if terminal == "delivered":
            if self.ledger is not None:
                self.ledger.note(unit.platform, unit.item.event_id)
            self.summary.count(unit.platform, "delivered")
            self._receipted(job, unit.platform, "delivered", "deliver", unit=unit, result=outcome)
            return
        self._failed(
            job,
            unit.platform,
            "deliver",
            terminal,
            outcome.reason or terminal,
            outcome.code,
            attempts=unit.attempts,
            http_status=unit.last_status,
            unit=unit,
            result=outcome,
        )

    def _failed(
        self,
        job: Job,
        slug: str,
        stage: str,
        outcome: str,
        reason: str,
        code: str | None,
        *,
        attempts: int = 0,
        http_status: int | None = None,
        exception_class: str = "capi_relay.DeliveryFailure",
        unit: Unit | None = None,
        result: ItemOutcome | None = None,
    ) -> None:
        """A replayed (record, platform) failed again: re-queue with replays + 1, or report at
        the cap. The record finishes only once the broker acknowledged the re-queued copy."""
        record = job.record
        replays = record.replays + 1
        if self.options.dry_run:
            self.summary.count(slug, "would_fail")
            self._report(job, slug, "would_fail", reason)
            self._unit_finished(job)
            return
        if replays >= self.options.max_replays:
            self.summary.count(slug, "capped")
            self._report(
                job, slug, "capped", f"failed on replay {replays} of {self.options.max_replays}: {reason}"
            )
            self._receipted(job, slug, outcome, stage, unit=unit, result=result, reason=reason, code=code)
            return
        letter = job.requeue_letter(
            slug,
            stage,
            outcome,
            reason,
            code,
            attempts=attempts,
            http_status=http_status,
            exception_class=exception_class,
        )
        self.pending += 1
        self.idle.clear()
        task = asyncio.get_running_loop().create_task(self._requeue(job, slug, letter, unit, result))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _requeue(
        self, job: Job, slug: str, letter: DeadLetter, unit: Unit | None, result: ItemOutcome | None
    ) -> None:
        assert self.writer is not None
        try:
            location = await self.writer.write(letter)
        finally:
            self._release()
        self.summary.count(slug, "requeued")
        self._report(
            job,
            slug,
            "requeued",
            f"failed again ({letter.outcome}), replay {letter.replays}: {letter.reason}",
        )
        self._receipted(
            job,
            slug,
            letter.outcome,
            letter.stage,
            unit=unit,
            result=result,
            reason=letter.reason,
            code=letter.error_code,
            requeued=location,
        )

    def _report(self, job: Job, slug: str, kind: str, reason: str) -> None:
        if kind in ("unroutable",):
            self.summary.count(slug, kind)
        self.summary.report(
            Reported(kind, slug, job.event_id, job.record.partition, job.record.offset, reason)
        )

    def _receipted(self, job: Job, slug: str, outcome: str, stage: str, **receipt: Any) -> None:
        """A terminal outcome of (record, platform): finish it once its receipt is acknowledged
        (at once when no receipts are written — off, or a dry run)."""
        if self.receipts is None or self.options.dry_run:
            self._unit_finished(job)
            return
        self.pending += 1
        self.idle.clear()

        def acked() -> None:
            self._release()
            self._unit_finished(job)

        self.receipts.emit(job, self.receipts.receipt(job, slug, outcome, stage, **receipt), acked)

    def _release(self) -> None:
        self.pending -= 1
        if self.pending <= 0:
            self.idle.set()

    def _unit_finished(self, job: Job) -> None:
        job.remaining -= 1
        if job.remaining == 0:
            self.tracker.done((self.topic, job.record.partition), job.record.offset)
            self.summary.finished += 1
