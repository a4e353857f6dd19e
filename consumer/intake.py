"""The intake: consumed bytes → units for the dispatchers, one path for every driver.

Decode (the Schema Registry's outages are waited out, a message's own faults go to the DLQ),
enrich (a click-ID store outage pauses intake and retries, never skips), map per platform (a
connector bug becomes a rejection, never a crash), then hand the units to the outcome router,
which asks the delivery ledger before dispatching. The relay drives it with source records and
with due records of the retry topic, `dlq replay` with dead-letter records (those two go only to
the platform that failed).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import structlog

from connectors.base import Connector, Item, Reject
from consumer.codec import Codec, DecodeError, RegistryUnavailableError
from consumer.delivery.dispatcher import Unit
from consumer.engine_stats import EngineStats
from consumer.kafka.dlq import DECODE_PLATFORM
from consumer.messages import EnricherLike, MessageRef
from consumer.observability import metrics
from consumer.observability.faults import FAULTS
from consumer.outcomes import OutcomeRouter
from consumer.storage import StoreUnavailable
from consumer.waits import sleep_unless

log = structlog.get_logger("capi_relay.intake")

REGISTRY = "schema registry"  # the names readiness reports these outages under
STORE = "click-ID store"


def _never() -> bool:
    return False


async def decode_waiting(
    codec: Codec,
    topic: str,
    value: bytes | None,
    *,
    stopped: Callable[[], bool] = _never,
    before_wait: Callable[[], None] | None = None,
) -> dict[str, Any] | None:
    """Decode one message; a Schema Registry outage is not the message's fault, so it waits
    and retries (backing off to 30 s; readiness names the registry meanwhile). Raises
    `DecodeError` for the message's own faults; None only if ``stopped`` said so while waiting
    (every wait ends on a stop). Used by the relay and by `dlq replay`."""
    delay = 0.5
    waited = False
    while True:
        try:
            event = codec.decode(topic, value)
        except RegistryUnavailableError as exc:
            if before_wait is not None:
                before_wait()
            log.warning("schema_registry_unavailable", error=str(exc), retry_in_s=delay)
            FAULTS.report(REGISTRY, str(exc))
            waited = True
            if await sleep_unless(stopped, delay):
                return None
            delay = min(delay * 2, 30.0)
            continue
        if waited:
            FAULTS.clear(REGISTRY)
        return event


async def enrich_waiting(
    enricher: EnricherLike,
    events: list[dict[str, Any]],
    *,
    max_delay_s: float = 30.0,
    stopped: Callable[[], bool] = _never,
    on_outage: Callable[[], None] | None = None,
    after_wait: Callable[[], None] | None = None,
) -> bool:
    """Enrich a batch; a click-ID store outage makes it wait and retry (never skip, never send
    without the click IDs it should have had; readiness names the store meanwhile). False only
    if ``stopped`` said so meanwhile: the caller gives the batch up unfinished (redelivered)."""
    delay = 0.2
    waited = False
    while True:
        try:
            await enricher.enrich_batch(events, int(time.time() * 1000))
        except StoreUnavailable as exc:
            metrics.ENRICH_LOOKUPS.labels("error").inc()
            log.warning("click_id_store_unavailable", error=str(exc), retry_in_s=delay)
            FAULTS.report(STORE, str(exc))
            waited = True
            if on_outage is not None:
                on_outage()
            if await sleep_unless(stopped, delay):
                return False
            delay = min(delay * 2, max_delay_s)
            if after_wait is not None:
                after_wait()
            continue
        if waited:
            FAULTS.clear(STORE)
        return True


def map_guarded(connector: Connector, event: dict[str, Any], now_ms: int, slug: str) -> Item | Reject:
    """The connector's mapping; a connector bug becomes a rejection, never a crash."""
    try:
        return connector.map_event(event, now_ms)
    except Exception as exc:  # a connector bug must not stop the line
        log.error("map_failed", platform=slug, event_id=event.get("event_id"), error=type(exc).__name__)
        return Reject(f"connector error {type(exc).__name__}", code="connector_error")


