"""Liveness beyond a responsive event loop: a relay that makes no progress while its partitions
have lag is wedged, and a restart is the one thing that might help.

The heartbeat (see `server.Heartbeat`) only proves the loop runs. A relay can run and still do
nothing — a message held forever by a write that never completes, a partition stuck after a
broker restart. `WedgeDetector` watches a progress counter (messages finished) and the lag of the
assigned partitions: lag above zero and no progress for ``after_s`` seconds fails ``/healthz``.
``after_s`` defaults to longer than the retry budget (events waiting for a platform in outage do
finish — delivered or dead-lettered — within it), so an outage alone does not restart pods.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class WedgeDetector:
    """``check()`` → (alive, reason); ``after_s`` 0 turns the check off."""

    def __init__(
        self,
        progress: Callable[[], int],
        lag: Callable[[], int],
        after_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._progress = progress
        self._lag = lag
        self.after_s = after_s
        self._clock = clock
        self._last_value = progress()
        self._last_change = clock()

    def check(self) -> tuple[bool, str]:
        """Alive unless the assigned partitions have lag and nothing finished for ``after_s``."""
        now = self._clock()
        value = self._progress()
        lag = self._lag()
        if value != self._last_value or lag <= 0:
            self._last_value = value
            self._last_change = now
        idle = now - self._last_change
        if self.after_s > 0 and idle >= self.after_s:
            return False, f"wedged: no message finished for {idle:.0f}s with lag {lag} on assigned partitions"
        return True, "ok"
