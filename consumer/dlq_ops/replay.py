"""`capi-relay dlq replay`: send dead-lettered events again — to the platform that failed, and to
no other — safely, visibly and without loops.

* Each record goes only to the platform in its ``capi.platform`` header; the replay builds a
  dispatcher for no other platform. Decode-stage records (platform ``*``) are decoded again (a
  fixed schema or registry can redrive them) and then routed like the relay routes them: to
  every platform configured for their event type — the one case with several targets.
* Events outside a platform's window (the connector's ``map_event`` says ``outside_window``)
  are not sent: they are counted and reported as expired.
* A record that fails again goes back to the DLQ with ``capi.replays`` + 1 (and its delivery
  attempts added); at ``max_replays`` it is reported instead, which bounds every loop.
* Resumable: the DLQ is read with the replay's own consumer group, from its committed position
  up to the end offsets seen at start; an offset is committed only once its record finished
  (delivered, expired, re-queued with the broker's ack, or reported), contiguously per partition.
  SIGINT stops intake and lets what is in flight finish, so a rerun sends each record once.
* Receipts (``receipts.enabled``, not in a dry run): one per terminal (record, platform) outcome,
  with ``replay_of`` naming the replayed record. A record finishes only after its receipts are
  acknowledged, so — like the relay — no offset is committed before them.
* One pipeline: records go through the relay's own intake and outcome router (`processor`);
  what this package adds is the command line's part — filters, dry run, rate limit, progress,
  resume, the re-queue cap (`requeue`) and the summary.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

import structlog

from connectors.base import Connector
from consumer.builders import build_connectors, build_credentials, registry_client
from consumer.codec import Codec
from consumer.collector import tune_for_throughput
from consumer.config import Settings
from consumer.delivery.credentials_api import CredentialsSource
from consumer.delivery.factory import build_dispatchers, start_dispatchers
from consumer.delivery.http import HttpSender
from consumer.dlq_ops.options import ReplayOptions
from consumer.dlq_ops.originals import restore_originals, value_omitted
from consumer.dlq_ops.processor import RecordProcessor
from consumer.dlq_ops.progress import Progress
from consumer.dlq_ops.records import DlqReader
from consumer.dlq_ops.summary import ReplaySummary
from consumer.kafka.dlq import DECODE_PLATFORM, DeadLetterWriter
from consumer.kafka.offsets import OffsetTracker
from consumer.kafka.topics import MissingTopicError
from consumer.ledger.factory import build_ledger_guard
from consumer.ledger.guard import LedgerGuard
from consumer.messages import EnricherLike
from consumer.receipts.factory import build_receipt_writer, ensure_receipts_topic
from consumer.receipts.writer import ReceiptWriter

__all__ = ["ReplayOptions", "ReplayUsageError", "Replayer", "run_replay"]

log = structlog.get_logger("capi_relay.dlq_replay")


class ReplayUsageError(ValueError):
    """The replay cannot start as asked (unknown platform, missing topic): exit code 2."""


class Replayer:
    """Runs one replay. Build it, `await run()`, read the returned summary; `stop()` (from a
    signal handler) ends intake gracefully, a second `stop()` aborts what is in flight."""

    def __init__(
        self,
        settings: Settings,
        options: ReplayOptions,
        *,
        codec: Codec | None = None,
        credentials: CredentialsSource | None = None,
        enricher: EnricherLike | None = None,
        connectors: Mapping[str, Connector] | None = None,
        out: TextIO | None = None,
        err: TextIO | None = None,
        ledger: LedgerGuard | None = None,
    ) -> None:
        """``ledger`` defaults to the configured delivery ledger (``options.use_ledger``)."""
        if options.max_replays < 1:
            raise ReplayUsageError("--max-replays must be at least 1")
        self.settings = settings
        self.options = options
        self.filter = options.filter
        self.topic = options.topic or settings.topics.dlq
        self.group = options.group or self.filter.default_group()
        self.commit_skipped = (
            options.commit_skipped if options.commit_skipped is not None else options.group is None
        )
        self.connectors = dict(connectors) if connectors is not None else build_connectors(settings)
        unknown = sorted(
            p for p in self.filter.platforms if p != DECODE_PLATFORM and p not in self.connectors
        )
        if unknown:
            raise ReplayUsageError(
                f"platform(s) {', '.join(unknown)} not configured (routed and enabled) in this config; "
                f"configured: {', '.join(sorted(self.connectors)) or 'none'}"
            )
        self.codec = codec or Codec(registry_client(settings), settings.topics.events)
        self.credentials = credentials or build_credentials(settings)
        self.err = err or sys.stderr
        self.summary = ReplaySummary(
            self.topic,
            self.group,
            self.filter.describe(),
            options.dry_run,
            skipped_committed=self.commit_skipped,
        )
        self.tracker = OffsetTracker()
        routing = {t: [p for p in ps if p in self.connectors] for t, ps in settings.routing.items()}
        self.proc = RecordProcessor(
            options,
            self.topic,
            self.summary,
            self.tracker,
            self.connectors,
            routing,
            self.codec,
            enricher,
            self.commit_skipped,
            out or sys.stdout,
        )
        if ledger is None and options.use_ledger:
            ledger = build_ledger_guard(settings)
        self.proc.ledger = ledger
        self.writer: DeadLetterWriter | None = None  # re-queued copies (None in a dry run)
        self.receipts: ReceiptWriter | None = None
        self._force = asyncio.Event()

    # -- control ---------------------------------------------------------------------------------

    def stop(self) -> None:
        """First call: stop reading, let in-flight records finish. Second call: abort now."""
        if self.proc.stopping:
            self._force.set()
            return
        self.proc.stop()
        self.summary.interrupted = True
        self.err.write("\nstopping: finishing records in flight (interrupt again to abort)…\n")

    def _targets(self) -> list[str]:
        """Platforms this run may send to: the filter's, plus every routed one if decode-stage
        records can match (they are routed by event type)."""
        if not self.filter.platforms or DECODE_PLATFORM in self.filter.platforms:
            return sorted(self.connectors)
        return sorted(self.filter.platforms)

    # -- the run ---------------------------------------------------------------------------------

    async def run(self) -> ReplaySummary:
        """Replay the planned range; returns the summary (also on interruption)."""
        started = time.monotonic()
        reader = DlqReader(self.settings.kafka.client_config(**{"group.id": self.group}), self.topic)
        sender = HttpSender()
        try:
            try:
                self.summary.total = await asyncio.to_thread(reader.plan, True)
            except LookupError as exc:
                raise ReplayUsageError(str(exc)) from None
            log.info(
                "replay_start",
                topic=self.topic,
                group=self.group,
                records=self.summary.total,
                selection=self.summary.selection,
                dry_run=self.options.dry_run,
            )
            progress = Progress(self.summary.total, self.err, enabled=self.options.progress)
            if self.options.dry_run:
                self.proc.start(None, None)
            else:
                self.receipts = await self._start_receipts()
                await sender.start()
                self.writer = DeadLetterWriter(self._producer_config(), self.topic)
                await asyncio.to_thread(self.writer.prepare)  # sized to the topic's limit
                self.writer.start()
                router = self.proc.start(self.writer, self.receipts)
                self.proc.dispatchers.update(
                    build_dispatchers(
                        self.settings,
                        self.connectors,
                        self._targets(),
                        sender,
                        self.credentials,
                        router.on_outcomes,
                    )
                )
                start_dispatchers(self.settings, self.proc.dispatchers)
            tune_for_throughput()  # the same pipeline as the relay's, the same allocation pattern
            await self._intake(reader, progress)
            await self._drain(progress)
            progress.close(self.summary.handled, self.summary.progress_counts())
        finally:
            await self._shutdown(reader, sender)
            self.summary.elapsed_s = time.monotonic() - started
        return self.summary

    async def _start_receipts(self) -> ReceiptWriter | None:
        """The relay's receipt writer on ``topics.receipts`` (which must exist), unless off."""
        if not self.settings.receipts.enabled:
            return None
        try:
            await asyncio.to_thread(ensure_receipts_topic, self.settings)
        except MissingTopicError as exc:
            raise ReplayUsageError(f"{exc} (or set receipts.enabled: false)") from None
        writer = build_receipt_writer(self.settings, self._producer_config())
        if writer is not None:
            writer.start()
            self.summary.receipts_topic = writer.topic
        return writer

    def _producer_config(self) -> dict[str, Any]:
        return self.settings.kafka.client_config()

    async def _intake(self, reader: DlqReader, progress: Progress) -> None:
        last_commit = time.monotonic()
        while not self.proc.stopping and not reader.finished:
            now = time.monotonic()
            if now - last_commit >= self.options.commit_interval_s:
                self._commit(reader)
                last_commit = now
            progress.update(self.summary.handled, self.summary.progress_counts())
            if self.proc.pending >= self.options.max_in_flight:
                await asyncio.sleep(0.02)
                continue
            records = reader.poll(self.options.poll_batch, 0)
            if not records:
                await asyncio.sleep(0.02)
                continue
            if any(value_omitted(r) for r in records):  # too large for the DLQ: read the source
                await asyncio.to_thread(restore_originals, self._producer_config(), records)
            await self.proc.ingest(records)
            await asyncio.sleep(0)

    async def _drain(self, progress: Progress) -> None:
        """Wait for in-flight records: without limit after a complete read (their retry budget
        bounds it), up to the drain deadline after a stop; a second stop aborts."""
        deadline = self.options.drain_deadline_s or self.settings.consumer.drain_deadline_s
        loop_started = time.monotonic()
        while self.proc.pending > 0 and not self._force.is_set():
            if self.proc.stopping and time.monotonic() - loop_started > deadline:
                log.warning("replay_drain_deadline", in_flight=self.proc.pending)
                break
            progress.update(self.summary.handled, self.summary.progress_counts())
            idle = asyncio.ensure_future(self.proc.idle.wait())
            force = asyncio.ensure_future(self._force.wait())
            await asyncio.wait({idle, force}, timeout=0.2, return_when=asyncio.FIRST_COMPLETED)
            idle.cancel()
            force.cancel()

    async def _shutdown(self, reader: DlqReader, sender: HttpSender) -> None:
        for dispatcher in self.proc.dispatchers.values():
            await dispatcher.stop()
        await self.proc.cancel_background()
        if self.proc.ledger is not None:
            await self.proc.ledger.close()
        receipts = self.receipts
        if receipts is not None:  # flushed before the final commit: their acks finish records
            self.summary.receipts_unacked = await receipts.close()
            self.summary.receipts_written = receipts.written
            if self.summary.receipts_unacked:
                log.warning("replay_receipts_unacked", receipts=self.summary.receipts_unacked)
        try:
            self._commit(reader)
        except Exception as exc:  # a failed final commit only means a rerun resends some records
            log.warning("replay_final_commit_failed", error=str(exc))
        await asyncio.to_thread(reader.close)
        if self.writer is not None:
            await self.writer.close()
        await sender.close()

    def _commit(self, reader: DlqReader) -> None:
        if self.options.dry_run:
            self.tracker.take_dirty()
            return
        dirty = self.tracker.take_dirty()
        if dirty:
            reader.commit({p: off for (_t, p), off in dirty.items()})


async def run_replay(
    settings: Settings,
    options: ReplayOptions,
    *,
    codec: Codec | None = None,
    credentials: CredentialsSource | None = None,
    enricher: EnricherLike | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    install_signals: bool = False,
    ledger: LedgerGuard | None = None,
) -> ReplaySummary:
    """Build a `Replayer` and run it (optionally stopping on SIGINT/SIGTERM)."""
    replayer = Replayer(
        settings,
        options,
        codec=codec,
        credentials=credentials,
        enricher=enricher,
        out=out,
        err=err,
        ledger=ledger,
    )
    loop = asyncio.get_running_loop()
    if install_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, replayer.stop)
    try:
        return await replayer.run()
    finally:
        if install_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
