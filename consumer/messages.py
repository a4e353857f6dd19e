"""What the engine tracks per message and partition, and the interfaces it drives.

Kept apart from the engine so the DLQ replay, the receipts and the tests can name a message
reference or the engine's limits without importing the whole intake loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from consumer.kafka.dlq import DECODE_PLATFORM, DeadLetter
from consumer.kafka.offsets import TopicPartition as TP
from consumer.kafka.retry_topic import RetryInfo


class Source(Protocol):
    """What the engine needs from the Kafka source (KafkaSource implements it)."""

    def consume(self, max_messages: int, timeout: float = 0.0) -> list[Any]: ...
    def assignment(self) -> list[TP]: ...
    def pause(self, tps: Sequence[TP]) -> None: ...
    def resume(self, tps: Sequence[TP]) -> None: ...
    def seek(self, tp: TP, offset: int) -> None: ...
    def store_offsets(self, offsets: Mapping[TP, int]) -> None: ...
    def commit(self, offsets: Mapping[TP, int] | None = None) -> None: ...
    def close(self) -> None: ...


class EnricherLike(Protocol):
    """The enrichment step (consumer.enrich.Enricher implements it)."""

    async def enrich_batch(self, events: list[dict[str, Any]], now_ms: int) -> Any: ...


@dataclass(slots=True)
class PartitionRun:
    """One ownership period of a partition; revocation ends it and its work becomes moot."""

    alive: bool = True


@dataclass(frozen=True, slots=True)
class Replayed:
    """What `dlq replay` knows of a dead-letter record it reads back: where it sits in the
    dead-letter topic, the platform that failed (`DECODE_PLATFORM`: every routed platform), how
    often it was replayed and what its earlier passes cost (carried over when it is re-queued)."""

    topic: str
    partition: int
    offset: int
    platform: str
    replays: int = 0
    attempts: int = 0
    first_failure_ms: int | None = None


@dataclass(slots=True, eq=False)
class MessageRef:
    """A consumed message and how many of its units are still open — for every driver: a source
    record, a retry-topic record (``retry``) or a dead-letter record `dlq replay` reads back
    (``replay``)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]
    size: int
    run: PartitionRun
    event_id: str | None = None
    event_type: str | None = None
    event_time_ms: int | None = None
    remaining: int = 0
    enriched: tuple[str, ...] = ()  # click-ID kinds enrichment added (names, for receipts)
    # A record of the retry topic: topic/partition/offset above are the event's original source
    # position (what receipts and dead letters name); ``at`` is where it was consumed (what
    # the offset tracker commits) and ``retry`` which platform it waits for, and since when.
    # A record `dlq replay` reads back: ``at`` is its dead-letter position, ``replay`` the rest.
    at: tuple[str, int, int] | None = None
    retry: RetryInfo | None = None
    replay: Replayed | None = None
    # The receipt runs that are this message's own (head, tail, replay), encoded by the first of
    # its platforms to be delivered and joined into the others' receipts (receipts.segments).
    receipt_runs: tuple[bytes, bytes, bytes] | None = None

    @property
    def tp(self) -> TP:
        """The partition this message was consumed from (and whose offset it holds back)."""
        return (self.at[0], self.at[1]) if self.at is not None else (self.topic, self.partition)

    @property
    def consumed_offset(self) -> int:
        """The offset it was consumed at."""
        return self.at[2] if self.at is not None else self.offset

    @property
    def only_platform(self) -> str | None:
        """The one platform this message goes to (a retry record's, a replayed record's), or
        None: every platform routed for its event type."""
        if self.retry is not None:
            return self.retry.platform
        if self.replay is not None and self.replay.platform != DECODE_PLATFORM:
            return self.replay.platform
        return None

    @property
    def alive(self) -> bool:
        """False once the partition was revoked."""
        return self.run.alive

    def dead_letter(self, **context: Any) -> DeadLetter:
        """A dead-letter record for this message: its source position, original key, value and
        headers, the event's id and type when known, plus the given failure context."""
        return DeadLetter(
            topic=self.topic,
            partition=self.partition,
            offset=self.offset,
            key=self.key,
            value=self.value,
            headers=self.headers,
            event_id=self.event_id,
            event_type=self.event_type,
            **context,
        )


@dataclass(slots=True)
class EngineLimits:
    """Consumption and backpressure knobs."""

    batch_size: int = 500
    max_in_flight_events: int = 20_000
    max_in_flight_bytes: int = 64 * 1024 * 1024
    idle_sleep_s: float = 0.02
    store_interval_s: float = 0.2
    enrich_retry_max_s: float = 30.0
