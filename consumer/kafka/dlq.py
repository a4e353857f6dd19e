"""Dead-letter records: one per (message, failed platform), the original bytes plus context.

Value and key stay the original bytes so replay reuses the normal decoder; original headers are
kept. Context headers mirror Kafka Connect's names (existing DLQ tooling reads them) plus ours.
A record counts only once the broker acknowledged it: the source offset waits for that ack
(invariant 1), so writes that fail are retried, never dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, Producer

from consumer.kafka.retry_topic import RETRY_HEADERS

DECODE_PLATFORM = "*"

H_TOPIC = "__connect.errors.topic"
H_PARTITION = "__connect.errors.partition"
H_OFFSET = "__connect.errors.offset"
H_STAGE = "__connect.errors.stage"
H_CLASS = "__connect.errors.exception.class.name"
H_MESSAGE = "__connect.errors.exception.message"
H_PLATFORM = "capi.platform"
H_OUTCOME = "capi.outcome"
H_REASON = "capi.reason"
H_ATTEMPTS = "capi.attempts"
H_HTTP_STATUS = "capi.http_status"
H_ERROR_CODE = "capi.error_code"
H_FIRST_FAILURE = "capi.first_failure_ms"
H_LAST_FAILURE = "capi.last_failure_ms"
H_EVENT_ID = "capi.event_id"
H_EVENT_TYPE = "capi.event_type"
H_REPLAYS = "capi.replays"

OUR_HEADERS = (
    frozenset(
        {
            H_TOPIC,
            H_PARTITION,
            H_OFFSET,
            H_STAGE,
            H_CLASS,
            H_MESSAGE,
            H_PLATFORM,
            H_OUTCOME,
            H_REASON,
            H_ATTEMPTS,
            H_HTTP_STATUS,
            H_ERROR_CODE,
            H_FIRST_FAILURE,
            H_LAST_FAILURE,
            H_EVENT_ID,
            H_EVENT_TYPE,
            H_REPLAYS,
        }
    )
    | RETRY_HEADERS
)


@dataclass(slots=True)
class DeadLetter:
    """Everything a dead-letter record says. ``reason`` must not contain personal data (it is
    built from codes and our own messages, never from field values)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]]
    stage: str  # decode | enrich | map | deliver
    platform: str
    outcome: str  # rejected | exhausted | auth | invalid
    reason: str
    exception_class: str = "capi_relay.DeliveryFailure"
    attempts: int = 0
    http_status: int | None = None
    error_code: str | None = None
    first_failure_ms: int | None = None
    last_failure_ms: int | None = None
    event_id: str | None = None
    event_type: str | None = None
    replays: int = 0
    extra: Mapping[str, str] = field(default_factory=dict)

    def kafka_headers(self) -> list[tuple[str, str | bytes | None]]:
        """Original headers (minus any stale context of an earlier DLQ pass) plus ours."""
        now = int(time.time() * 1000)
        out: list[tuple[str, str | bytes | None]] = [
            (k, v or b"") for k, v in self.headers if k not in OUR_HEADERS
        ]
        ours: dict[str, Any] = {
            H_TOPIC: self.topic,
            H_PARTITION: self.partition,
            H_OFFSET: self.offset,
            H_STAGE: self.stage,
            H_CLASS: self.exception_class,
            H_MESSAGE: self.reason[:1000],
            H_PLATFORM: self.platform,
            H_OUTCOME: self.outcome,
            H_REASON: self.reason[:1000],
            H_ATTEMPTS: self.attempts,
            H_FIRST_FAILURE: self.first_failure_ms or now,
            H_LAST_FAILURE: self.last_failure_ms or now,
            H_REPLAYS: self.replays,
        }
        if self.http_status is not None:
            ours[H_HTTP_STATUS] = self.http_status
        if self.error_code:
            ours[H_ERROR_CODE] = self.error_code
        if self.event_id:
            ours[H_EVENT_ID] = self.event_id
        if self.event_type:
            ours[H_EVENT_TYPE] = self.event_type
        ours.update(self.extra)
        out.extend((k, str(v).encode()) for k, v in ours.items())
        return out


def headers_dict(headers: Sequence[tuple[str, bytes | None]] | None) -> dict[str, str]:
    """Kafka headers as a str dict (last value wins), for reading DLQ context back."""
    return {k: (v or b"").decode("utf-8", "replace") for k, v in headers or ()}


class DeadLetterWriter:
    """Produces dead letters with an idempotent producer; `write` resolves on broker ack."""

    def __init__(self, producer_config: Mapping[str, Any], topic: str) -> None:
        config = {
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 20,
            "compression.type": "lz4",
            "log.connection.close": False,
            **producer_config,
        }
        self._producer = Producer(config)
        self._topic = topic
        self._pending = 0
        self._poller: asyncio.Task[None] | None = None
        self.written = 0

    @property
    def topic(self) -> str:
        """The dead-letter topic name."""
        return self._topic

    def start(self) -> None:
        """Start serving delivery callbacks on the running loop."""
        if self._poller is None:
            self._poller = asyncio.get_running_loop().create_task(self._poll_loop())

    async def _poll_loop(self) -> None:
        while True:
            self._producer.poll(0)
            await asyncio.sleep(0.005 if self._pending else 0.05)

    async def write(self, letter: DeadLetter, partition: int | None = None) -> tuple[int, int]:
        """Produce one record and wait for the broker's acknowledgement, retrying failures.
        Returns the record's (partition, offset) in the dead-letter topic (receipts and
        `trace` point at it). ``partition`` pins it (the retry topic's delay tiers)."""
        headers = letter.kafka_headers()
        extra: dict[str, Any] = {} if partition is None else {"partition": partition}
        delay = 0.1
        while True:
            future: asyncio.Future[tuple[int, int]] = asyncio.get_running_loop().create_future()

            def on_delivery(
                err: KafkaError | None, msg: Any, fut: asyncio.Future[tuple[int, int]] = future
            ) -> None:
                if fut.done():
                    return
                if err is None:
                    fut.set_result((msg.partition(), msg.offset()))
                else:
                    fut.set_exception(RuntimeError(str(err)))

            try:
                self._producer.produce(
                    self._topic,
                    value=letter.value,
                    key=letter.key,
                    headers=headers,
                    on_delivery=on_delivery,
                    **extra,
                )
            except BufferError:
                self._producer.poll(0.05)
                await asyncio.sleep(0.01)
                continue
            self._pending += 1
            try:
                location = await future
                self.written += 1
                return location
            except RuntimeError:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                self._pending -= 1

    async def close(self, timeout: float = 10.0) -> int:
        """Flush outstanding records; returns how many are still unacknowledged."""
        remaining = self._producer.flush(timeout)  # on the loop thread: callbacks stay here
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None
        return int(remaining)
