"""The control topic: a compacted, single-partition topic (``topics.control``, default
``capi.control``) holding the latest pause decision per (consumer group, platform).

Why a topic: the relay already depends on Kafka and nothing else is shared by every replica
and survives a restart. Compaction keeps one record per key forever, so a relay starting next
year still reads "meta is paused". One partition gives every replica the same order of
decisions: the last record on the topic wins. At start the relay reads the topic to its end
before it consumes events (a restart never sends a paused platform's events); afterwards it
follows it, polling without blocking from the event loop like the engine's consumer does.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import Mapping
from typing import Any

import structlog
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from consumer.control.state import PauseRecord, PlatformControl, now_ms
from consumer.observability.kafka_log import with_logger

log = structlog.get_logger("capi_relay.control")

TOPIC_CONFIG = {"cleanup.policy": "compact"}


class ControlTopicError(RuntimeError):
    """The control topic could not be read, created or written."""


def ensure_control_topic(admin_config: Mapping[str, Any], topic: str, timeout_s: float = 15.0) -> bool:
    """Create the compacted control topic if it is missing; True if it was created."""
    admin = AdminClient(with_logger(dict(admin_config)))
    try:
        if topic in admin.list_topics(timeout=timeout_s).topics:
            return False
        future = admin.create_topics(
            [NewTopic(topic, num_partitions=1, replication_factor=-1, config=TOPIC_CONFIG)],
            request_timeout=timeout_s,
        )[topic]
        future.result(timeout=timeout_s)
    except KafkaException as exc:
        if "TOPIC_ALREADY_EXISTS" in str(exc):
            return False
        raise ControlTopicError(f"control topic {topic} could not be created ({exc})") from None
    return True


class ControlTopic:
    """Reads, follows and writes the pause decisions of one consumer group."""

    def __init__(
        self, client_config: Mapping[str, Any], topic: str, group_id: str, control: PlatformControl
    ) -> None:
        self.topic = topic
        self._prefix = f"{group_id}/"
        self._control = control
        self._client_config = dict(client_config)
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None

    def key(self, slug: str) -> bytes:
        """The record key: this group's decisions never touch another group's."""
        return (self._prefix + slug).encode()

    def load(self, timeout_s: float = 15.0) -> int:
        """Read every record up to the current end (blocking; run in a thread at start)."""
        consumer = Consumer(
            with_logger(
                {
                    **self._client_config,
                    "group.id": f"{self._prefix}control-{uuid.uuid4().hex[:8]}",
                    "enable.auto.commit": False,
                    "enable.partition.eof": True,
                }
            )
        )
        self._consumer = consumer
        deadline = time.monotonic() + timeout_s
        ends = self._ends(consumer, deadline)
        partitions = [TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in ends]
        consumer.assign(partitions)
        applied = 0
        pending = {p for p, high in ends.items() if high > 0}
        while pending:
            if time.monotonic() > deadline:
                raise ControlTopicError(f"control topic {self.topic} could not be read to its end")
            messages = consumer.consume(500, 1.0)
            if not messages:
                positions = consumer.position([TopicPartition(self.topic, p) for p in pending])
                pending = {tp.partition for tp in positions if tp.offset < ends[tp.partition]}
                continue
            for msg in messages:
                error, partition, offset = msg.error(), msg.partition() or 0, msg.offset() or 0
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        pending.discard(partition)
                    continue
                applied += self._apply(msg.key(), msg.value())
                if offset + 1 >= ends.get(partition, 0):
                    pending.discard(partition)
        return applied

    def _ends(self, consumer: Consumer, deadline: float) -> dict[int, int]:
        """Each partition's end offset; retried until ``deadline`` because a topic created a
        moment ago has no leader yet (metadata and watermark requests fail meanwhile)."""
        problem = "no answer"
        while True:
            try:
                metadata = consumer.list_topics(self.topic, timeout=5).topics.get(self.topic)
                if metadata is not None and metadata.error is None and metadata.partitions:
                    return {
                        p: consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=5)[1]
                        for p in metadata.partitions
                    }
                problem = str(metadata.error) if metadata is not None else "does not exist"
            except KafkaException as exc:
                problem = str(exc)
            if time.monotonic() > deadline:
                raise ControlTopicError(f"control topic {self.topic} could not be read ({problem})")
            time.sleep(0.2)

    def poll(self) -> int:
        """Apply records that arrived since (non-blocking)."""
        if self._consumer is None:
            return 0
        applied = 0
        for msg in self._consumer.consume(100, 0):
            if msg.error() is None:
                applied += self._apply(msg.key(), msg.value())
        return applied

    async def follow(self, interval_s: float = 0.5) -> None:
        """Poll for new decisions while the relay runs."""
        while True:
            try:
                self.poll()
            except KafkaException as exc:  # broker trouble: the engine reports it; keep state
                log.warning("control_topic_poll_failed", error=str(exc))
            await asyncio.sleep(interval_s)

    def _apply(self, key: bytes | None, value: bytes | None) -> int:
        if key is None or not key.startswith(self._prefix.encode()) or value is None:
            return 0
        slug = key[len(self._prefix) :].decode()
        try:
            data = json.loads(value)
            record = PauseRecord(
                paused=bool(data["paused"]),
                reason=data.get("reason"),
                at_ms=int(data.get("at_ms", 0)),
                by=data.get("by"),
            )
        except (ValueError, KeyError, TypeError):
            log.warning("control_record_unreadable", key=key.decode(errors="replace"))
            return 0
        self._control.apply(slug, record)
        return 1

    def publish(self, slug: str, paused: bool, reason: str | None, timeout_s: float = 15.0) -> PauseRecord:
        """Write a decision and wait for the broker's acknowledgement (blocking: use a thread)."""
        record = PauseRecord(paused, reason, now_ms(), socket.gethostname())
        if self._producer is None:
            self._producer = Producer(
                with_logger({**self._client_config, "acks": "all", "enable.idempotence": True})
            )
        errors: list[str] = []

        def delivered(err: Any, _msg: Any) -> None:
            if err is not None:
                errors.append(str(err))

        value = json.dumps(
            {"platform": slug, "paused": paused, "reason": reason, "at_ms": record.at_ms, "by": record.by}
        ).encode()
        self._producer.produce(self.topic, key=self.key(slug), value=value, on_delivery=delivered)
        if self._producer.flush(timeout_s) != 0 or errors:
            raise ControlTopicError(
                f"the decision could not be written to {self.topic}: {errors[0] if errors else 'timed out'}"
            )
        return record

    def close(self) -> None:
        """Close the follower and flush the producer."""
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
        if self._producer is not None:
            self._producer.flush(5)
            self._producer = None
