"""The writing side of the retry topic: park a unit that cannot be delivered now.

A parked unit is a dead-letter record with outcome ``retry_later`` (original key, value and
headers; the original source position in Kafka Connect's headers) plus the retry headers, in
the partition of its delay tier. The write is acknowledged before the unit counts as finished,
so the source offset never passes a unit that is neither delivered nor safely parked.
"""

from __future__ import annotations

import random
from typing import Any

from consumer.kafka.dlq import DeadLetterWriter
from consumer.kafka.retry_topic import RetryInfo, tier_partition
from consumer.messages import MessageRef
from consumer.retry.schedule import RetrySchedule


class RetryParker:
    """Plans the next delayed attempt of a unit and writes it to the retry topic."""

    def __init__(self, writer: DeadLetterWriter, schedule: RetrySchedule, seed: int | None = None) -> None:
        self._writer = writer
        self.schedule = schedule
        self._rng = random.Random(seed)
        self.partitions = schedule.tiers  # set from the topic's metadata at start

    @property
    def topic(self) -> str:
        """The retry topic."""
        return self._writer.topic

    @property
    def writer(self) -> DeadLetterWriter:
        """The acknowledged producer (started and closed with the relay)."""
        return self._writer

    def plan(
        self,
        ref: MessageRef,
        platform: str,
        hint_s: float | None,
        reason: str,
        first_failure_ms: int,
        now_ms: int,
    ) -> tuple[RetryInfo, int] | None:
        """The next delayed attempt for ``platform`` (counting on from a retry record's
        attempt), or None when it would fall after the event's deadline: expired."""
        waiting = ref.retry if ref.retry is not None and ref.retry.platform == platform else None
        return self.schedule.plan(
            platform,
            attempt=waiting.attempt + 1 if waiting else 1,
            event_time_ms=ref.event_time_ms,
            first_failure_ms=waiting.first_failure_ms if waiting else (first_failure_ms or now_ms),
            hint_s=hint_s,
            reason=reason,
            now_ms=now_ms,
            rng=self._rng,
        )

    def plan_hold(
        self, ref: MessageRef, platform: str, reason: str, first_failure_ms: int, now_ms: int
    ) -> tuple[RetryInfo, int] | None:
        """Park a paused platform's unit (see `RetrySchedule.hold`): a retry record keeps its
        attempt and first failure; a fresh unit waits as attempt 0 (no delayed attempt yet)."""
        waiting = ref.retry if ref.retry is not None and ref.retry.platform == platform else None
        return self.schedule.hold(
            platform,
            attempt=waiting.attempt if waiting else 0,
            event_time_ms=ref.event_time_ms,
            first_failure_ms=waiting.first_failure_ms if waiting else (first_failure_ms or now_ms),
            reason=reason,
            now_ms=now_ms,
        )

    def repark(self, info: RetryInfo, now_ms: int) -> tuple[RetryInfo, int]:
        """A record read when its tier was due but before its ``not_before``: a shorter tier."""
        return self.schedule.park(
            info.platform,
            info.attempt,
            info.not_before_ms,
            info.first_failure_ms,
            info.deadline_ms,
            info.reason,
            now_ms,
        )

    async def write(self, ref: MessageRef, info: RetryInfo, tier: int, **context: Any) -> tuple[int, int]:
        """Write the retry record and wait for the broker's acknowledgement."""
        letter = ref.dead_letter(
            stage="deliver",
            platform=info.platform,
            outcome="retry_later",
            reason=info.reason,
            extra=info.headers(),
            **context,
        )
        partition = tier_partition(tier, self.schedule.tiers, self.partitions, ref.key)
        return await self._writer.write(letter, partition=partition)