class Intake:
    """Decode → enrich → map → submit, for batches of message references."""

    def __init__(
        self,
        codec: Codec,
        connectors: Mapping[str, Connector],
        routing: Mapping[str, Sequence[str]],
        outcomes: OutcomeRouter,
        stats: EngineStats,
        finish: Callable[[MessageRef], None],
        enricher: EnricherLike | None = None,
        *,
        pause: Callable[[], None] = lambda: None,
        resume: Callable[[], None] = lambda: None,
        enrich_retry_max_s: float = 30.0,
        stop: asyncio.Event | None = None,
        abandon: Callable[[list[MessageRef]], None] = lambda refs: None,
    ) -> None:
        self._codec = codec
        self._connectors = connectors
        self._routing = routing
        self._outcomes = outcomes
        self.stats = stats
        self._finish = finish
        self._enricher = enricher
        self._pause = pause
        self._resume = resume
        self._enrich_retry_max_s = enrich_retry_max_s
        self._stop = stop or asyncio.Event()
        self._abandon = abandon

    async def process(self, refs: list[MessageRef], tally: metrics.Tally) -> None:
        """Decode, enrich, map and submit one consumed batch."""
        decoded: list[tuple[MessageRef, dict[str, Any]]] = []
        for ref in refs:
            event = await self.decode(ref, tally)
            if event is not None:
                decoded.append((ref, event))
        tally.flush()
        if not decoded:
            return
        if self._enricher is not None and not await self.enrich([e for _, e in decoded]):
            self._abandon([ref for ref, _ in decoded])  # stopped during a store outage
            return
        now_ms = int(time.time() * 1000)
        units: list[Unit] = []
        for ref, event in decoded:
            enrichment = event.get("_enrichment")
            if enrichment:
                ref.enriched = tuple(enrichment.get("added", ()))
            self.route(ref, event, now_ms, units, tally)
        tally.flush()
        await self._outcomes.submit(units)

    async def decode(self, ref: MessageRef, tally: metrics.Tally | None = None) -> dict[str, Any] | None:
        """The event, or None after dead-lettering an undecodable message."""
        try:
            event = await decode_waiting(
                self._codec,
                ref.topic,
                ref.value,
                stopped=self._stop.is_set,
                before_wait=tally.flush if tally is not None else None,
            )
        except DecodeError as exc:
            metrics.DECODE_ERRORS.labels(exc.reason).inc()
            ref.remaining = 1
            self._outcomes.dead_letter(
                ref,
                ref.dead_letter(
                    stage="decode",
                    platform=DECODE_PLATFORM,
                    outcome="rejected",
                    reason=str(exc),
                    exception_class="capi_relay.DecodeError",
                    error_code=exc.reason,
                ),
            )
            return None
        if event is None:  # stopped while the registry was down: give the message up unfinished
            self._abandon([ref])
            return None
        ref.event_id = event.get("event_id")
        ref.event_type = event["type"]
        ref.event_time_ms = event.get("event_time")
        if tally is None:
            metrics.EVENTS_CONSUMED.labels(ref.topic, ref.event_type).inc()
        else:
            tally.add(metrics.EVENTS_CONSUMED, ref.topic, event["type"])
        return event

    async def enrich(self, events: list[dict[str, Any]]) -> bool:
        """Enrich a batch, pausing intake while the click-ID store is down; False: stopped."""
        assert self._enricher is not None

        def outage() -> None:
            self.stats.enrich_retries += 1
            self._pause()

        return await enrich_waiting(
            self._enricher,
            events,
            max_delay_s=self._enrich_retry_max_s,
            stopped=self._stop.is_set,
            on_outage=outage,
            after_wait=self._resume,
        )

    def route(
        self, ref: MessageRef, event: dict[str, Any], now_ms: int, out: list[Unit], tally: metrics.Tally
    ) -> None:
        """Map the event for each platform it goes to (only the platform that failed, for a retry
        record or a replayed one); rejections are dead-lettered, the rest appended to ``out``."""
        only = ref.only_platform
        platforms = (only,) if only is not None else self._routing.get(event["type"], ())
        units: list[tuple[str, Item]] = []
        rejects: list[tuple[str, Reject]] = []
        for slug in platforms:
            connector = self._connectors.get(slug)
            if connector is None:  # a retry record for a platform this relay no longer serves
                rejects.append((slug, Reject(f"platform {slug} is not configured", code="not_routed")))
                continue
            mapped = map_guarded(connector, event, now_ms, slug)
            if isinstance(mapped, Reject):
                rejects.append((slug, mapped))
            else:
                units.append((slug, mapped))
        ref.remaining = len(units) + len(rejects)
        if ref.remaining == 0:
            self._finish(ref)
            return
        for slug, reject in rejects:
            # a waiting event that left the platform's window while it waited has expired
            expired = reject.code == "outside_window" and ref.retry is not None
            if reject.code == "outside_window":
                metrics.EXPIRED_EVENTS.labels(slug).inc()
            outcome = "expired" if expired else "rejected"
            self.stats.count(slug, outcome)
            metrics.DELIVERIES.labels(slug, outcome).inc()
            self._outcomes.dead_letter(
                ref,
                ref.dead_letter(
                    stage="map",
                    platform=slug,
                    outcome=outcome,
                    reason=reject.reason,
                    exception_class="capi_relay.Reject",
                    error_code=reject.code,
                    **self._outcomes.retry_context(ref),
                ),
            )
        add, add_each = tally.add, tally.add_each
        for slug, item in units:
            add(metrics.MAPPED_EVENTS, slug)
            add_each(metrics.MATCH_KEYS, slug, item.match_keys)
            add_each(metrics.DROPPED_IDENTIFIERS, slug, item.dropped)
            out.append(Unit(ref=ref, item=item, size=ref.size, platform=slug))
