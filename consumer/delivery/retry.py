"""Retry timing: exponential backoff with jitter, Retry-After honoured, inside a per-event budget.

The budget clock starts when the event entered delivery, not at its first attempt, so events
that cannot even be attempted during a long outage still reach a terminal outcome (the DLQ)
instead of holding their partition forever.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff parameters and the per-event budget (attempts and seconds)."""

    max_attempts: int = 8
    base_delay_s: float = 0.5
    max_delay_s: float = 60.0
    budget_s: float = 900.0
    # While the circuit is open for AUTH, waiting units keep their budget (hold in memory).
    # Off when delayed retries are on: they then leave for the retry topic after the budget,
    # so a lasting token problem does not hold the source partitions.
    hold_auth: bool = True

    def delay(self, attempts: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before attempt ``attempts + 1``."""
        backoff = min(self.max_delay_s, self.base_delay_s * (2 ** max(0, attempts - 1)))
        jittered = backoff * (0.5 + rng.random() * 0.5)
        if retry_after is not None:
            return max(retry_after, 0.0) + rng.random() * min(1.0, self.base_delay_s)
        return jittered

    def exhausted(self, attempts: int, age_s: float, next_delay_s: float = 0.0) -> bool:
        """Whether another attempt is out of budget."""
        return attempts >= self.max_attempts or age_s + next_delay_s > self.budget_s
