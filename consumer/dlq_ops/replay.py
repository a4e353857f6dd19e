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
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

import structlog

from connectors.base import Connector, ItemOutcome, Reject
from consumer.app import build_connectors, build_credentials, registry_client
from consumer.codec import Codec, DecodeError, RegistryUnavailableError
from consumer.config import Settings
from consumer.delivery.credentials_api import CredentialsSource
from consumer.delivery.dispatcher import PlatformDispatcher, Unit
from consumer.delivery.http import HttpSender
from consumer.dlq_ops.delivery import build_dispatchers, start_dispatchers
from consumer.dlq_ops.filters import RecordFilter
from consumer.dlq_ops.progress import Progress
from consumer.dlq_ops.ratelimit import TokenBucket
from consumer.dlq_ops.records import DlqReader, DlqRecord
from consumer.dlq_ops.summary import ReplaySummary, Reported
from consumer.engine import EnricherLike
from consumer.enrich.store import StoreUnavailable
from consumer.kafka.dlq import DECODE_PLATFORM, DeadLetter, DeadLetterWriter
from consumer.kafka.offsets import OffsetTracker

log = structlog.get_logger("capi_relay.dlq_replay")


class ReplayUsageError(ValueError):
    """The replay cannot start as asked (unknown platform, missing topic): exit code 2."""


@dataclass
class ReplayOptions:
    """How to replay. ``group`` None means one group per filter set (see `filters`);
    ``commit_skipped`` None means "commit skipped records only in such a per-filter group"."""

    filter: RecordFilter = field(default_factory=RecordFilter)
    topic: str | None = None
    group: str | None = None
    dry_run: bool = False
    rate: float | None = None
    max_replays: int = 3
    commit_skipped: bool | None = None
    max_in_flight: int = 1000
    progress: bool = True
    show: int = 20
    drain_deadline_s: float | None = None
    poll_batch: int = 200
    commit_interval_s: float = 0.5


