"""When a unit that could not be delivered in-process is tried again — or that it never will be.

Pure (no I/O, no clock of its own) so that every rule is a unit test. The budget is the
platform's own window, not a fixed number of attempts: backoff with jitter along a schedule of
delays (1 min, 5 min, 30 min, 2 h, 6 h, then 6 h again …), a platform's hint honoured at any
length, until the next attempt would fall after the event's deadline — the platform's window
minus a safety margin, or the platform's configured maximum age, whichever is earlier.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from consumer.kafka.retry_topic import RetryInfo

DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """The delayed-retry policy of the whole relay (per-platform windows and maximum ages)."""

    delays_s: Sequence[float] = (60.0, 300.0, 1800.0, 7200.0, 21600.0)
    jitter: float = 0.1
    max_wait_s: float | None = None
    window_margin_s: float = 3600.0
    windows_days: Mapping[str, float] = field(default_factory=dict)
    max_age_s: Mapping[str, float] = field(default_factory=dict)

    @property
    def tiers(self) -> int:
        """How many delay tiers (= partitions the retry topic is created with)."""
        return len(self.delays_s)

    def deadline_ms(self, platform: str, event_time_ms: int | None, first_failure_ms: int) -> int:
        """The last moment an attempt may be made: window minus margin, or the maximum age.
        Without an event time, the first failure stands in for it. A platform without a time
        limit (TikTok, Pinterest: an infinite window) and without ``max_age_s`` waits 7 days."""
        origin = event_time_ms or first_failure_ms
        limits: list[float] = []
        window = self.windows_days.get(platform)
        if window is not None and math.isfinite(window):
            limits.append(window * DAY_MS - self.window_margin_s * 1000)
        max_age = self.max_age_s.get(platform)
        if max_age is not None:
            limits.append(max_age * 1000)
        if not limits:
            limits.append(7 * DAY_MS - self.window_margin_s * 1000)
        return origin + int(min(limits))

    def wait_s(self, attempt: int, hint_s: float | None, rng: random.Random) -> float:
        """Seconds before delayed attempt ``attempt`` (1-based): the schedule's delay with up to
        ``jitter`` added, or the platform's hint if longer; capped by ``max_wait_s``."""
        base = self.delays_s[min(max(attempt, 1), len(self.delays_s)) - 1]
        wait = base * (1.0 + rng.random() * self.jitter)
        if hint_s is not None and hint_s > wait:
            wait = hint_s
        if self.max_wait_s is not None:
            wait = min(wait, self.max_wait_s)
        return wait

    def tier_for(self, wait_s: float) -> int:
        """The longest tier not longer than ``wait_s`` (the shortest if all are longer)."""
        return max(0, bisect.bisect_right(list(self.delays_s), wait_s) - 1)

    def tier_delay_ms(self, tier: int) -> int:
        """The tier's delay, capped like every wait."""
        delay = self.delays_s[tier]
        if self.max_wait_s is not None:
            delay = min(delay, self.max_wait_s)
        return int(delay * 1000)

    def plan(
        self,
        platform: str,
        *,
        attempt: int,
        event_time_ms: int | None,
        first_failure_ms: int,
        hint_s: float | None,
        reason: str,
        now_ms: int,
        rng: random.Random,
    ) -> tuple[RetryInfo, int] | None:
        """The next delayed attempt and its tier, or None if it would come too late (expired)."""
        deadline = self.deadline_ms(platform, event_time_ms, first_failure_ms)
        not_before = now_ms + int(self.wait_s(attempt, hint_s, rng) * 1000)
        if not_before > deadline:
            return None
        return self.park(platform, attempt, not_before, first_failure_ms, deadline, reason, now_ms)

    def park(
        self,
        platform: str,
        attempt: int,
        not_before_ms: int,
        first_failure_ms: int,
        deadline_ms: int,
        reason: str,
        now_ms: int,
    ) -> tuple[RetryInfo, int]:
        """Where a unit waiting until ``not_before_ms`` goes now: the longest tier that does not
        hand it out late. Also used to re-park a record read before its ``not_before``."""
        tier = self.tier_for(max(0.0, (not_before_ms - now_ms) / 1000))
        due = now_ms + self.tier_delay_ms(tier)
        return RetryInfo(platform, attempt, not_before_ms, due, first_failure_ms, deadline_ms, reason), tier
