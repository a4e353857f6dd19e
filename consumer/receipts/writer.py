"""Produces receipts with an idempotent producer and calls back once the broker acknowledged
each one.

Callback-based rather than a future per record so the hot path pays one closure per (event,
platform), not a task. The engine finishes a unit only in that callback, so a source offset is
committed only after its receipts are durable — "every terminal outcome has a receipt" holds
across crashes (at least once: a crash after the ack and before the commit repeats a receipt;
readers deduplicate by (event_id, platform)). Failed writes are retried, never dropped.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import structlog
from confluent_kafka import KafkaError, Producer

from consumer.observability import metrics
from consumer.receipts.build import receipt_key
from consumer.receipts.codec import ReceiptCodec

log = structlog.get_logger("capi_relay.receipts")

_Pending = tuple[bytes, bytes, str, str, Callable[[], None]]


class ReceiptWriter:
    """``emit(ref, receipt, on_acked)``: encode, produce, call ``on_acked`` after the broker ack."""

    def __init__(
        self, producer_config: Mapping[str, Any], topic: str, codec: ReceiptCodec | None = None
    ) -> None:
        config = {
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 20,
            "compression.type": "lz4",
            "log.connection.close": False,
            **producer_config,
        }
        self._producer = Producer(config)
        self.topic = topic
        self._codec = codec or ReceiptCodec(None, topic)
        self._backlog: deque[_Pending] = deque()
        self._pending = 0
        self._poller: asyncio.Task[None] | None = None
        self.written = 0
        self.errors = 0
        self._acked = metrics.Tally()  # receipts counted per poll, not per ack

    def start(self) -> None:
        """Serve delivery callbacks on the running loop."""
        if self._poller is None:
            self._poller = asyncio.get_running_loop().create_task(self._poll_loop(), name="receipts-poll")

    async def _poll_loop(self) -> None:
        while True:
            self._producer.poll(0)
            self._acked.flush()
            while self._backlog and self._try_produce(self._backlog[0]):
                self._backlog.popleft()
            await asyncio.sleep(0.005 if self._pending or self._backlog else 0.05)

    @property
    def pending(self) -> int:
        """Receipts produced or queued and not yet acknowledged."""
        return self._pending

    def emit(self, ref: Any, receipt: dict[str, Any], on_acked: Callable[[], None]) -> None:
        """Queue one receipt for ``ref``'s message; ``on_acked`` runs after the broker's ack."""
        job: _Pending = (
            receipt_key(ref),
            self._codec.encode(receipt),
            receipt["platform"],
            receipt["outcome"],
            on_acked,
        )
        self._pending += 1
        if self._backlog or not self._try_produce(job):
            self._backlog.append(job)

    def _try_produce(self, job: _Pending) -> bool:
        key, value, platform, outcome, on_acked = job

        def on_delivery(err: KafkaError | None, _msg: Any) -> None:
            if err is None:
                self._pending -= 1
                self.written += 1
                self._acked.add(metrics.RECEIPTS, platform, outcome)
                on_acked()
                return
            self.errors += 1
            log.warning("receipt_write_failed", error=str(err), retry_in_s=0.5)
            asyncio.get_running_loop().call_later(0.5, self._backlog.append, job)

        try:
            self._producer.produce(self.topic, value=value, key=key, on_delivery=on_delivery)
        except BufferError:
            return False
        return True

    async def close(self, timeout: float = 10.0) -> int:
        """Flush outstanding receipts (their callbacks run here); returns how many are unacked."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._backlog and asyncio.get_running_loop().time() < deadline:
            if self._try_produce(self._backlog[0]):
                self._backlog.popleft()
            else:
                self._producer.poll(0.05)
        remaining = int(self._producer.flush(max(0.0, deadline - asyncio.get_running_loop().time())))
        self._acked.flush()
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None
        return remaining + len(self._backlog)