@dataclass(eq=False)
class _Job:
    """One DLQ record on its way through the replay; ``remaining`` counts open targets."""

    record: DlqRecord
    remaining: int = 0
    event_id: str | None = None
    event_type: str | None = None
    alive: bool = True


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
    ) -> None:
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
        self.enricher = enricher
        self.routing = {t: [p for p in ps if p in self.connectors] for t, ps in settings.routing.items()}
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.summary = ReplaySummary(
            self.topic,
            self.group,
            self.filter.describe(),
            options.dry_run,
            skipped_committed=self.commit_skipped,
        )
        self.tracker = OffsetTracker()
        self._bucket = TokenBucket(options.rate) if options.rate else None
        self._pending = 0
        self._idle = asyncio.Event()
        self._stopping = False
        self._force = asyncio.Event()
        self._background: set[asyncio.Task[Any]] = set()
        self._dispatchers: dict[str, PlatformDispatcher] = {}
        self._writer: DeadLetterWriter | None = None
        self._shown = 0

    # -- control ---------------------------------------------------------------------------------

    def stop(self) -> None:
        """First call: stop reading, let in-flight records finish. Second call: abort now."""
        if self._stopping:
            self._force.set()
            return
        self._stopping = True
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
        kafka = self.settings.kafka
        reader = DlqReader(
            {
                "bootstrap.servers": kafka.bootstrap_servers,
                "group.id": self.group,
                **{k: v for k, v in kafka.extra.items() if k.startswith(("security.", "sasl.", "ssl."))},
            },
            self.topic,
        )
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
            if not self.options.dry_run:
                await sender.start()
                self._writer = DeadLetterWriter(self._producer_config(), self.topic)
                self._writer.start()
                self._dispatchers = build_dispatchers(
                    self.settings,
                    self.connectors,
                    self._targets(),
                    sender,
                    self.credentials,
                    self._on_outcome,
                )
                start_dispatchers(self.settings, self._dispatchers)
            self._idle.set()
            await self._intake(reader, progress)
            await self._drain(progress)
            progress.close(self.summary.handled, self.summary.progress_counts())
        finally:
            await self._shutdown(reader, sender)
            self.summary.elapsed_s = time.monotonic() - started
        return self.summary

    def _producer_config(self) -> dict[str, Any]:
        kafka = self.settings.kafka
        return {
            "bootstrap.servers": kafka.bootstrap_servers,
            **{k: v for k, v in kafka.extra.items() if k.startswith(("security.", "sasl.", "ssl."))},
        }

    async def _intake(self, reader: DlqReader, progress: Progress) -> None:
        last_commit = time.monotonic()
        while not self._stopping and not reader.finished:
            now = time.monotonic()
            if now - last_commit >= self.options.commit_interval_s:
                self._commit(reader)
                last_commit = now
            progress.update(self.summary.handled, self.summary.progress_counts())
            if self._pending >= self.options.max_in_flight:
                await asyncio.sleep(0.02)
                continue
            records = reader.poll(self.options.poll_batch, 0)
            if not records:
                await asyncio.sleep(0.02)
                continue
            await self._ingest(records)
            await asyncio.sleep(0)

    async def _drain(self, progress: Progress) -> None:
        """Wait for in-flight records: without limit after a complete read (their retry budget
        bounds it), up to the drain deadline after a stop; a second stop aborts."""
        deadline = self.options.drain_deadline_s or self.settings.consumer.drain_deadline_s
        loop_started = time.monotonic()
        while self._pending > 0 and not self._force.is_set():
            if self._stopping and time.monotonic() - loop_started > deadline:
                log.warning("replay_drain_deadline", in_flight=self._pending)
                break
            progress.update(self.summary.handled, self.summary.progress_counts())
            idle = asyncio.ensure_future(self._idle.wait())
            force = asyncio.ensure_future(self._force.wait())
            await asyncio.wait({idle, force}, timeout=0.2, return_when=asyncio.FIRST_COMPLETED)
            idle.cancel()
            force.cancel()

    async def _shutdown(self, reader: DlqReader, sender: HttpSender) -> None:
        for dispatcher in self._dispatchers.values():
            await dispatcher.stop()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        try:
            self._commit(reader)
        except Exception as exc:  # a failed final commit only means a rerun resends some records
            log.warning("replay_final_commit_failed", error=str(exc))
        await asyncio.to_thread(reader.close)
        if self._writer is not None:
            await self._writer.close()
        await sender.close()

    def _commit(self, reader: DlqReader) -> None:
        if self.options.dry_run:
            self.tracker.take_dirty()
            return
        dirty = self.tracker.take_dirty()
        if dirty:
            reader.commit({p: off for (_t, p), off in dirty.items()})

    # -- per record ------------------------------------------------------------------------------

    async def _ingest(self, records: list[DlqRecord]) -> None:
        decoded: list[tuple[_Job, dict[str, Any]]] = []
        for record in records:
            if self._stopping:
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
            job = _Job(record, remaining=1, event_id=record.event_id, event_type=record.event_type)
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
            if self._stopping:
                return
            await self._route(job, event)

    async def _enrich(self, events: list[dict[str, Any]]) -> None:
        """Add stored click IDs; a store outage waits and retries (like the relay), never skips."""
        assert self.enricher is not None
        delay = 0.2
        while True:
            try:
                await self.enricher.enrich_batch(events, int(time.time() * 1000))
                return
            except StoreUnavailable as exc:
                if self._stopping:
                    return
                log.warning("click_id_store_unavailable", error=str(exc), retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _decode(self, job: _Job) -> dict[str, Any] | None:
        record = job.record
        delay = 0.5
        while True:
            try:
                event = self.codec.decode(record.source_topic, record.value)
                break
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
            except RegistryUnavailableError as exc:
                if self._stopping:
                    return None
                log.warning("schema_registry_unavailable", error=str(exc), retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        job.event_id = job.event_id or event.get("event_id")
        job.event_type = event.get("type")
        return event

    async def _route(self, job: _Job, event: dict[str, Any]) -> None:
        record = job.record
        if record.platform == DECODE_PLATFORM:
            targets = list(self.routing.get(event["type"], ()))
        else:
            targets = [record.platform]
        job.remaining = len(targets)
        if not targets:
            job.remaining = 1
            self._unit_finished(job)
            return
        now_ms = int(time.time() * 1000)
        for slug in targets:
            try:
                mapped = self.connectors[slug].map_event(event, now_ms)
            except Exception as exc:  # a connector bug must not stop the replay
                mapped = Reject(f"connector error {type(exc).__name__}", code="connector_error")
            if isinstance(mapped, Reject):
                if mapped.code == "outside_window":
                    self.summary.count(slug, "expired")
                    self._report(job, slug, "expired", mapped.reason)
                    self._unit_finished(job)
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
                if self._stopping:
                    return  # not sent: the record stays uncommitted and is replayed next run
            self._pending += 1
            self._idle.clear()
            self._dispatchers[slug].submit(
                Unit(ref=job, item=mapped, size=len(record.value or b"") + 64, platform=slug)
            )

    def _show(self, slug: str, job: _Job, route: str, keys: tuple[str, ...]) -> None:
        if self._shown >= self.options.show:
            return
        self._shown += 1
        self.out.write(
            f"would send  {slug:<10} {job.event_type or '-':<9} {job.event_id or '-'}"
            f"  (dlq {job.record.partition}/{job.record.offset}, route {route or '-'}, "
            f"keys {','.join(keys) or '-'})\n"
        )

    # -- outcomes --------------------------------------------------------------------------------

    def _on_outcome(self, unit: Unit, terminal: str, outcome: ItemOutcome) -> None:
        job: _Job = unit.ref
        self._release()
        if terminal == "delivered":
            self.summary.count(unit.platform, "delivered")
            self._unit_finished(job)
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
        )

    def _failed(
        self,
        job: _Job,
        slug: str,
        stage: str,
        outcome: str,
        reason: str,
        code: str | None,
        *,
        attempts: int = 0,
        http_status: int | None = None,
        exception_class: str = "capi_relay.DeliveryFailure",
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
            self._unit_finished(job)
            return
        letter = DeadLetter(
            topic=record.source_topic,
            partition=record.source_partition,
            offset=record.source_offset,
            key=record.key,
            value=record.value,
            headers=record.headers,
            stage=stage,
            platform=slug,
            outcome=outcome,
            reason=reason,
            exception_class=exception_class,
            attempts=record.attempts + attempts,
            http_status=http_status,
            error_code=code,
            first_failure_ms=record.first_failure_ms,
            last_failure_ms=int(time.time() * 1000),
            event_id=job.event_id,
            event_type=job.event_type,
            replays=replays,
        )
        self._pending += 1
        self._idle.clear()
        task = asyncio.get_running_loop().create_task(self._requeue(job, slug, letter))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _requeue(self, job: _Job, slug: str, letter: DeadLetter) -> None:
        assert self._writer is not None
        try:
            await self._writer.write(letter)
        finally:
            self._release()
        self.summary.count(slug, "requeued")
        self._report(
            job,
            slug,
            "requeued",
            f"failed again ({letter.outcome}), replay {letter.replays}: {letter.reason}",
        )
        self._unit_finished(job)

    def _report(self, job: _Job, slug: str, kind: str, reason: str) -> None:
        if kind in ("unroutable",):
            self.summary.count(slug, kind)
        self.summary.report(
            Reported(kind, slug, job.event_id, job.record.partition, job.record.offset, reason)
        )

    def _release(self) -> None:
        self._pending -= 1
        if self._pending <= 0:
            self._idle.set()

    def _unit_finished(self, job: _Job) -> None:
        job.remaining -= 1
        if job.remaining == 0:
            self.tracker.done((self.topic, job.record.partition), job.record.offset)
            self.summary.finished += 1


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
) -> ReplaySummary:
    """Build a `Replayer` and run it (optionally stopping on SIGINT/SIGTERM)."""
    import signal

    replayer = Replayer(
        settings, options, codec=codec, credentials=credentials, enricher=enricher, out=out, err=err
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
