"""Per-platform circuit breaker.

A platform that keeps failing (outage) or rejects our credentials (AUTH) is not hammered: while
open, only one probe batch goes out per cooldown; everything else for that platform waits. An
AUTH circuit is special: its events wait without spending their retry budget, so a token
rotation does not burn hours of conversions into the dead-letter topic.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable


class CircuitState(enum.IntEnum):
    """Exported as a gauge: 0 closed, 1 open, 2 half-open."""

    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


class CircuitBreaker:
    """Counts consecutive failed requests; opens at a threshold, probes after a cooldown."""

    def __init__(
        self,
        failure_threshold: int = 5,
        cooldown_s: float = 10.0,
        max_cooldown_s: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.base_cooldown_s = cooldown_s
        self.max_cooldown_s = max_cooldown_s
        self._clock = clock
        self._failures = 0
        self._cooldown = cooldown_s
        self.state = CircuitState.CLOSED
        self.reason = ""
        self._open_until = 0.0
        self._probe_in_flight = False
        # told (old state, new state, reason) when the circuit opens or closes (logs, /status)
        self.on_change: Callable[[CircuitState, CircuitState, str], None] | None = None

    def allow(self) -> bool:
        """Whether a request may be sent now (in half-open: exactly one probe)."""
        if self.state is CircuitState.CLOSED:
            return True
        if self.state is CircuitState.OPEN and self._clock() >= self._open_until:
            self.state = CircuitState.HALF_OPEN
            self._probe_in_flight = False
        if self.state is CircuitState.HALF_OPEN and not self._probe_in_flight:
            self._probe_in_flight = True
            return True
        return False

    def seconds_until_probe(self) -> float:
        """How long until ``allow`` may say yes again (0 if it may now)."""
        if self.state is CircuitState.OPEN:
            return max(0.0, self._open_until - self._clock())
        return 0.0 if self.state is CircuitState.CLOSED or not self._probe_in_flight else 0.05

    def record_success(self) -> None:
        """A request got a (non-failing) answer: close."""
        self._failures = 0
        self._cooldown = self.base_cooldown_s
        old, self.state = self.state, CircuitState.CLOSED
        self.reason = ""
        self._probe_in_flight = False
        if old is not CircuitState.CLOSED and self.on_change is not None:
            self.on_change(old, CircuitState.CLOSED, "")

    def record_failure(self, reason: str = "outage", *, immediate: bool = False) -> None:
        """A request failed as a whole; ``immediate`` opens at once (AUTH)."""
        self._failures += 1
        if self.state is CircuitState.HALF_OPEN:
            self._trip(reason, backoff=True)
        elif immediate or self._failures >= self.failure_threshold:
            self._trip(reason, backoff=False)

    def _trip(self, reason: str, backoff: bool) -> None:
        if backoff:
            self._cooldown = min(self.max_cooldown_s, self._cooldown * 2)
        old, self.state = self.state, CircuitState.OPEN
        self.reason = reason
        self._open_until = self._clock() + self._cooldown
        self._probe_in_flight = False
        if self.on_change is not None:
            self.on_change(old, CircuitState.OPEN, reason)

    @property
    def holds_budget(self) -> bool:
        """True while open for AUTH: waiting events do not spend their retry budget."""
        return self.state is not CircuitState.CLOSED and self.reason == "auth"
