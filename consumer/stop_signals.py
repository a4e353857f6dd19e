"""SIGTERM/SIGINT handling for `capi-relay run`, from the first moment of the process.

Kubernetes sends SIGTERM whenever it likes — also while the relay is still loading its
settings or connecting to the broker. Python's default for SIGTERM kills the process with
status -15, which an SRE reads as a crash. So the handlers are installed before anything slow
happens; a signal that arrives before the engine exists is remembered and stops the engine as
soon as it is bound, and the relay exits 0 through the normal drain-commit-close path.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignals:
    """Turns SIGTERM/SIGINT into one call of a stop function, whenever they arrive.

    Plain `signal.signal` handlers rather than the event loop's: they exist before the loop
    does, and they stay in place after it closes, so a late second signal during the final
    commit or interpreter exit is ignored instead of killing the process with a non-zero status.
    """

    def __init__(self) -> None:
        self.requested: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: Callable[[], None] | None = None

    def install(self) -> StopSignals:
        """Take over SIGTERM and SIGINT for this process (main thread only)."""
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._handle)
        return self

    def bind(self, loop: asyncio.AbstractEventLoop, stop: Callable[[], None]) -> None:
        """From now on a signal calls ``stop`` on ``loop``; one that came earlier does so now."""
        self._loop, self._stop = loop, stop
        if self.requested is not None:
            _log().info("stop_requested_during_startup", signal=self.requested)
            loop.call_soon(stop)

    def _handle(self, signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        _log().info("stop_signal", signal=name)
        if self.requested is None:
            self.requested = name
        if self._loop is not None and self._stop is not None:
            # RuntimeError: the loop is already closed, we are on the way out
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop)


def _log() -> Any:
    """structlog, imported when first needed: this module is loaded before the slow imports."""
    import structlog

    return structlog.get_logger("capi_relay.signals")
