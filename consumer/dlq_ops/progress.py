"""A small progress line for `dlq replay` on stderr.

On a terminal it redraws one line (done/total, outcome counts, rate, ETA); when stderr is not a
TTY (CI, `kubectl logs`) it prints a plain line every few seconds instead, so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import TextIO


def fmt_duration(seconds: float) -> str:
    """``1:02:03`` / ``2:03``; ``--:--`` when unknown."""
    if seconds != seconds or seconds < 0 or seconds == float("inf"):
        return "--:--"
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class Progress:
    """Render progress at most every ``interval_s`` (TTY) or ``log_interval_s`` (not a TTY)."""

    def __init__(
        self,
        total: int,
        stream: TextIO | None = None,
        enabled: bool = True,
        tty: bool | None = None,
        interval_s: float = 0.1,
        log_interval_s: float = 5.0,
        width: int = 24,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = self.stream.isatty() if tty is None else tty
        self.interval_s = interval_s if self.tty else log_interval_s
        self.width = width
        self._clock = clock
        self._started = clock()
        self._last = 0.0
        self._drawn = False

    def line(self, done: int, counts: Mapping[str, int]) -> str:
        """The progress text for ``done`` of ``total`` records."""
        elapsed = max(1e-6, self._clock() - self._started)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate > 0 else float("inf")
        frac = min(1.0, done / self.total) if self.total else 1.0
        filled = int(frac * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        parts = " ".join(f"{k} {v}" for k, v in counts.items())
        return f"replay [{bar}] {done}/{self.total} {parts} {rate:.1f}/s ETA {fmt_duration(eta)}"

    def update(self, done: int, counts: Mapping[str, int], force: bool = False) -> None:
        """Redraw if the interval passed (or ``force``)."""
        if not self.enabled:
            return
        now = self._clock()
        if not force and now - self._last < self.interval_s:
            return
        self._last = now
        text = self.line(done, counts)
        if self.tty:
            self.stream.write("\r\x1b[2K" + text)
            self._drawn = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self, done: int, counts: Mapping[str, int]) -> None:
        """Final state, then a newline so the summary starts on its own line."""
        if not self.enabled:
            return
        self.update(done, counts, force=True)
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
