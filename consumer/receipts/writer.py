"""Produces receipts with an idempotent producer and calls back once the broker acknowledged
each one.

Callback-based rather than a future per record so the hot path pays one small object per
(event, platform) — the job, which is also its own delivery callback — not a task or closures.
A request's deliveries come as one batch (`emit_delivered`), encoded from shared byte runs
(`receipts.segments`); one Kafka record per (event, platform) stays, keyed by the event id, so
`trace` and any consumer indexing receipts by event keep reading them as they are.
The engine finishes a unit only in that callback, so a source offset is committed only after its
receipts are durable — "every terminal outcome has a receipt" holds across crashes (at least
once: a crash after the ack and before the commit repeats a receipt; readers deduplicate by
(event_id, platform)). Failed writes are retried, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.base import ItemOutcome
from consumer.delivery.dispatcher import Unit
from consumer.kafka.acked_producer import AckedProducer, Job, OutRecord
from consumer.messages import MessageRef
from consumer.observability import metrics
from consumer.receipts.build import build_receipt, receipt_key
from consumer.receipts.codec import ReceiptCodec
from consumer.receipts.segments import DeliveredReceipts

Finish = Callable[[MessageRef], None]


def _unused(_partition: int, _offset: int) -> None:
    """A receipt job's ``on_acked``: never called, `_ReceiptJob.acked` replaces it."""


@dataclass(slots=True, eq=False)
class _ReceiptJob(Job):
    """One receipt on its way: on the ack, count it and finish the unit it belongs to."""

    tally: metrics.Tally | None = None
    labels: tuple[str, str] = ("", "")  # platform, outcome
    ref: MessageRef | None = None
    finish: Finish | None = None

    def acked(self, partition: int, offset: int) -> None:
        assert self.tally is not None and self.finish is not None and self.ref is not None
        self.tally.add(metrics.RECEIPTS, *self.labels)
        self.finish(self.ref)


class ReceiptWriter:
    """``emit(ref, receipt, on_acked)``: encode, produce, call ``on_acked`` after the broker ack."""

    def __init__(
        self, producer_config: Mapping[str, Any], topic: str, codec: ReceiptCodec | None = None
    ) -> None:
        self.out = AckedProducer(producer_config, topic, "receipts")
        self.topic = topic
        self._codec = codec or ReceiptCodec(None, topic)
        self._acked = metrics.Tally()  # receipts counted per poll, not per ack
        self._runs: DeliveredReceipts | None = None  # built on the first delivered batch
        self._runs_built = False
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

    def emit(self, ref: MessageRef, receipt: dict[str, Any], on_acked: Finish) -> None:
        """Queue one receipt for ``ref``'s message; ``on_acked(ref)`` runs after the broker's ack."""
        self._send(ref, self._codec.encode(receipt), (receipt["platform"], receipt["outcome"]), on_acked)

    def emit_delivered(
        self, platform: str, units: Sequence[Unit], results: Sequence[ItemOutcome], on_acked: Finish
    ) -> None:
        """Queue the delivered receipts of one request's ``units`` (``results``: the platform's
        answers, in the same order); ``on_acked(unit.ref)`` runs after each one's ack."""
        if not self._runs_built:  # the framing may register the schema: not before the first use
            self._runs = DeliveredReceipts.create(self._codec.framing(), self._codec.encode)
            self._runs_built = True
        runs = self._runs
        if runs is None:  # the schema does not split into runs: whole receipts
            from_dicts = self._codec.encode
            for unit, result in zip(units, results, strict=True):
                fields = build_receipt(unit.ref, platform, "delivered", "deliver", unit=unit, result=result)
                self._send(unit.ref, from_dicts(fields), (platform, "delivered"), on_acked)
            return
        labels = (platform, "delivered")
        for unit, value in zip(units, runs.encode(platform, units, results), strict=True):
            self._send(unit.ref, value, labels, on_acked)

    def _send(self, ref: MessageRef, value: bytes, labels: tuple[str, str], on_acked: Finish) -> None:
        position = (ref.topic, ref.partition, ref.offset)  # formatted only if a write fails
        record = OutRecord(receipt_key(ref), value)
        self.out.send(
            _ReceiptJob(record, _unused, position, tally=self._acked, labels=labels, ref=ref, finish=on_acked)
        )

    async def close(self, timeout: float = 10.0) -> int:
        """Flush outstanding receipts (their callbacks run here); returns how many are unacked."""
        return await self.out.close(timeout)
