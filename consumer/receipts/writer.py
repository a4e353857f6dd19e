"""Produces receipts with an idempotent producer and calls back once the broker acknowledged
each one.

Callback-based rather than a future per record so the hot path pays one small object per
(event, platform) — the job, which is also its own delivery callback — not a task or closures.
The engine finishes a unit only in that callback, so a source offset is committed only after its
receipts are durable — "every terminal outcome has a receipt" holds across crashes (at least
once: a crash after the ack and before the commit repeats a receipt; readers deduplicate by
(event_id, platform)). Failed writes are retried, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from consumer.kafka.acked_producer import AckedProducer, Job, OutRecord
from consumer.messages import MessageRef
from consumer.observability import metrics
from consumer.receipts.build import receipt_key
from consumer.receipts.codec import ReceiptCodec


def _unused(_partition: int, _offset: int) -> None:
    """A receipt job's ``on_acked``: never called, `_ReceiptJob.acked` replaces it."""


@dataclass(slots=True, eq=False)
class _ReceiptJob(Job):
    """One receipt on its way: on the ack, count it and finish the unit it belongs to."""

    tally: metrics.Tally | None = None
    labels: tuple[str, str] = ("", "")  # platform, outcome
    finish: Callable[[], None] | None = None

    def acked(self, partition: int, offset: int) -> None:
        assert self.tally is not None and self.finish is not None
        self.tally.add(metrics.RECEIPTS, *self.labels)
        self.finish()


class ReceiptWriter:
    """``emit(ref, receipt, on_acked)``: encode, produce, call ``on_acked`` after the broker ack."""

    def __init__(
        self, producer_config: Mapping[str, Any], topic: str, codec: ReceiptCodec | None = None
    ) -> None:
        self.out = AckedProducer(producer_config, topic, "receipts")
        self.topic = topic
        self._codec = codec or ReceiptCodec(None, topic)
        self._acked = metrics.Tally()  # receipts counted per poll, not per ack
        self.out.after_poll = self._acked.flush

    def prepare(self) -> int | None:
        """Size the producer to the topic's ``max.message.bytes`` (blocking; before `start`)."""
        return self.out.prepare()

    def start(self) -> None:
        """Serve delivery callbacks on the running loop."""
        self.out.start()

    @property
    def pending(self) -> int:
        """Receipts produced or queued and not yet acknowledged."""
        return self.out.pending

    @property
    def written(self) -> int:
        """Receipts acknowledged so far."""
        return self.out.written

    @property
    def errors(self) -> int:
        """Failed writes so far (each retried)."""
        return self.out.errors

    @property
    def stalled_s(self) -> float:
        """How long the oldest failing receipt write has been failing (0: none)."""
        return self.out.stalled_s

    def emit(self, ref: MessageRef, receipt: dict[str, Any], on_acked: Callable[[], None]) -> None:
        """Queue one receipt for ``ref``'s message; ``on_acked`` runs after the broker's ack."""
        record = OutRecord(receipt_key(ref), self._codec.encode(receipt))
        labels = (receipt["platform"], receipt["outcome"])
        position = (ref.topic, ref.partition, ref.offset)  # formatted only if a write fails
        self.out.send(
            _ReceiptJob(record, _unused, position, tally=self._acked, labels=labels, finish=on_acked)
        )

    async def close(self, timeout: float = 10.0) -> int:
        """Flush outstanding receipts (their callbacks run here); returns how many are unacked."""
        return await self.out.close(timeout)
