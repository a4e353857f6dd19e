"""librdkafka's own log lines, and errors that repeat, through the relay's logger.

Without a ``logger`` in a client's configuration, librdkafka writes its lines straight to stderr
(plain text, about 40 a second while a broker is down), so a JSON run is no longer JSON. Every
client the relay makes (consumer, producers, admin) gets `librdkafka_logger()` instead: a standard
library logger whose records go through the root handler that `configure_logging` installed
(structlog rendering and redaction), with repeats of one facility limited by `RateLimit`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

LOGGER_NAME = "capi_relay.librdkafka"


class RateLimit:
    """At most ``burst`` events per key every ``window_s``; `allow` says whether to log, and
    `take_suppressed` how many were dropped since the last allowed one (to report them)."""

    def __init__(
        self, burst: int = 5, window_s: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.burst = burst
        self.window_s = window_s
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._suppressed: dict[str, int] = {}

    def allow(self, key: str) -> bool:
        """Count one event for ``key``; True if it should be logged."""
        now = self._clock()
        start, count = self._windows.get(key, (now, 0))
        if now - start >= self.window_s:
            start, count = now, 0
        count += 1
        self._windows[key] = (start, count)
        if count <= self.burst:
            return True
        self._suppressed[key] = self._suppressed.get(key, 0) + 1
        return False

    def take_suppressed(self, key: str) -> int:
        """How many events of ``key`` were suppressed since the last call (resets the count)."""
        return self._suppressed.pop(key, 0)


class _RepeatFilter(logging.Filter):
    """Rate-limits librdkafka records per facility (the first argument confluent-kafka passes)."""

    def __init__(self, limit: RateLimit) -> None:
        super().__init__()
        self._limit = limit

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        key = str(args[0]) if args else record.getMessage()[:40]
        if not self._limit.allow(key):
            return False
        suppressed = self._limit.take_suppressed(key)
        if suppressed:
            record.msg = f"{record.msg} (+{suppressed} similar lines suppressed)"
        return True


_LOGGER: logging.Logger | None = None


def librdkafka_logger() -> logging.Logger:
    """The logger every Kafka client gets as its ``logger`` configuration value."""
    global _LOGGER
    if _LOGGER is None:
        logger = logging.getLogger(LOGGER_NAME)
        logger.addFilter(_RepeatFilter(RateLimit()))
        _LOGGER = logger
    return _LOGGER


def with_logger(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` plus ``logger`` (unless the caller set one)."""
    return {"logger": librdkafka_logger(), **config}
