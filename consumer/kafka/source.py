"""Consuming from Kafka: batches, cooperative-sticky rebalancing, per-partition pause/resume and
a manual offset store.

The consumer is driven from the event loop thread with non-blocking ``consume(n, 0)`` calls:
librdkafka fetches in its own threads, and rebalance callbacks then run on the loop thread, so
the offset tracker needs no locks. Offsets are stored explicitly (only what is finished) and
librdkafka commits stored offsets periodically, on revoke and on close.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from consumer.kafka.offsets import TopicPartition as TP
from consumer.observability.kafka_log import with_logger

PartitionsCallback = Callable[[list[TP]], None]


def consumer_config(
    bootstrap_servers: str, group_id: str, commit_interval_ms: int, extra: Mapping[str, Any]
) -> dict[str, Any]:
    """librdkafka settings for the relay; ``extra`` (SASL, SSL, tuning) wins over defaults."""
    return {
        "bootstrap.servers": bootstrap_servers,
        "group.id": group_id,
        "partition.assignment.strategy": "cooperative-sticky",
        "enable.auto.commit": True,
        "auto.commit.interval.ms": commit_interval_ms,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": False,
        "max.poll.interval.ms": 600_000,
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": 1_000,
        "queued.max.messages.kbytes": 32_768,
        "fetch.wait.max.ms": 100,
        "log.connection.close": False,
        **extra,
    }


class KafkaSource:
    """A thin, typed wrapper over confluent-kafka's Consumer for the engine."""

    def __init__(
        self,
        config: Mapping[str, Any],
        topics: Sequence[str],
        on_assign: PartitionsCallback,
        on_revoke: PartitionsCallback,
        on_lost: PartitionsCallback | None = None,
        *,
        subscribe: bool = True,
    ) -> None:
        self._consumer = Consumer(with_logger(config))
        self._on_assign = on_assign
        self._on_revoke = on_revoke
        self._on_lost = on_lost or on_revoke
        self._paused: set[TP] = set()
        self._topics = list(topics)
        if subscribe:
            self.subscribe()

    def subscribe(self) -> None:
        """Subscribe to the topics (deferred with ``subscribe=False`` until the relay has made
        sure its own topics exist: a topic missing at subscription is only noticed at the next
        periodic metadata refresh, minutes later)."""
        self._consumer.subscribe(
            self._topics,
            on_assign=self._assigned,
            on_revoke=self._revoked,
            on_lost=self._lost,
        )

    @staticmethod
    def _tps(partitions: list[TopicPartition]) -> list[TP]:
        return [(p.topic, p.partition) for p in partitions]

    def _assigned(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._on_assign(self._tps(partitions))

    def _revoked(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        tps = self._tps(partitions)
        self._paused.difference_update(tps)
        self._on_revoke(tps)

    def _lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        tps = self._tps(partitions)
        self._paused.difference_update(tps)
        self._on_lost(tps)

    def consume(self, max_messages: int, timeout: float = 0.0) -> list[Message]:
        """Up to ``max_messages`` messages; error events are returned too (check ``.error()``)."""
        return self._consumer.consume(max_messages, timeout)

    def assignment(self) -> list[TP]:
        """Partitions currently owned."""
        return self._tps(self._consumer.assignment())

    def pause(self, tps: Sequence[TP]) -> None:
        """Stop fetching these partitions (backpressure)."""
        todo = [tp for tp in tps if tp not in self._paused]
        if todo:
            self._consumer.pause([TopicPartition(t, p) for t, p in todo])
            self._paused.update(todo)

    def resume(self, tps: Sequence[TP]) -> None:
        """Fetch these partitions again."""
        todo = [tp for tp in tps if tp in self._paused]
        if todo:
            self._consumer.resume([TopicPartition(t, p) for t, p in todo])
            self._paused.difference_update(todo)

    def seek(self, tp: TP, offset: int) -> None:
        """Move a partition's fetch position back to ``offset`` (a held retry-topic head)."""
        self._consumer.seek(TopicPartition(tp[0], tp[1], offset))

    @property
    def paused(self) -> frozenset[TP]:
        """Partitions paused by us."""
        return frozenset(self._paused)

    def store_offsets(self, offsets: Mapping[TP, int]) -> None:
        """Store finished positions for the next (auto) commit; skips partitions we lost."""
        owned = set(self.assignment())
        todo = [TopicPartition(t, p, o) for (t, p), o in offsets.items() if (t, p) in owned]
        if todo:
            # KafkaException: revoked between the check and the call; its work is dropped
            with contextlib.suppress(KafkaException):
                self._consumer.store_offsets(offsets=todo)

    def commit(self, offsets: Mapping[TP, int] | None = None) -> None:
        """Synchronously commit (the given offsets, or everything stored)."""
        try:
            if offsets:
                self._consumer.commit(
                    offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()],
                    asynchronous=False,
                )
            else:
                self._consumer.commit(asynchronous=False)
        except KafkaException as exc:
            if exc.args and exc.args[0].code() == -168:  # _NO_OFFSET: nothing to commit
                return
            raise

    def close(self) -> None:
        """Leave the group (commits stored offsets first)."""
        self._consumer.close()
