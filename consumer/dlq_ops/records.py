"""Reading the dead-letter topic back: one parsed view per record, and a bounded reader.

The engine writes context into headers (see `consumer.kafka.dlq`); inspect and replay both need
the same parsed view of it, and both must read a *fixed* range — the end offsets captured when
they start — so a DLQ that keeps growing (or that replay itself appends to) cannot make them run
forever or see their own output.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from confluent_kafka import OFFSET_INVALID, Consumer, KafkaError, KafkaException, Message, TopicPartition

from consumer.kafka import dlq as h
from consumer.observability.kafka_log import with_logger

T = TypeVar("T")
_COORDINATOR_ERRORS = frozenset(
    {
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError._TIMED_OUT,
        KafkaError._WAIT_COORD,
    }
)


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _opt_int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@dataclass(slots=True)
class DlqRecord:
    """One dead-letter record: where it sits in the DLQ, its original bytes and its context."""

    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]
    source_topic: str
    source_partition: int
    source_offset: int
    stage: str
    platform: str
    outcome: str
    reason: str
    error_code: str | None
    attempts: int
    replays: int
    http_status: int | None
    first_failure_ms: int | None
    last_failure_ms: int | None
    event_id: str | None
    event_type: str | None

    @property
    def failure_ms(self) -> int:
        """When this record last failed: the header, else the DLQ record's own timestamp."""
        return self.last_failure_ms or self.timestamp_ms

    @property
    def reason_key(self) -> str:
        """A short, stable grouping key: the error code, else the outcome."""
        return self.error_code or self.outcome or "unknown"

    @classmethod
    def from_parts(
        cls,
        partition: int,
        offset: int,
        timestamp_ms: int,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes | None]] | None,
    ) -> DlqRecord:
        """Parse the context headers (missing ones get neutral defaults, never an error)."""
        hdrs = list(headers or ())
        ctx = h.headers_dict(hdrs)
        return cls(
            partition=partition,
            offset=offset,
            timestamp_ms=timestamp_ms,
            key=key,
            value=value,
            headers=hdrs,
            source_topic=ctx.get(h.H_TOPIC, ""),
            source_partition=_int(ctx.get(h.H_PARTITION), -1),
            source_offset=_int(ctx.get(h.H_OFFSET), -1),
            stage=ctx.get(h.H_STAGE, "unknown"),
            platform=ctx.get(h.H_PLATFORM, h.DECODE_PLATFORM),
            outcome=ctx.get(h.H_OUTCOME, ""),
            reason=ctx.get(h.H_REASON) or ctx.get(h.H_MESSAGE, ""),
            error_code=ctx.get(h.H_ERROR_CODE) or None,
            attempts=_int(ctx.get(h.H_ATTEMPTS)),
            replays=_int(ctx.get(h.H_REPLAYS)),
            http_status=_opt_int(ctx.get(h.H_HTTP_STATUS)),
            first_failure_ms=_opt_int(ctx.get(h.H_FIRST_FAILURE)),
            last_failure_ms=_opt_int(ctx.get(h.H_LAST_FAILURE)),
            event_id=ctx.get(h.H_EVENT_ID) or None,
            event_type=ctx.get(h.H_EVENT_TYPE) or None,
        )

    @classmethod
    def from_message(cls, msg: Message) -> DlqRecord:
        """Parse a consumed Kafka message."""
        _kind, ts = msg.timestamp()
        raw = msg.headers()
        headers = list(raw.items()) if isinstance(raw, dict) else list(raw or ())
        return cls.from_parts(
            msg.partition() or 0,
            msg.offset() or 0,
            int(ts if ts and ts > 0 else 0),
            msg.key(),
            msg.value(),
            [(k, v.encode() if isinstance(v, str) else v) for k, v in headers],
        )


def _retrying(call: Callable[[], T], attempts: int = 30, delay_s: float = 0.5) -> T:
    """Run a group-coordinator call, retrying while the coordinator is moving or loading (a
    fresh or restarting broker says so for a few seconds); other errors raise at once."""
    for attempt in range(attempts):
        try:
            return call()
        except KafkaException as exc:
            err = exc.args[0] if exc.args else None
            retriable = isinstance(err, KafkaError) and (err.retriable() or err.code() in _COORDINATOR_ERRORS)
            if not retriable or attempt == attempts - 1:
                raise
            time.sleep(delay_s)
    raise AssertionError("unreachable")


