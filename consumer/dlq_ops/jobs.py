"""What one replay run is asked to do (`ReplayOptions`) and one record's state on its way
through it (`Job`) — shared by the processor, the replayer and the receipts it writes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from consumer.dlq_ops.filters import RecordFilter
from consumer.dlq_ops.records import DlqRecord
from consumer.kafka.dlq import DeadLetter


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
    use_ledger: bool = True  # skip platforms the delivery ledger says already accepted the event


@dataclass(eq=False)
class Job:
    """One DLQ record on its way through the replay; ``remaining`` counts open targets.

    ``event_time_ms`` and ``enriched`` (click-ID kinds the replay's enrichment added) are known
    once the record is decoded and enriched; receipts carry them like the relay's do."""

    record: DlqRecord
    remaining: int = 0
    event_id: str | None = None
    event_type: str | None = None
    alive: bool = True
    event_time_ms: int | None = None
    enriched: tuple[str, ...] = ()

    def requeue_letter(
        self,
        platform: str,
        stage: str,
        outcome: str,
        reason: str,
        code: str | None,
        *,
        attempts: int = 0,
        http_status: int | None = None,
        exception_class: str = "capi_relay.DeliveryFailure",
    ) -> DeadLetter:
        """The dead letter that re-queues this record after it failed again on ``platform``:
        the original source position, bytes and headers, ``replays`` + 1, attempts added up."""
        record = self.record
        return DeadLetter(
            topic=record.source_topic,
            partition=record.source_partition,
            offset=record.source_offset,
            key=record.key,
            value=record.value,
            headers=record.headers,
            stage=stage,
            platform=platform,
            outcome=outcome,
            reason=reason,
            exception_class=exception_class,
            attempts=record.attempts + attempts,
            http_status=http_status,
            error_code=code,
            first_failure_ms=record.first_failure_ms,
            last_failure_ms=int(time.time() * 1000),
            event_id=self.event_id,
            event_type=self.event_type,
            replays=record.replays + 1,
        )
