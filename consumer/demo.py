"""`capi-relay demo`: the embedded default, end to end on one machine with nothing installed
but Java — a local Kafka broker, the platform sandbox, the SQLite click-ID store, sample
events and captures, and the relay — ending with a per-platform table."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import time
from pathlib import Path

from consumer.app import build_relay, run_relay
from consumer.config import load_settings
from consumer.contract import DEFAULT_TOPICS
from consumer.delivery.credentials_api import StaticCredentials
from consumer.demo_settings import sandbox_credentials, sandbox_platforms
from consumer.devtools.apicurio_local import LocalApicurio
from consumer.devtools.kafka_local import LocalKafka
from consumer.producing import produce_samples

DEFAULT_PLATFORMS = ["meta", "google", "tiktok"]


def _say(message: str) -> None:
    print(f"[demo] {message}", file=sys.stderr, flush=True)


async def _relay_against_sandbox(
    bootstrap: str, events: int, platforms: list[str], workdir: Path, registry_url: str | None = None
) -> int:
    from sandbox.testing import running_sandbox

    async with running_sandbox() as sandbox:
        _say(f"sandbox listening on {sandbox.base_url}")
        produced = produce_samples(
            bootstrap, events, topics=DEFAULT_TOPICS, captures=min(events, 1000), registry_url=registry_url
        )
        _say(f"produced {produced}" + (" in the Confluent wire format" if registry_url else ""))
        settings = load_settings(
            kafka={"bootstrap_servers": bootstrap, "group_id": "capi-relay-demo"},
            schema_registry={"url": registry_url},
            store={"backend": "sqlite", "sqlite_path": str(workdir / "click-ids.db")},
            routing={t: platforms for t in ("purchase", "lead", "qualified")},
            platforms=sandbox_platforms(sandbox.base_url, platforms),
            observability={"http_port": None},
        )
        tokens, extra = sandbox_credentials(platforms)
        relay = build_relay(settings, credentials=StaticCredentials(tokens, extra=extra))
        started = time.perf_counter()
        await run_relay(relay, stop_when=lambda e: e.stats.messages_finished >= events)
        elapsed = time.perf_counter() - started
        _say(f"relayed {events} events to {len(platforms)} platforms in {elapsed:.1f} s")
        print(relay.engine.stats.table(relay.retries()))
        missing = events - relay.engine.stats.messages_finished
        return 0 if missing == 0 else 1


def run_demo(events: int = 3000, platforms: list[str] | None = None, registry: bool = False) -> int:
    """Start everything locally, relay ``events`` sample events, print the outcome table.

    With ``registry``, a local Schema Registry (Apicurio) runs too: the schemas are registered
    with references and the events travel in the Confluent wire format, as in production.
    """
    platforms = platforms or DEFAULT_PLATFORMS
    with contextlib.ExitStack() as stack:
        registry_url = None
        if registry:
            _say("starting a local Schema Registry (the first run downloads it with Maven)")
            registry_url = stack.enter_context(LocalApicurio()).url
            _say(f"registry ready at {registry_url}")
        _say("starting a local Kafka broker (the first run downloads its jars with Maven)")
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="capi-relay-demo-"))
        kafka = stack.enter_context(LocalKafka())
        _say(f"broker ready at {kafka.bootstrap_servers}")
        return asyncio.run(
            _relay_against_sandbox(kafka.bootstrap_servers, events, platforms, Path(tmp), registry_url)
        )
