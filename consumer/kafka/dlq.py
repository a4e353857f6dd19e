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

from consumer.kafka.acked_producer import AckedProducer, Job, OutRecord
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
H_VALUE_OMITTED = "capi.value_omitted"  # "too_large": the original is at topic/partition/offset
H_VALUE_BYTES = "capi.value_bytes"
H_KEY_BYTES = "capi.key_omitted_bytes"

OUR_HEADERS = frozenset(
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
        H_VALUE_OMITTED,
        H_VALUE_BYTES,
        H_KEY_BYTES,
    }
) | RETRY_HEADERS


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
    """Produces dead letters through an `AckedProducer`; `write` resolves on broker ack.

    A record the topic cannot take (larger than its ``max.message.bytes``) is written without
    its value and original headers (``capi.value_omitted: too_large``, ``capi.value_bytes``; the
    ``__connect.errors.*`` headers point at the original in the source topic), then, if still
    too large, without its key too."""

    def __init__(self, producer_config: Mapping[str, Any], topic: str, kind: str = "dlq") -> None:
        self.out = AckedProducer(producer_config, topic, kind)

    @property
    def topic(self) -> str:
        """The dead-letter topic name."""
        return self.out.topic

    @property
    def written(self) -> int:
        """Records acknowledged so far."""
        return self.out.written

    @property
    def stalled_s(self) -> float:
        """How long the oldest failing dead-letter write has been failing (0: none)."""
        return self.out.stalled_s

    def prepare(self) -> int | None:
        """Size the producer to the topic's ``max.message.bytes`` (blocking; before `start`)."""
        return self.out.prepare()

    def start(self) -> None:
        """Start serving delivery callbacks on the running loop."""
        self.out.start()

    async def write(self, letter: DeadLetter, partition: int | None = None) -> tuple[int, int]:
        """Produce one record and wait for the broker's acknowledgement, retrying failures.
        Returns the record's (partition, offset) in the dead-letter topic (receipts and
        `trace` point at it). ``partition`` pins the record to one partition (the retry topic's
        delay tiers); None lets the producer choose by key."""
        future: asyncio.Future[tuple[int, int]] = asyncio.get_running_loop().create_future()

        def on_acked(acked_partition: int, offset: int) -> None:
            if not future.done():
                future.set_result((acked_partition, offset))

        headers = letter.kafka_headers()
        self.out.send(
            Job(
                OutRecord(letter.key, letter.value, headers, partition),
                on_acked,
                f"{letter.topic}-{letter.partition}@{letter.offset}",
                smaller=lambda level: smaller_letter(letter, headers, level, partition),
            )
        )
        return await future

    async def close(self, timeout: float = 10.0) -> int:
        """Flush outstanding records; returns how many are still unacknowledged."""
        return await self.out.close(timeout)


def smaller_letter(
    letter: DeadLetter,
    headers: list[tuple[str, str | bytes | None]],
    level: int,
    partition: int | None = None,
) -> OutRecord | None:
    """The dead letter without its value and original headers (level 1), then without its key
    too (level 2); None when nothing is left to drop."""
    if level > 2:
        return None
    ours = [(k, v) for k, v in headers if k in OUR_HEADERS]
    ours.append((H_VALUE_OMITTED, b"too_large"))
    ours.append((H_VALUE_BYTES, str(len(letter.value or b"")).encode()))
    if level == 1:
        return OutRecord(letter.key, None, ours, partition)
    ours.append((H_KEY_BYTES, str(len(letter.key or b"")).encode()))
    return OutRecord(None, None, ours, partition)