class DlqReader:
    """Reads a fixed offset range of the dead-letter topic by manual assignment.

    Manual assignment (not a group subscription) keeps the range exact and avoids rebalances;
    the group id is still used to read and commit positions, which is what makes replay
    resumable. Inspect uses it without ever committing.
    """

    def __init__(self, config: Mapping[str, Any], topic: str) -> None:
        self.topic = topic
        self._consumer = Consumer(
            with_logger(
                {
                    "enable.auto.commit": False,
                    "enable.auto.offset.store": False,
                    "enable.partition.eof": False,
                    "auto.offset.reset": "earliest",
                    **config,
                }
            )
        )
        self.start: dict[int, int] = {}
        self.end: dict[int, int] = {}
        self.position: dict[int, int] = {}

    def partitions(self, timeout: float = 10.0) -> list[int]:
        """The topic's partition ids; raises LookupError if the topic does not exist."""
        meta = self._consumer.list_topics(self.topic, timeout=timeout).topics.get(self.topic)
        if meta is None or meta.error is not None or not meta.partitions:
            raise LookupError(f"dead-letter topic {self.topic!r} does not exist")
        return sorted(meta.partitions)

    def plan(self, use_committed: bool, timeout: float = 10.0) -> int:
        """Capture the range to read: from the committed position (or the start of the log) to
        the end offsets as of now. Returns how many offsets that spans."""
        parts = self.partitions(timeout)
        committed: dict[int, int] = {}
        if use_committed:
            tps = _retrying(
                lambda: self._consumer.committed(
                    [TopicPartition(self.topic, p) for p in parts], timeout=timeout
                )
            )
            committed = {
                tp.partition: tp.offset for tp in tps if tp.offset != OFFSET_INVALID and tp.offset >= 0
            }
        for p in parts:
            low, high = self._consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=timeout)
            start = max(low, committed.get(p, low))
            self.start[p], self.end[p], self.position[p] = start, high, start
        todo = [TopicPartition(self.topic, p, self.start[p]) for p in parts if self.start[p] < self.end[p]]
        if todo:
            self._consumer.assign(todo)
        return sum(self.end[p] - self.start[p] for p in parts)

    @property
    def finished(self) -> bool:
        """Every partition reached the end offset captured by `plan`."""
        return all(self.position[p] >= self.end[p] for p in self.end)

    def poll(self, max_messages: int, timeout: float = 0.0) -> list[DlqRecord]:
        """Up to ``max_messages`` records inside the planned range (records past it are dropped)."""
        if self.finished:
            return []
        out: list[DlqRecord] = []
        messages = self._consumer.consume(max_messages, timeout)
        for msg in messages:
            if msg.error() is not None:
                continue
            p, off = msg.partition(), msg.offset()
            if p is None or off is None or p not in self.end or off >= self.end[p] or off < self.position[p]:
                continue
            self.position[p] = off + 1
            out.append(DlqRecord.from_message(msg))
        if not messages:
            self._refresh_positions()
        return out

    def _refresh_positions(self) -> None:
        """When idle, ask librdkafka where it is: offsets that are not records (transaction
        markers, compacted gaps) must not keep a partition 'unfinished' forever."""
        open_parts = [p for p in self.end if self.position[p] < self.end[p]]
        if not open_parts:
            return
        try:
            positions = self._consumer.position([TopicPartition(self.topic, p) for p in open_parts])
        except KafkaException:
            return
        for tp in positions:
            if tp.offset >= 0:
                self.position[tp.partition] = max(self.position[tp.partition], tp.offset)

    def read_all(self, batch: int = 500, idle_timeout_s: float = 15.0) -> Iterator[DlqRecord]:
        """Every record of the planned range (blocking; for inspect)."""
        last = time.monotonic()
        while not self.finished:
            records = self.poll(batch, 0.2)
            if records:
                last = time.monotonic()
                yield from records
            elif time.monotonic() - last > idle_timeout_s:
                raise TimeoutError(f"no progress reading {self.topic!r} for {idle_timeout_s:g}s")

    def commit(self, offsets: Mapping[int, int]) -> None:
        """Synchronously commit next-to-read offsets for the reader's group."""
        if offsets:
            todo = [TopicPartition(self.topic, p, o) for p, o in offsets.items()]
            _retrying(lambda: self._consumer.commit(offsets=todo, asynchronous=False))

    def close(self) -> None:
        """Close the consumer (nothing is committed here)."""
        self._consumer.close()
