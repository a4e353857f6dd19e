"""The receipt writer on a real broker: each receipt finishes its unit only on the broker's ack
(the job is its own delivery callback), is counted per (platform, outcome), and a receipt the
topic refuses is retried and logged with its source position — formatted only then."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource
from structlog.testing import capture_logs

from consumer.kafka.acked_producer import where
from consumer.observability import metrics
from consumer.receipts.build import build_receipt
from consumer.receipts.codec import ReceiptCodec
from consumer.receipts.writer import ReceiptWriter


def _ref(offset: int) -> SimpleNamespace:
    return SimpleNamespace(
        event_id=f"ORD-{offset}", event_type="purchase", event_time_ms=1_700_000_000_000,
        topic="events.purchase", partition=2, offset=offset, enriched=("fbc",), replay=None,
    )  # fmt: skip


def _receipts_counted(platform: str, outcome: str) -> float:
    return metrics.RECEIPTS.labels(platform, outcome)._value.get()  # type: ignore[no-any-return]


def test_positions_are_formatted_like_the_dead_letter_writers() -> None:
    assert where(("events.purchase", 2, 41)) == "events.purchase-2@41"
    assert where("events.lead-0@7") == "events.lead-0@7"


async def test_each_receipt_finishes_on_its_ack_and_is_counted(kafka_bootstrap: str, new_topic: Any) -> None:
    topic = new_topic()
    writer = ReceiptWriter({"bootstrap.servers": kafka_bootstrap}, topic)
    await asyncio.to_thread(writer.prepare)
    writer.start()
    before = _receipts_counted("meta", "delivered")
    finished: list[int] = []
    for offset in (5, 6, 7):
        ref = _ref(offset)
        receipt = build_receipt(ref, "meta", "delivered", "deliver")
        writer.emit(ref, receipt, lambda _ref, o=offset: finished.append(o))
    assert finished == []  # nothing finishes before the broker acknowledged it
    for _ in range(200):
        if len(finished) == 3:
            break
        await asyncio.sleep(0.05)
    assert sorted(finished) == [5, 6, 7] and writer.pending == 0 and writer.written == 3
    assert await writer.close() == 0
    assert _receipts_counted("meta", "delivered") - before == 3

    consumer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": "receipt-acks-probe"})
    consumer.assign([TopicPartition(topic, 0, 0)])
    got: dict[bytes, dict[str, Any]] = {}
    for _ in range(30):
        msg = consumer.poll(1.0)
        if msg is not None and msg.error() is None:
            got[msg.key()] = ReceiptCodec().decode(msg.value())
        if len(got) == 3:
            break
    consumer.close()
    assert sorted(got) == [b"ORD-5", b"ORD-6", b"ORD-7"]
    assert got[b"ORD-6"]["source_offset"] == 6 and got[b"ORD-6"]["enrichment_added"] == ["fbc"]


async def test_a_refused_receipt_is_retried_and_logged_with_its_position(
    kafka_bootstrap: str, kafka_admin: AdminClient, new_topic: Any
) -> None:
    topic = new_topic(config={"max.message.bytes": "100"})  # smaller than any receipt
    writer = ReceiptWriter({"bootstrap.servers": kafka_bootstrap}, topic)
    await asyncio.to_thread(writer.prepare)
    writer.start()
    finished: list[bool] = []
    ref = _ref(41)
    with capture_logs() as logs:
        receipt = build_receipt(ref, "meta", "delivered", "deliver")
        writer.emit(ref, receipt, lambda _ref: finished.append(True))
        for _ in range(200):
            if writer.errors:
                break
            await asyncio.sleep(0.05)
    assert writer.errors > 0 and not finished and writer.pending == 1
    failed = [e for e in logs if e["event"] == "output_write_failed"]
    assert failed and failed[0]["position"] == "events.purchase-2@41" and failed[0]["kind"] == "receipts"

    entry = ConfigEntry("max.message.bytes", "1048588", incremental_operation=AlterConfigOpType.SET)
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=[entry])
    kafka_admin.incremental_alter_configs([resource])[resource].result(timeout=30)
    for _ in range(600):  # retried with back-off (up to 5 s between attempts)
        if finished:
            break
        await asyncio.sleep(0.05)
    assert finished == [True] and writer.pending == 0
    assert await writer.close() == 0
