"""What is wrong right now, by component, for ``/readyz`` to say.

The engine's waits know why the relay is not doing its job — the click-ID store is down, the
Schema Registry is unreachable — but readiness used to see only the assignment and the broker.
Components report here (`FAULTS.report` when a wait starts, `FAULTS.clear` when it ends) and
`EngineReadiness` lists what is open, oldest first. A process-wide board like the metrics, so
the reporting call sites need no extra wiring.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class FaultBoard:
    """Open faults by component: ``store``, ``registry`` (the broker and outputs report through
    their own health objects)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._open: dict[str, tuple[str, float]] = {}

    def report(self, component: str, reason: str) -> None:
        """``component`` is failing for ``reason`` (keeps the first report's time)."""
        since = self._open.get(component, ("", self._clock()))[1]
        self._open[component] = (reason, since)

    def clear(self, component: str) -> None:
        """``component`` works again."""
        self._open.pop(component, None)

    def current(self) -> list[str]:
        """One line per open fault, oldest first: ``store unavailable for 12s: …``."""
        now = self._clock()
        ordered = sorted(self._open.items(), key=lambda item: item[1][1])
        return [f"{name} unavailable for {now - since:.0f}s: {reason}" for name, (reason, since) in ordered]


FAULTS = FaultBoard()
