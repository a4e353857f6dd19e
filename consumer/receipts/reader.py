"""Reading receipts back from the topic for one event id.

`trace` scans the topic (from the beginning, or from ``--since``) up to the end offsets seen at
start and keeps the records whose key is the event id — comparing raw keys, decoding only
matches. That is fine for a test cluster and for short ``--since`` windows; in production,
platform teams index receipts in their own store (see docs/ledger-and-receipts.md).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from consumer.observability.kafka_log import with_logger
from consumer.receipts.codec import ReceiptCodec


class ReceiptTopicMissing(LookupError):
    """The receipts topic does not exist (receipts never written, or another cluster)."""


def read_receipts(
    consumer_config: Mapping[str, Any],
    topic: str,
    key: str,
    codec: ReceiptCodec,
    *,
    since_ms: int | None = None,
    timeout_s: float = 60.0,
) -> tuple[list[dict[str, Any]], int]:
    """Receipts keyed ``key`` in ``topic``, oldest first, and how many records were scanned."""
    config = {
        "group.id": f"capi-relay-trace-{uuid.uuid4().hex[:8]}",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": False,
        **consumer_config,
    }
    consumer = Consumer(with_logger(config))
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        info = metadata.topics.get(topic)
        if info is None or info.error is not None or not info.partitions:
            raise ReceiptTopicMissing(f"receipts topic {topic!r} does not exist")
        partitions = sorted(info.partitions)
        ends: dict[int, int] = {}
        starts: dict[int, int] = {}
        for p in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            ends[p], starts[p] = high, low
        if since_ms is not None:
            found = consumer.offsets_for_times([TopicPartition(topic, p, since_ms) for p in partitions], 10)
            for tp in found:
                starts[tp.partition] = tp.offset if tp.offset >= 0 else ends[tp.partition]
        todo = {p for p in partitions if starts[p] < ends[p]}
        if not todo:
            return [], 0
        consumer.assign(
            [TopicPartition(topic, p, starts[p] if starts[p] >= 0 else OFFSET_BEGINNING) for p in todo]
        )
        wanted = key.encode()
        found_records: list[tuple[int, int, int, dict[str, Any]]] = []
        scanned = 0
        deadline = time.monotonic() + timeout_s
        while todo and time.monotonic() < deadline:
            for msg in consumer.consume(1000, 0.5):
                if msg.error() is not None:
                    continue
                p, off = int(msg.partition() or 0), int(msg.offset() or 0)
                if p in todo and off >= ends[p] - 1:
                    todo.discard(p)
                if off >= ends[p]:
                    continue
                scanned += 1
                value = msg.value()
                if msg.key() == wanted and value:
                    receipt = codec.decode(value)
                    found_records.append((int(receipt.get("receipt_time_ms") or 0), p, off, receipt))
        found_records.sort(key=lambda r: (r[0], r[1], r[2]))
        return [r[3] for r in found_records], scanned
    finally:
        consumer.close()
