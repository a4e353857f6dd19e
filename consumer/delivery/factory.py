"""Building the delivery half — one configured dispatcher per platform over the shared HTTP
sender, retry policy and circuit breakers. The relay (`consumer.app`) and the DLQ replay
(`consumer.dlq_ops`) build it the same way, each with its own outcome callback; a replay builds
dispatchers only for the platforms it may target.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from connectors.base import BatchLimits, Connector
from consumer.config import PlatformConfig, Settings
from consumer.delivery.circuit import CircuitBreaker
from consumer.delivery.credentials_api import CredentialsSource
from consumer.delivery.dispatcher import OutcomeCallback, PlatformDispatcher
from consumer.delivery.http import HttpSender
from consumer.delivery.retry import RetryPolicy


def platform_limits(settings: Settings, slug: str, connector: Connector) -> BatchLimits:
    """The connector's batch limits, narrowed by the platform's config (as the relay does)."""
    pcfg = settings.platforms.get(slug, PlatformConfig())
    base = connector.limits
    return BatchLimits(
        max_events=min(pcfg.max_batch_events or base.max_events, base.max_events),
        max_bytes=base.max_bytes,
        linger_ms=pcfg.linger_ms if pcfg.linger_ms is not None else base.linger_ms,
    )


def build_dispatchers(
    settings: Settings,
    connectors: Mapping[str, Connector],
    slugs: Iterable[str],
    sender: HttpSender,
    credentials: CredentialsSource,
    on_outcome: OutcomeCallback,
) -> dict[str, PlatformDispatcher]:
    """One configured dispatcher per slug in ``slugs`` (only those: a replay for Meta has no
    dispatcher, and so no way to send anything, for any other platform)."""
    retry = RetryPolicy(
        **settings.delivery.retry.model_dump(), hold_auth=not settings.delivery.delayed_retry.enabled
    )
    circuit = settings.delivery.circuit
    out: dict[str, PlatformDispatcher] = {}
    for slug in slugs:
        connector = connectors[slug]
        pcfg = settings.platforms.get(slug, PlatformConfig())
        sender.configure(slug, pcfg.max_connections, pcfg.timeout_s)
        out[slug] = PlatformDispatcher(
            connector,
            sender,
            credentials,
            on_outcome,
            retry,
            CircuitBreaker(circuit.failure_threshold, circuit.cooldown_s),
            platform_limits(settings, slug, connector),
        )
    return out


def start_dispatchers(settings: Settings, dispatchers: Mapping[str, PlatformDispatcher]) -> None:
    """Start each dispatcher's loop with its platform's connection cap as concurrency."""
    for slug, dispatcher in dispatchers.items():
        dispatcher.start(settings.platforms.get(slug, PlatformConfig()).max_connections)
