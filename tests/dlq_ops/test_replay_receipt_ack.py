"""The replay's receipt discipline without a broker: a (record, platform) outcome finishes — and
its DLQ offset becomes committable — only when its receipt is acknowledged; receipts carry the
original source position and ``replay_of``; a capped failure names the replayed record."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Sequence
from typing import Any, cast

from connectors.base import Item, ItemOutcome, OutcomeKind
from consumer.codec import Codec
from consumer.delivery.dispatcher import Unit
from consumer.dlq_ops.options import ReplayOptions
from consumer.dlq_ops.processor import RecordProcessor
from consumer.dlq_ops.summary import ReplaySummary
from consumer.kafka.offsets import OffsetTracker
from consumer.messages import MessageRef
from consumer.receipts.build import build_receipt
from consumer.receipts.writer import ReceiptWriter
from tests.dlq_ops.helpers import record

DLQ = "capi.dlq"


class HeldReceipts:
    """Keeps emitted receipts and their acknowledgement callbacks for the test to release."""

    def __init__(self) -> None:
        self.held: list[tuple[dict[str, Any], Callable[[], None]]] = []

    def emit(self, ref: MessageRef, receipt: dict[str, Any], on_acked: Callable[[MessageRef], None]) -> None:
        self.held.append((receipt, lambda: on_acked(ref)))

    def emit_delivered(
        self,
        platform: str,
        units: Sequence[Unit],
        results: Sequence[ItemOutcome],
        on_acked: Callable[[MessageRef], None],
    ) -> None:
        for unit, result in zip(units, results, strict=True):
            receipt = build_receipt(unit.ref, platform, "delivered", "deliver", unit=unit, result=result)
            self.emit(unit.ref, receipt, on_acked)


def processor(options: ReplayOptions) -> tuple[RecordProcessor, OffsetTracker, HeldReceipts]:
    tracker = OffsetTracker()
    summary = ReplaySummary(DLQ, "g", "all", options.dry_run)
    codec = cast(Codec, None)  # nothing is decoded here
    proc = RecordProcessor(options, DLQ, summary, tracker, {}, {}, codec, None, True, io.StringIO())
    receipts = HeldReceipts()
    proc.start(None, cast(ReceiptWriter, receipts))
    return proc, tracker, receipts


def sent_unit(proc: RecordProcessor, tracker: OffsetTracker, **letter: Any) -> Unit:
    """A record at DLQ offset 3 handed to meta, as the intake does."""
    rec = record(dlq_offset=3, **letter)
    tracker.add((DLQ, 0), 3)
    ref = proc.admit(rec)
    ref.remaining, ref.event_time_ms = 1, 1_700_000_000_000
    item = Item("ORD-1", "purchase", 1_700_000_000_000, {}, match_keys=("email",))
    return Unit(ref=ref, item=item, size=10, platform="meta", attempts=1, last_status=200)


def outcome(proc: RecordProcessor, unit: Unit, terminal: str, result: ItemOutcome) -> None:
    """The dispatcher's callback, then let the router's background work run."""
    assert proc.outcomes is not None

    async def settle() -> None:
        assert proc.outcomes is not None
        proc.outcomes.on_outcomes(terminal, [unit], [result])
        while proc.outcomes._background:
            await asyncio.sleep(0)

    asyncio.run(settle())


def test_delivered_is_committable_only_after_its_receipt_is_acked() -> None:
    proc, tracker, receipts = processor(ReplayOptions())
    unit = sent_unit(proc, tracker, replays=1)
    outcome(proc, unit, "delivered", ItemOutcome(OutcomeKind.DELIVERED, platform_ref="fbtrace"))
    assert tracker.committable((DLQ, 0)) is None and proc.pending == 1 and not proc.idle.is_set()
    ((receipt, acked),) = receipts.held
    assert (receipt["outcome"], receipt["stage"], receipt["platform_ref"]) == (
        "delivered",
        "deliver",
        "fbtrace",
    )
    assert (receipt["source_topic"], receipt["source_offset"]) == ("events.purchase", 7)  # the original
    assert receipt["replay_of"] == {"topic": DLQ, "partition": 0, "offset": 3, "replay": 2}
    assert receipt["dlq_topic"] is None and receipt["match_keys"] == ["email"]
    acked()
    assert tracker.committable((DLQ, 0)) == 4 and proc.pending == 0 and proc.idle.is_set()
    assert proc.summary.finished == 1


def test_capped_failure_names_the_replayed_record() -> None:
    proc, tracker, receipts = processor(ReplayOptions(max_replays=2))
    unit = sent_unit(proc, tracker, replays=1)
    outcome(proc, unit, "rejected", ItemOutcome(OutcomeKind.REJECTED, reason="bad pixel", code="100"))
    ((receipt, acked),) = receipts.held
    assert (receipt["outcome"], receipt["code"], receipt["reason"]) == ("rejected", "100", "bad pixel")
    assert (receipt["dlq_topic"], receipt["dlq_partition"], receipt["dlq_offset"]) == (DLQ, 0, 3)
    assert tracker.committable((DLQ, 0)) is None
    acked()
    assert tracker.committable((DLQ, 0)) == 4 and proc.summary.totals() == {"capped": 1}


def test_dry_run_writes_none() -> None:
    proc, tracker, receipts = processor(ReplayOptions(dry_run=True))
    unit = sent_unit(proc, tracker)
    outcome(proc, unit, "exhausted", ItemOutcome(OutcomeKind.RETRY, reason="HTTP 503", code="503"))
    assert receipts.held == [] and tracker.committable((DLQ, 0)) == 4
