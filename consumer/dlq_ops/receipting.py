"""Receipts of a replay: one per terminal (record, platform) outcome `dlq replay` reaches, on
the relay's receipts topic, through the relay's `ReceiptWriter` and codec.

They look like the relay's receipts — same key (the event id, or the ORIGINAL
``topic-partition-offset`` for an undecodable message), same ``source_*`` (the original consumed
position, from the dead-letter record's context headers) — plus ``replay_of``, the dead-letter
record that was replayed. That is what lets `capi-relay trace` show an event delivered after an
operator fixed a problem and replayed it, instead of the stale dead-lettered fate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from consumer.dlq_ops.jobs import Job
from consumer.receipts.build import build_receipt
from consumer.receipts.writer import ReceiptWriter


@dataclass(frozen=True, slots=True)
class ReplayRef:
    """The message reference `build_receipt` and `receipt_key` read, for a replayed record."""

    topic: str
    partition: int
    offset: int
    event_id: str | None
    event_type: str | None
    event_time_ms: int | None
    enriched: tuple[str, ...]

    @classmethod
    def of(cls, job: Job) -> ReplayRef:
        """The original source position and what the replay learnt about the event."""
        record = job.record
        return cls(
            topic=record.source_topic,
            partition=record.source_partition,
            offset=record.source_offset,
            event_id=job.event_id,
            event_type=job.event_type,
            event_time_ms=job.event_time_ms,
            enriched=job.enriched,
        )


class ReplayReceipts:
    """Builds and emits the receipts of one replay run over ``dlq_topic``; the caller's
    ``on_acked`` runs once the broker acknowledged the receipt (the record may be committed then)."""

    def __init__(self, writer: ReceiptWriter, dlq_topic: str) -> None:
        self.writer = writer
        self.dlq_topic = dlq_topic

    def receipt(
        self,
        job: Job,
        platform: str,
        outcome: str,
        stage: str,
        *,
        unit: Any = None,
        result: Any = None,
        reason: str | None = None,
        code: str | None = None,
        requeued: tuple[int, int] | None = None,
    ) -> dict[str, Any]:
        """The receipt dict. A failure names its dead letter: the re-queued copy (``requeued``,
        its partition and offset in the same topic) or else the replayed record, which stays
        the event's last dead letter (capped, expired)."""
        record = job.record
        dlq = None
        if outcome != "delivered":
            partition, offset = requeued if requeued is not None else (record.partition, record.offset)
            dlq = (self.dlq_topic, partition, offset)
        receipt = build_receipt(
            ReplayRef.of(job),
            platform,
            outcome,
            stage,
            unit=unit,
            result=result,
            reason=reason,
            code=code,
            dlq=dlq,
        )
        receipt["replay_of"] = {
            "topic": self.dlq_topic,
            "partition": record.partition,
            "offset": record.offset,
            "replay": record.replays + 1,
        }
        return receipt

    def emit(self, job: Job, receipt: dict[str, Any], on_acked: Callable[[], None]) -> None:
        """Queue ``receipt`` (keyed like the relay's receipt of the same event)."""
        self.writer.emit(ReplayRef.of(job), receipt, on_acked)

    @property
    def pending(self) -> int:
        """Receipts queued or produced and not yet acknowledged."""
        return self.writer.pending

    async def close(self, timeout: float = 10.0) -> int:
        """Flush (acknowledgement callbacks run here); returns how many stayed unacknowledged."""
        return await self.writer.close(timeout)
