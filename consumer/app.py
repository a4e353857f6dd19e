"""Wiring and lifecycle only: build every part from the settings, run the engine until a signal
(or a caller's stop condition), drain within the deadline, commit, close."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from connectors.base import Connector, ItemOutcome
from consumer.builders import build_connectors, build_credentials, registry_client
from consumer.codec import Codec
from consumer.collector import tune_for_throughput
from consumer.config import Settings
from consumer.control.runtime import ControlRuntime, control_from_settings, start_control
from consumer.control.state import PlatformControl
from consumer.delivery.credentials_api import CredentialsSource
from consumer.delivery.dispatcher import PlatformDispatcher, Unit
from consumer.delivery.factory import build_dispatchers, start_dispatchers
from consumer.delivery.http import HttpSender
from consumer.engine import Engine, EngineLimits, EnricherLike
from consumer.engine_stats import EngineStats
from consumer.kafka.dlq import DeadLetterWriter
from consumer.kafka.source import KafkaSource, consumer_config
from consumer.observability import metrics
from consumer.observability.liveness import WedgeDetector
from consumer.retry.parker import RetryParker
from consumer.retry.schedule import RetrySchedule
from consumer.stop_signals import StopSignals

log = structlog.get_logger("capi_relay.app")


@dataclass
class Relay:
    """A built relay: the engine plus what `run` must close."""

    engine: Engine
    sender: HttpSender
    settings: Settings
    dispatchers: dict[str, PlatformDispatcher]
    store: Any = None
    ingester: Any = None
    broker_health: Any = None
    outputs: tuple[Any, ...] = ()  # the acknowledged writers (DLQ, receipts, retry) to size at start
    control: PlatformControl | None = None
    observability: Any = None  # the started ObservabilityServer (its bound port), while running
    control_runtime: Any = None  # the control topic follower and admin endpoint, while running
    source: KafkaSource | None = None

    def retries(self) -> dict[str, int]:
        """Retries scheduled per platform so far."""
        return {slug: d.retries for slug, d in self.dispatchers.items()}


def build_relay(
    settings: Settings,
    *,
    codec: Codec | None = None,
    credentials: CredentialsSource | None = None,
    enricher: EnricherLike | None = None,
    stats: EngineStats | None = None,
    enrichment: bool = True,
) -> Relay:
    """Build every part; nothing connects until `run_relay` starts it. With ``enrichment``
    and a store backend configured, the click-ID store, enricher and capture ingester too."""
    connectors = build_connectors(settings)
    codec = codec or Codec(registry_client(settings), settings.topics.events)
    store = ingester = None
    if enricher is None and enrichment and settings.store.backend != "none":
        from consumer.enrich.factory import build_enricher, build_store
        from consumer.enrich.ingest import CaptureIngester

        store = build_store(settings.store)
        if store is not None:
            built = build_enricher(settings.store, store)
            enricher = built
            ingester = CaptureIngester(
                consumer_config(
                    settings.kafka.bootstrap_servers,
                    f"{settings.kafka.group_id}-click-ids",
                    settings.consumer.commit_interval_ms,
                    settings.kafka.extra,
                ),
                settings.topics.click_ids,
                codec,
                store,
                on_keys_written=built.invalidate,
            )
    credentials = credentials or build_credentials(settings)
    sender = HttpSender()
    stats = stats or EngineStats()
    holder: dict[str, Engine] = {}

    def on_outcomes(terminal: str, units: Sequence[Unit], outcomes: Sequence[ItemOutcome]) -> None:
        holder["engine"].outcomes.on_outcomes(terminal, units, outcomes)

    dispatchers = build_dispatchers(settings, connectors, connectors, sender, credentials, on_outcomes)
    kafka = settings.kafka
    producer_cfg = kafka.client_config()
    dlq = DeadLetterWriter(producer_cfg, settings.topics.dlq)
    parker = build_parker(settings, connectors, producer_cfg)
    ledger, receipts = build_ledger_and_receipts(settings, producer_cfg)
    engine_ref: dict[str, Engine] = {}

    def on_assign(tps: list[Any]) -> None:
        engine_ref["engine"].on_assign(tps)

    def on_revoke(tps: list[Any]) -> None:
        engine_ref["engine"].on_revoke(tps)

    def on_lost(tps: list[Any]) -> None:
        engine_ref["engine"].on_lost(tps)

    from consumer.observability.kafka_health import BrokerHealth

    broker_health = BrokerHealth()
    source_extra: dict[str, Any] = {
        "statistics.interval.ms": 5000,
        "stats_cb": broker_health.on_statistics,
        "error_cb": broker_health.on_error,
        **kafka.extra,
    }
    source = KafkaSource(
        consumer_config(
            kafka.bootstrap_servers, kafka.group_id, settings.consumer.commit_interval_ms, source_extra
        ),
        list(settings.topics.events) + ([parker.topic] if parker is not None else []),
        on_assign,
        on_revoke,
        on_lost,
        subscribe=False,  # run_relay subscribes once the retry topic exists
    )
    engine = Engine(
        source,
        codec,
        connectors,
        dispatchers,
        settings.routing,
        dlq,
        enricher,
        EngineLimits(
            batch_size=settings.consumer.batch_size,
            max_in_flight_events=settings.delivery.max_in_flight_events,
            max_in_flight_bytes=settings.delivery.max_in_flight_bytes,
        ),
        stats,
        ledger=ledger,
        receipts=receipts,
        parker=parker,
    )
    engine_ref["engine"] = engine
    holder["engine"] = engine
    outputs = tuple(w for w in (dlq, receipts, parker.writer if parker else None) if w is not None)
    control = control_from_settings(settings)
    for dispatcher in dispatchers.values():
        dispatcher.control = control  # a paused platform's units are held (consumer/control)
    engine.follow_pauses(control.is_paused)  # with a retry topic: parked there, not in memory
    return Relay(
        engine, sender, settings, dispatchers, store, ingester, broker_health,
        outputs=outputs, control=control, source=source,
    )


def build_parker(
    settings: Settings, connectors: dict[str, Connector], producer_cfg: dict[str, Any]
) -> RetryParker | None:
    """The retry-topic writer and its schedule (each platform's window and maximum age), or
    None when delayed retries are off (then "not now" outcomes go to the DLQ as before)."""
    delayed = settings.delivery.delayed_retry
    if not delayed.enabled:
        return None
    schedule = RetrySchedule(
        delays_s=tuple(delayed.delays_s),
        jitter=delayed.jitter,
        max_wait_s=delayed.max_wait_s,
        window_margin_s=delayed.window_margin_s,
        windows_days={slug: c.window_days for slug, c in connectors.items()},
        max_age_s={
            slug: pcfg.max_age_s for slug, pcfg in settings.platforms.items() if pcfg.max_age_s is not None
        },
    )
    return RetryParker(DeadLetterWriter(producer_cfg, settings.topics.retry, "retry"), schedule)


def build_ledger_and_receipts(settings: Settings, producer_cfg: dict[str, Any]) -> tuple[Any, Any]:
    """The delivery-ledger guard and the receipt writer, each None when switched off."""
    from consumer.ledger.factory import build_ledger_guard
    from consumer.receipts.factory import build_receipt_writer

    return build_ledger_guard(settings), build_receipt_writer(settings, producer_cfg)


async def run_relay(
    relay: Relay,
    *,
    stop_when: Callable[[Engine], Awaitable[bool] | bool] | None = None,
    install_signals: bool | StopSignals = True,
) -> bool:
    """Run until SIGTERM/SIGINT (or ``stop_when`` says so), then drain, commit and close.
    Returns True if everything in flight finished before the deadline. Pass the `StopSignals`
    installed at process start so that a signal received while starting up is not lost."""
    engine = relay.engine
    loop = asyncio.get_running_loop()
    if install_signals is True:
        install_signals = StopSignals().install()
    if isinstance(install_signals, StopSignals):
        install_signals.bind(loop, engine.stop)
    await asyncio.to_thread(ensure_output_topics, relay.settings)
    parker = relay.engine.outcomes.parker
    if parker is not None:
        parker.partitions = await asyncio.to_thread(ensure_retry_topic, relay.settings, parker.schedule.tiers)
    for writer in relay.outputs:  # size each producer to its topic's max.message.bytes
        await asyncio.to_thread(writer.prepare)
    control: ControlRuntime | None = None
    if relay.control is not None:  # pause decisions read before any event is consumed
        control = relay.control_runtime = await start_control(
            relay.settings, relay.control, relay.dispatchers
        )
    if relay.source is not None:
        relay.source.subscribe()  # only now: the retry topic may just have been created
    await relay.sender.start()
    server = relay.observability = await _start_observability(relay)
    start_dispatchers(relay.settings, relay.dispatchers)
    tune_for_throughput()  # everything long-lived exists now
    ingest_task = loop.create_task(relay.ingester.run()) if relay.ingester is not None else None
    summary_task = loop.create_task(engine.stats.dlq_summary.run())
    watcher: asyncio.Task[None] | None = None
    if stop_when is not None:

        async def watch() -> None:
            while True:
                await asyncio.sleep(0.2)
                result = stop_when(engine)
                if not isinstance(result, bool):
                    result = await result
                if result:
                    engine.stop()
                    return

        watcher = loop.create_task(watch())
    try:
        await engine.run()
        drained = await engine.drain(relay.settings.consumer.drain_deadline_s)
        log.info("drained" if drained else "drain_deadline_reached", in_flight=engine.in_flight)
    finally:
        if watcher is not None:
            watcher.cancel()
        summary_task.cancel()
        if control is not None:
            await control.stop()
        await engine.close()
        engine.stats.dlq_summary.flush()
        await relay.sender.close()
        if ingest_task is not None:
            relay.ingester.stop()
            await asyncio.gather(ingest_task, return_exceptions=True)
        if relay.store is not None:
            await relay.store.close()
        for slug, dispatcher in relay.dispatchers.items():
            metrics.CIRCUIT_STATE.labels(slug).set(int(dispatcher.circuit.state))
        if server is not None:
            await server.stop()
    return drained


async def _start_observability(relay: Relay) -> Any:
    """/metrics, /healthz and /readyz, if a port is configured (kept up through the drain)."""
    obs = relay.settings.observability
    if obs.http_port is None:
        return None
    from consumer.observability.gauges import refresh_circuit_gauges
    from consumer.observability.kafka_health import EngineReadiness
    from consumer.observability.server import start_observability_server
    from consumer.status import relay_status, retry_backlog_since_now

    readiness = EngineReadiness(relay.engine, relay.broker_health, outputs=relay.outputs)
    disabled = tuple(slug for slug, p in relay.settings.platforms.items() if not p.enabled)
    backlog = retry_backlog_since_now()
    return await start_observability_server(
        obs.http_host,
        obs.http_port,
        readiness,
        before_scrape=lambda: refresh_circuit_gauges(relay.dispatchers),
        json_routes={
            "/status": lambda: relay_status(
                relay.engine, relay.dispatchers, readiness, relay.broker_health, relay.control, disabled,
                backlog,
            )
        },
        liveness=wedge_detector(relay).check,
    )


def wedge_detector(relay: Relay) -> WedgeDetector:
    """Liveness: messages finished must move while the assigned partitions have lag."""
    engine, health = relay.engine, relay.broker_health

    def lag() -> int:
        lags = health.last_lags if health is not None else {}
        return sum(n for (topic, p), n in lags.items() if (topic, int(p)) in engine.assigned)

    return WedgeDetector(
        lambda: engine.stats.messages_finished, lag, relay.settings.observability.wedged_after_s
    )


def ensure_output_topics(settings: Settings) -> list[str]:
    """The dead-letter topic, and the receipts topic when receipts are on, exist (or are made)."""
    from consumer.kafka.topics import ensure_topics

    topics = [settings.topics.dlq]
    if settings.receipts.enabled:
        topics.append(settings.topics.receipts)
    return ensure_topics(settings.kafka.client_config(), topics, create=settings.topics.create_missing)


def ensure_retry_topic(settings: Settings, tiers: int) -> int:
    """The retry topic exists (created with one partition per delay tier); its partition count.
    Fewer partitions than tiers still work, but a short wait may then queue behind a long one."""
    from consumer.kafka.topics import ensure_topics, partition_count

    config = settings.kafka.client_config()
    topic = settings.topics.retry
    ensure_topics(config, [topic], create=settings.topics.create_missing, partitions=tiers)
    count = partition_count(config, topic)
    if count < tiers:
        log.warning("retry_topic_has_fewer_partitions_than_tiers", topic=topic, partitions=count, tiers=tiers)
    return count
