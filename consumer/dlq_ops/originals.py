"""Fetching the original of a dead letter written without its value.

A record too large for the dead-letter topic is dead-lettered without its value
(``capi.value_omitted: too_large``); its ``__connect.errors.topic/partition/offset`` headers
point at the original in the source topic. Replay reads it back from there while the source
topic's retention still holds it, so the normal decoder sees the original bytes; when it is
gone, replay says so by name (topic, partition, offset) instead of failing on an empty value.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import structlog
from confluent_kafka import Consumer, TopicPartition

from consumer.dlq_ops.records import DlqRecord
from consumer.kafka.dlq import H_VALUE_OMITTED, headers_dict
from consumer.observability.kafka_log import with_logger

log = structlog.get_logger("capi_relay.dlq")


def value_omitted(record: DlqRecord) -> bool:
    """True when the dead letter was written without the original's value."""
    return record.value is None and bool(headers_dict(record.headers).get(H_VALUE_OMITTED))


def fetch_original(
    config: Mapping[str, Any], topic: str, partition: int, offset: int, timeout_s: float = 10.0
) -> bytes | None:
    """The value at ``topic``/``partition``/``offset``, or None when it is no longer there."""
    consumer = Consumer(
        with_logger(
            {
                **config,
                "group.id": "capi-relay-dlq-originals",
                "enable.auto.commit": False,
                "auto.offset.reset": "error",
                "receive.message.max.bytes": 2_147_483_647,
            }
        )
    )
    try:
        consumer.assign([TopicPartition(topic, partition, offset)])
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error() is not None:
                return None  # offset out of range: retention removed it
            return msg.value() if msg.offset() == offset else None
        return None
    finally:
        consumer.close()


def restore_originals(config: Mapping[str, Any], records: list[DlqRecord]) -> None:
    """Put the original value back into every record that was dead-lettered without it."""
    for record in records:
        if not value_omitted(record):
            continue
        value = fetch_original(config, record.source_topic, record.source_partition, record.source_offset)
        if value is None:
            log.error(
                "dlq_original_unavailable",
                source=f"{record.source_topic}-{record.source_partition}@{record.source_offset}",
                reason="value omitted (too large) and no longer in the source topic",
            )
            continue
        record.value = value
