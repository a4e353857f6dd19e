"""`capi-relay trace EVENT_ID`: one event's journey from its receipts and the delivery ledger.

Registered on the main CLI by ``add_parser(subparsers)``; ``main(args)`` returns the exit code:
0 found, 1 no receipt names the event, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

from consumer.receipts.journey import Journey

CONFIG_ENV = "CAPI_RELAY_CONFIG"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `trace` on the main CLI's subparsers."""
    trace = subparsers.add_parser(
        "trace",
        help="show one event's journey: consumed where, enriched with what, each platform's fate",
        description="Reads the receipts topic (and the delivery ledger) for EVENT_ID. Undecodable "
        "messages are keyed TOPIC-PARTITION-OFFSET instead of an event id.",
    )
    trace.add_argument("event_id", metavar="EVENT_ID")
    trace.add_argument(
        "-c", "--config", default=argparse.SUPPRESS, help=f"relay config YAML (default: ${CONFIG_ENV})"
    )
    trace.add_argument("--topic", help="receipts topic (default: topics.receipts of the config)")
    trace.add_argument(
        "--since", metavar="TIME", help="only receipts since: 2h, 30m, 7d, ISO time or epoch ms"
    )
    trace.add_argument("--timeout", type=float, default=60.0, help="give up scanning after N seconds")
    trace.add_argument("--no-ledger", dest="ledger", action="store_false", help="do not query the ledger")
    trace.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    trace.set_defaults(func=main)
    return trace


def trace_event(
    settings: Any,
    event_id: str,
    *,
    topic: str | None = None,
    since_ms: int | None = None,
    timeout_s: float = 60.0,
    use_ledger: bool = True,
) -> Journey:
    """Assemble the journey of ``event_id`` (the function behind the command, for tests/tools)."""
    from consumer.builders import registry_client
    from consumer.receipts.codec import ReceiptCodec
    from consumer.receipts.reader import read_receipts

    topic = topic or settings.topics.receipts
    config = settings.kafka.client_config()
    receipts, scanned = read_receipts(
        config,
        topic,
        event_id,
        ReceiptCodec(registry_client(settings), topic),
        since_ms=since_ms,
        timeout_s=timeout_s,
    )
    journey = Journey(event_id, receipts, scanned)
    if use_ledger and journey.found:
        asyncio.run(_attach_ledger(settings, journey))
    return journey


async def _attach_ledger(settings: Any, journey: Journey) -> None:
    from consumer.enrich.store import StoreUnavailable
    from consumer.ledger.factory import build_ledger
    from consumer.store_check import StoreOpenError

    try:
        ledger = build_ledger(settings)
    except StoreOpenError as exc:
        journey.ledger_error = str(exc)
        return
    if ledger is None:
        return
    platforms = [p for p in journey.platforms if p != "*"]
    try:
        found = await ledger.accepted_many({p: [journey.event_id] for p in platforms})
        journey.set_ledger({p: journey.event_id in found.get(p, ()) for p in platforms})
    except StoreUnavailable as exc:
        journey.ledger_error = str(exc)
    finally:
        await ledger.close()


def main(args: argparse.Namespace) -> int:
    """Run `trace`; prints the journey (text or ``--json``)."""
    from confluent_kafka import KafkaException

    from consumer.config import ConfigError, load_settings
    from consumer.dlq_ops.filters import FilterError, parse_time
    from consumer.receipts.reader import ReceiptTopicMissing

    try:
        settings = load_settings(getattr(args, "config", None) or os.environ.get(CONFIG_ENV))
        since_ms = parse_time(args.since) if args.since else None
        journey = trace_event(
            settings,
            args.event_id,
            topic=args.topic,
            since_ms=since_ms,
            timeout_s=args.timeout,
            use_ledger=args.ledger,
        )
    except (ConfigError, FilterError) as exc:
        print(f"capi-relay trace: {exc}", file=sys.stderr)
        return 2
    except (ReceiptTopicMissing, KafkaException) as exc:
        print(f"capi-relay trace: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(journey.to_json(), indent=2))
    else:
        print(journey.render())
    return 0 if journey.found else 1
