"""A rate-limited summary of dead-letter writes: one log line per minute at most, with the count
per platform and reason, instead of one line per record (an outage can dead-letter thousands
of events a second) or none at all (the records were only visible in metrics)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import structlog

log = structlog.get_logger("capi_relay.dlq")


class DeadLetterSummary:
    """Counts dead-letter writes per (platform, reason) and logs them once per ``interval_s``."""

    def __init__(self, interval_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._counts: dict[tuple[str, str], int] = {}
        self._since = clock()

    def add(self, platform: str, reason: str) -> None:
        """One acknowledged dead-letter record."""
        if not self._counts:
            self._since = self._clock()
        key = (platform, reason)
        self._counts[key] = self._counts.get(key, 0) + 1
        self.maybe_flush()

    def maybe_flush(self) -> None:
        """Log the summary if a window's worth of time has passed since its first record."""
        if self._counts and self._clock() - self._since >= self.interval_s:
            self.flush()

    def flush(self) -> None:
        """Log what was counted (if anything) and start a new window."""
        if not self._counts:
            return
        counts, self._counts = self._counts, {}
        by_platform: dict[str, dict[str, int]] = {}
        for (platform, reason), n in sorted(counts.items()):
            by_platform.setdefault(platform, {})[reason] = n
        log.warning(
            "dead_letters_written",
            total=sum(counts.values()),
            window_s=round(self._clock() - self._since, 1),
            counts=by_platform,
        )

    async def run(self) -> None:
        """Flush due windows while the relay runs (a burst followed by silence is still told)."""
        while True:
            await asyncio.sleep(min(5.0, self.interval_s))
            self.maybe_flush()
