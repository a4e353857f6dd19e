"""Waits that end when the relay is told to stop.

Every back-off in the relay (click-ID store outage, Schema Registry outage, capture ingestion,
DLQ replay's copies of those) used to be a plain ``asyncio.sleep``: a SIGTERM during a long
outage was logged and then ignored until the outage ended. These helpers return early instead,
so the caller can give up the batch (it stays uncommitted and is redelivered) and the relay
drains and exits within its deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` or until ``stop`` is set; True when stopped (the caller should give up)."""
    if stop.is_set():
        return True
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))
    return stop.is_set()


async def sleep_unless(stopped: Callable[[], bool], seconds: float, tick_s: float = 0.1) -> bool:
    """Like `sleep_or_stop` for owners whose stop is a flag, not an event (checked every
    ``tick_s``); True when stopped."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(0.0, seconds)
    while not stopped():
        left = deadline - loop.time()
        if left <= 0:
            return False
        await asyncio.sleep(min(tick_s, left))
    return True
