"""What every store backend shares — the click-ID store and the delivery ledger alike: the
outage exception the callers wait out, and the injectable wall clock.

Kept apart from both so that neither depends on the other (the ledger is not a click-ID store).
"""

from __future__ import annotations

import time
from collections.abc import Callable


class StoreUnavailable(Exception):
    """The backend cannot be reached right now (connection refused, timeout, locked file).

    The engine treats it as transient: it waits and retries the whole batch, so events are
    neither dropped nor delivered without the click IDs they should have had.
    """


Clock = Callable[[], float]
"""Wall clock in seconds (``time.time``); injectable so TTL tests need not wait."""


def wall_clock_ms(clock: Clock = time.time) -> int:
    """Current time in epoch milliseconds from ``clock``."""
    return int(clock() * 1000)
