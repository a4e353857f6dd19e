"""The relay's reading side of the retry topic: hand out due records, hold the rest.

The retry topic's partitions are delay tiers, so in each partition the time a record becomes
due grows with its offset. When the record at a partition's head is not due yet, the partition
is paused and its position moved back to that record (a seek), and a timer resumes it when the
head is due: no polling, no busy loop, and nothing behind the head is due earlier. A record
that is due but whose ``not_before`` (a platform hint that did not fit a tier) lies further
ahead is re-parked by the caller into a shorter tier. A paused platform's parked units sit in
the shortest tier, ready at once: when the platform is resumed the held partitions are re-read
(`wake`) and those records are taken without waiting for their tier.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from consumer.kafka.dlq import (
    H_EVENT_ID,
    H_EVENT_TYPE,
    H_OFFSET,
    H_PARTITION,
    H_TOPIC,
    OUR_HEADERS,
    headers_dict,
)
from consumer.kafka.offsets import TopicPartition as TP
from consumer.kafka.retry_topic import RetryInfo
from consumer.observability import metrics

log = structlog.get_logger("capi_relay.retry")


class HoldingSource(Protocol):
    """What the gate needs from the consumer."""

    def pause(self, tps: Sequence[TP]) -> None: ...
    def resume(self, tps: Sequence[TP]) -> None: ...
    def seek(self, tp: TP, offset: int) -> None: ...


@dataclass(frozen=True, slots=True)
class RetryRecord:
    """A due record of the retry topic, parsed: the event's original position and bytes."""

    info: RetryInfo
    origin: tuple[str, int, int]
    event_id: str | None
    event_type: str | None
    headers: list[tuple[str, bytes | None]]


class RetryGate:
    """Decides, per consumed retry-topic record, whether it is due, and holds partitions."""

    def __init__(self, topic: str, source: HoldingSource, may_resume: Callable[[TP], bool]) -> None:
        self.topic = topic
        self._source = source
        self._may_resume = may_resume
        # Whether a platform takes deliveries now (not paused); None: every record waits for
        # its tier. A ready platform's record whose ``not_before`` has passed is taken before
        # its tier's due time: how a paused platform's parked units come back on resume.
        self.ready: Callable[[str], bool] | None = None
        self._held: dict[TP, asyncio.TimerHandle] = {}
        self._heads: dict[TP, RetryInfo] = {}

    @property
    def held(self) -> frozenset[TP]:
        """Retry partitions paused until their head is due."""
        return frozenset(self._held)

    def parse(self, msg: Any) -> RetryRecord | None:
        """The record's retry context, or None if it is not a retry record of ours."""
        headers = list(msg.headers() or ())
        flat = headers_dict(headers)
        info = RetryInfo.from_headers(flat)
        try:
            origin = (flat[H_TOPIC], int(flat[H_PARTITION]), int(flat[H_OFFSET]))
        except (KeyError, ValueError):
            return None
        if info is None:
            return None
        original = [(k, v) for k, v in headers if k not in OUR_HEADERS]
        return RetryRecord(info, origin, flat.get(H_EVENT_ID), flat.get(H_EVENT_TYPE), original)

    def due(self, tp: TP, offset: int, info: RetryInfo, now_ms: int) -> bool:
        """True if the record may be taken now; otherwise hold its partition at ``offset``
        until it is (the caller skips the rest of this partition's batch)."""
        if info.due_ms <= now_ms or (
            info.not_before_ms <= now_ms and self.ready is not None and self.ready(info.platform)
        ):
            return True
        self.hold(tp, offset, info, (info.due_ms - now_ms) / 1000)
        return False

    def hold(self, tp: TP, offset: int, info: RetryInfo, seconds: float) -> None:
        """Pause ``tp`` with its position at ``offset``; resume it after ``seconds``."""
        self._source.pause([tp])
        self._source.seek(tp, offset)
        old = self._held.pop(tp, None)
        if old is not None:
            old.cancel()
        self._held[tp] = asyncio.get_running_loop().call_later(seconds, self._release, tp)
        self._heads[tp] = info
        self._export()

    def _release(self, tp: TP) -> None:
        self._held.pop(tp, None)
        self._heads.pop(tp, None)
        self._export()
        if self._may_resume(tp):
            self._source.resume([tp])

    def wake(self) -> None:
        """Re-read every held partition's head now (a platform was resumed: its parked units,
        ready since they were parked, are taken at once; other heads are held again)."""
        for tp, handle in list(self._held.items()):
            handle.cancel()
            self._release(tp)

    def forget(self, tps: Sequence[TP]) -> None:
        """Partitions revoked or lost: their timers go (the new owner holds them itself)."""
        for tp in tps:
            handle = self._held.pop(tp, None)
            if handle is not None:
                handle.cancel()
            self._heads.pop(tp, None)
        self._export()

    def close(self) -> None:
        """Stop every timer (on stop: nothing may resume fetching during the drain)."""
        self.forget(list(self._held))

    def _export(self) -> None:
        """Per platform: the earliest due time and window end among the heads we hold."""
        due: dict[str, int] = {}
        deadline: dict[str, int] = {}
        for info in self._heads.values():
            due[info.platform] = min(due.get(info.platform, info.due_ms), info.due_ms)
            if info.deadline_ms:
                deadline[info.platform] = min(deadline.get(info.platform, info.deadline_ms), info.deadline_ms)
        metrics.RETRY_OLDEST_DUE.clear()
        metrics.RETRY_NEXT_DEADLINE.clear()
        for slug, ms in due.items():
            metrics.RETRY_OLDEST_DUE.labels(slug).set(ms / 1000)
        for slug, ms in deadline.items():
            metrics.RETRY_NEXT_DEADLINE.labels(slug).set(ms / 1000)
