"""`capi-relay demo`: the embedded default, end to end on one machine with nothing installed
but Java — a local Kafka broker, the platform sandbox, the SQLite click-ID store, sample
events and captures, and the relay — ending with a per-platform table."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from consumer.app import build_relay, run_relay
from consumer.config import load_settings
from consumer.contract import DEFAULT_TOPICS
from consumer.delivery.credentials_api import StaticCredentials
from consumer.demo_settings import sandbox_credentials, sandbox_platforms
from consumer.producing import produce_samples

DEFAULT_PLATFORMS = ["meta", "google", "tiktok"]


def _say(message: str) -> None:
    print(f"[demo] {message}", file=sys.stderr, flush=True)


async def _relay_against_sandbox(bootstrap: str, events: int, platforms: list[str], workdir: Path) -> int:
    from sandbox.testing import running_sandbox

    async with running_sandbox() as sandbox:
        _say(f"sandbox listening on {sandbox.base_url}")
        produced = produce_samples(bootstrap, events, topics=DEFAULT_TOPICS, captures=min(events, 1000))
        _say(f"produced {produced}")
        settings = load_settings(
            kafka={"bootstrap_servers": bootstrap, "group_id": "capi-relay-demo"},
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


def run_demo(events: int = 3000, platforms: list[str] | None = None) -> int:
    """Start everything locally, relay ``events`` sample events, print the outcome table."""
    from consumer.devtools.kafka_local import LocalKafka

    platforms = platforms or DEFAULT_PLATFORMS
    _say("starting a local Kafka broker (the first run downloads its jars with Maven)")
    with tempfile.TemporaryDirectory(prefix="capi-relay-demo-") as tmp, LocalKafka() as kafka:
        _say(f"broker ready at {kafka.bootstrap_servers}")
        return asyncio.run(_relay_against_sandbox(kafka.bootstrap_servers, events, platforms, Path(tmp)))
