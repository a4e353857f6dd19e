"""Enrichment through a click-ID store outage: wait and retry the same batch — never skip it,
never send it without its click IDs — until the store answers or the relay is told to stop.

Kept out of the engine so every intake (the relay's, replay's) waits the same way: the outage is
logged with the store's name, counted, reported to readiness (`FAULTS`), and a SIGTERM ends the
wait (False: the caller gives the batch up unfinished; it is redelivered after the restart).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from consumer.enrich.store import StoreUnavailable
from consumer.observability import metrics
from consumer.observability.faults import FAULTS
from consumer.waits import sleep_or_stop

log = structlog.get_logger("capi_relay.engine")

STORE = "click-ID store"


def _nothing() -> None:
    return None


async def enrich_retrying(
    enrich: Callable[[], Awaitable[object]],
    stop: asyncio.Event,
    max_delay_s: float,
    on_outage: Callable[[], None] = _nothing,
    on_retry: Callable[[], None] = _nothing,
) -> bool:
    """Run ``enrich()`` until it succeeds (True) or ``stop`` is set during an outage (False).
    ``on_outage`` runs before each wait (pause intake), ``on_retry`` after it (resume)."""
    delay = 0.2
    while True:
        try:
            await enrich()
        except StoreUnavailable as exc:
            metrics.ENRICH_LOOKUPS.labels("error").inc()
            log.warning("click_id_store_unavailable", error=str(exc), retry_in_s=delay)
            FAULTS.report(STORE, str(exc))
            on_outage()
            if await sleep_or_stop(stop, delay):
                return False
            delay = min(delay * 2, max_delay_s)
            on_retry()
            continue
        if delay > 0.2:
            FAULTS.clear(STORE)
        return True
