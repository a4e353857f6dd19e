"""One idempotent producer whose records count only once the broker acknowledged them — shared by
the dead-letter writer, the receipt writer (and any other output topic the relay must not lose a
record on).

Why one class: a source offset waits for these acknowledgements (invariant 1), so a record that
is neither acknowledged nor retried holds its partition for good. Every failure therefore ends in
exactly one of: retried after a back-off (logged as an error with the source position and counted
in ``capi_output_write_errors_total``), or — when the broker says the record is too large —
replaced by the smaller record its owner offers (the dead-letter writer drops the value). Nothing
stays silently in flight, and ``stalled_s`` tells the engine (pause intake) and readiness
(not ready) how long an output has been unwritable.

The producer's ``message.max.bytes`` follows the topic's ``max.message.bytes`` (read once with
the admin client by `prepare`), so records the broker would take are not refused by librdkafka's
1 MB default, and records it would not take are shrunk before they are sent.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, ConfigResource

from consumer.observability import metrics
from consumer.observability.kafka_log import RateLimit, with_logger

log = structlog.get_logger("capi_relay.output")

Headers = Sequence[tuple[str, str | bytes | None]]
OnAcked = Callable[[int, int], None]
Position = str | tuple[str, int, int]
"""The source message a record belongs to: "topic-partition@offset", or (topic, partition,
offset) for the hot path (receipts), formatted only when an error is logged."""

# How long an output may fail before the engine pauses intake and readiness turns false. Short:
# every message consumed meanwhile would only wait for the same broken topic.
STALL_PAUSE_S = 5.0
_TOO_LARGE = {KafkaError.MSG_SIZE_TOO_LARGE, getattr(KafkaError, "RECORD_LIST_TOO_LARGE", -10_000)}
_BASE_CONFIG: dict[str, Any] = {
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 20,
    "compression.type": "lz4",
    "log.connection.close": False,
}


@dataclass(slots=True)
class OutRecord:
    """One record as produced: key, value and headers."""

    key: bytes | None
    value: bytes | None
    headers: Headers | None = None
    partition: int | None = None  # pinned (the retry topic's delay tiers); None: by key


@dataclass(slots=True, eq=False)
class Job:
    """A record on its way, with what to do on ack and, if it is too large, its smaller form.

    The job is its own delivery callback (``__call__``): librdkafka calls it with the outcome
    and it hands that to the producer that sent it, so a record costs no closure."""

    record: OutRecord
    on_acked: OnAcked
    position: Position  # the source message it belongs to, for error logs
    smaller: Callable[[int], OutRecord | None] | None = None  # level 1, 2, … → a smaller record
    shrunk: int = 0
    delay_s: float = 0.2
    failing_since: float | None = None
    owner: AckedProducer | None = None  # set by `AckedProducer.send`

    def acked(self, partition: int, offset: int) -> None:
        """The broker acknowledged the record (subclasses may do more per record)."""
        self.on_acked(partition, offset)

    def __call__(self, err: KafkaError | None, msg: Any) -> None:
        owner = self.owner
        assert owner is not None
        if err is None:
            owner.delivered(self, msg.partition(), msg.offset())
        else:
            owner.failed(self, err)


def where(position: Position) -> str:
    """A job's position as logged: "topic-partition@offset"."""
    if isinstance(position, str):
        return position
    topic, partition, offset = position
    return f"{topic}-{partition}@{offset}"


def topic_max_message_bytes(
    admin_config: Mapping[str, Any], topic: str, timeout_s: float = 10.0
) -> int | None:
    """The topic's ``max.message.bytes`` (its own or the broker's default), None if unreadable."""
    admin = AdminClient(with_logger(dict(admin_config)))
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    try:
        configs = admin.describe_configs([resource], request_timeout=timeout_s)[resource].result(timeout_s)
    except Exception as exc:  # KafkaException, timeout: keep librdkafka's default, say so
        log.warning("topic_config_unreadable", topic=topic, error=str(exc))
        return None
    entry = configs.get("max.message.bytes")
    return int(entry.value) if entry is not None and entry.value else None


class AckedProducer:
    """``send(job)``: produce, call ``job.on_acked(partition, offset)`` after the broker's ack;
    failures are retried with back-off, too-large records replaced by their smaller form."""

    def __init__(self, producer_config: Mapping[str, Any], topic: str, kind: str) -> None:
        self._config = {**_BASE_CONFIG, **producer_config}
        self.topic = topic
        self.kind = kind  # dlq | receipts | retry — the metric label
        self.max_message_bytes: int | None = None
        self._producer: Producer | None = None
        self._backlog: deque[Job] = deque()
        self._failing: set[Job] = set()
        self._poller: asyncio.Task[None] | None = None
        self.pending = 0
        self.written = 0
        self.errors = 0
        self.after_poll: Callable[[], None] | None = None
        self._log_limit = RateLimit(burst=10, window_s=30.0)

    def prepare(self) -> int | None:
        """Read the topic's ``max.message.bytes`` and size the producer to it (blocking: call it
        in a thread before `start`). Without it the producer keeps librdkafka's default."""
        limit = topic_max_message_bytes(self._config, self.topic)
        if limit is not None and self._producer is None:
            self.max_message_bytes = limit
            # librdkafka's limit covers the request framing too; the broker's covers one batch
            self._config["message.max.bytes"] = max(limit + 1024, 1000)
            self._config.setdefault("batch.size", min(1_000_000, limit))
        return limit

    @property
    def producer(self) -> Producer:
        """The librdkafka producer, made on first use (after `prepare` sized it)."""
        if self._producer is None:
            self._producer = Producer(with_logger(self._config))
        return self._producer

    def start(self) -> None:
        """Serve delivery callbacks and retries on the running loop."""
        _ = self.producer
        if self._poller is None:
            self._poller = asyncio.get_running_loop().create_task(self._poll_loop(), name=f"{self.kind}-poll")

    async def _poll_loop(self) -> None:
        while True:
            self.poll_once()
            metrics.OUTPUT_STALLED.labels(self.kind).set(self.stalled_s)
            await asyncio.sleep(0.005 if self.pending else 0.05)

    def poll_once(self, timeout: float = 0.0) -> None:
        """Serve callbacks, then produce what waits in the backlog."""
        (self._producer or self.producer).poll(timeout)
        if self.after_poll is not None:
            self.after_poll()
        while self._backlog and self._try_produce(self._backlog[0]):
            self._backlog.popleft()

    @property
    def stalled_s(self) -> float:
        """Seconds the oldest still-failing record has been failing (0 when all is well)."""
        started = [j.failing_since for j in self._failing if j.failing_since is not None]
        return time.monotonic() - min(started) if started else 0.0

    def send(self, job: Job) -> None:
        """Queue one record; ``job.acked`` runs on the loop thread after the broker's ack."""
        self.pending += 1
        job.owner = self
        if self._backlog or not self._try_produce(job):
            self._backlog.append(job)

    def _try_produce(self, job: Job) -> bool:
        """Produce now; False when librdkafka's queue is full (the job stays in the backlog)."""
        record = job.record
        try:
            (self._producer or self.producer).produce(
                self.topic,
                record.value,
                record.key,
                -1 if record.partition is None else record.partition,  # -1: by key
                job,  # on_delivery: the job calls back `delivered` or `failed`
                headers=list(record.headers) if record.headers else None,
            )
        except BufferError:
            return False
        except KafkaException as exc:  # refused before sending: too large, unknown topic, …
            self.failed(job, exc.args[0])
        return True

    def delivered(self, job: Job, partition: int, offset: int) -> None:
        """The broker acknowledged ``job``'s record (called by the job, on the loop thread)."""
        self.pending -= 1
        self.written += 1
        if self._failing:
            self._failing.discard(job)
        job.acked(partition, offset)

    def failed(self, job: Job, err: KafkaError) -> None:
        """``job``'s record failed: shrink it if too large and it can, else retry after a back-off."""
        code = err.code()
        if code in _TOO_LARGE and job.smaller is not None:
            smaller = job.smaller(job.shrunk + 1)
            if smaller is not None:
                job.shrunk += 1
                job.record = smaller
                log.warning(
                    "output_record_too_large",
                    topic=self.topic,
                    position=where(job.position),
                    shrink=job.shrunk,
                )
                self._backlog.append(job)
                return
        self.errors += 1
        metrics.OUTPUT_WRITE_ERRORS.labels(self.kind, err.name()).inc()
        if job.failing_since is None:
            job.failing_since = time.monotonic()
        self._failing.add(job)
        if self._log_limit.allow(err.name()):  # a dead topic fails every record: a few lines
            log.error(
                "output_write_failed",
                topic=self.topic,
                kind=self.kind,
                position=where(job.position),
                error=err.name(),
                detail=err.str(),
                retry_in_s=job.delay_s,
                suppressed_since_last=self._log_limit.take_suppressed(err.name()),
            )
        asyncio.get_running_loop().call_later(job.delay_s, self._backlog.append, job)
        job.delay_s = min(job.delay_s * 2, 5.0)

    async def close(self, timeout: float = 10.0) -> int:
        """Flush outstanding records (their callbacks run here); returns how many are unacked."""
        if self._producer is None:
            return self.pending
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (self._backlog or self.pending) and loop.time() < deadline:
            self.poll_once(0.05)
            await asyncio.sleep(0)
        self.producer.flush(max(0.0, deadline - loop.time()))
        if self.after_poll is not None:
            self.after_poll()
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None
        return self.pending


def output_stalled(*writers: Any) -> float:
    """The longest stall among the given writers (None entries ignored), in seconds."""
    return max((getattr(w, "stalled_s", 0.0) for w in writers if w is not None), default=0.0)
