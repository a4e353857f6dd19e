"""The `dlq` command group: `capi-relay dlq inspect` and `capi-relay dlq replay`.

Only argument parsing and output here; the work is in `inspect` and `replay`. Exit codes:
0 nothing failed again, 1 something did, 2 usage or configuration error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

from consumer.dlq_ops.filters import FilterError, RecordFilter, read_event_ids
from consumer.dlq_ops.summary import EXIT_USAGE

CONFIG_ENV = "CAPI_RELAY_CONFIG"


def _filter_args(parser: argparse.ArgumentParser, replay: bool) -> None:
    group = parser.add_argument_group("selection (repeat an option to allow several values)")
    group.add_argument(
        "--platform",
        action="append",
        metavar="SLUG",
        help="platform slug from the record's headers ('*' = decode-stage records)",
    )
    group.add_argument("--stage", action="append", choices=["decode", "enrich", "map", "deliver"])
    group.add_argument(
        "--reason",
        action="append",
        metavar="TEXT",
        help="error code (exact) or words of the reason (case-insensitive)",
    )
    group.add_argument("--outcome", action="append", metavar="OUTCOME", help="rejected, exhausted, auth")
    group.add_argument("--event-type", action="append", choices=["purchase", "lead", "qualified"])
    group.add_argument(
        "--since", metavar="TIME", help="failed at or after: 2h, 30m, 7d, ISO time or epoch ms"
    )
    group.add_argument("--until", metavar="TIME", help="failed before (same formats as --since)")
    if replay:
        group.add_argument("--event-id", action="append", metavar="ID", help="only this event id")
        group.add_argument(
            "--event-ids-file", metavar="PATH", help="only the event ids in this file, one per line"
        )


def _common_args(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a top-level --config of the main CLI is not overwritten by this default.
    parser.add_argument(
        "-c", "--config", default=argparse.SUPPRESS, help=f"relay config YAML (default: ${CONFIG_ENV})"
    )
    parser.add_argument("--topic", help="dead-letter topic (default: topics.dlq of the config)")
    parser.add_argument("--json", action="store_true", help="machine-readable output on stdout")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `dlq inspect` and `dlq replay` on the main CLI's subparsers."""
    dlq = subparsers.add_parser(
        "dlq", help="inspect and replay the dead-letter topic", description="Operate the dead-letter topic."
    )
    sub = dlq.add_subparsers(dest="dlq_command", metavar="{inspect,replay}")
    sub.required = True

    inspect = sub.add_parser(
        "inspect",
        help="summarise the dead-letter topic",
        description="Counts by platform x stage x reason x age; --show N prints records "
        "decoded with personal data masked.",
    )
    _common_args(inspect)
    _filter_args(inspect, replay=False)
    inspect.add_argument("--show", type=int, default=0, metavar="N", help="print N records, masked")
    inspect.set_defaults(func=main, dlq_handler=_inspect)

    replay = sub.add_parser(
        "replay",
        help="send dead-lettered events again to the platform that failed",
        description="Re-deliver each selected record only to the platform in its headers (decode-stage "
        "records: to every platform routed for their type). Resumable: the same command line "
        "continues where an interrupted run stopped.",
    )
    _common_args(replay)
    _filter_args(replay, replay=True)
    replay.add_argument(
        "--dry-run", action="store_true", help="show what would be sent; send, write, commit nothing"
    )
    replay.add_argument("--rate", type=float, metavar="N", help="at most N events per second")
    replay.add_argument(
        "--max-replays",
        type=int,
        default=3,
        metavar="N",
        help="replays per record before it is reported instead of re-queued (default 3)",
    )
    replay.add_argument("--group", help="consumer group (default: capi-relay-replay-<hash of the selection>)")
    replay.add_argument(
        "--commit-skipped",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="commit records outside the selection (default: yes with the per-selection "
        "group, no with --group)",
    )
    replay.add_argument(
        "--max-in-flight",
        type=int,
        default=1000,
        metavar="N",
        help="records being replayed at once before reading pauses (default 1000)",
    )
    replay.add_argument(
        "--show", type=int, default=20, metavar="N", help="dry run: list N records (default 20)"
    )
    replay.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress line on stderr"
    )
    replay.add_argument(
        "--no-enrich",
        dest="enrich",
        action="store_false",
        help="do not look up stored click IDs (default: enrich like the relay)",
    )
    replay.add_argument(
        "--ignore-ledger",
        dest="use_ledger",
        action="store_false",
        help="send even to platforms the delivery ledger says already accepted the event",
    )
    replay.set_defaults(func=main, dlq_handler=_replay)
    return dlq


def _settings(args: argparse.Namespace) -> Any:
    from consumer.config import load_settings

    path = getattr(args, "config", None) or os.environ.get(CONFIG_ENV)
    return load_settings(path)


def _record_filter(args: argparse.Namespace, replay: bool) -> RecordFilter:
    event_ids = list(getattr(args, "event_id", None) or [])
    if replay and getattr(args, "event_ids_file", None):
        event_ids += read_event_ids(args.event_ids_file)
    return RecordFilter.build(
        platforms=args.platform,
        stages=args.stage,
        reasons=args.reason,
        outcomes=args.outcome,
        event_types=args.event_type,
        event_ids=event_ids,
        since=args.since,
        until=args.until,
    )


def _inspect(args: argparse.Namespace) -> int:
    from consumer.builders import registry_client
    from consumer.codec import Codec
    from consumer.dlq_ops.inspect import record_view, render_records, render_summary, summarize
    from consumer.dlq_ops.records import DlqReader

    settings = _settings(args)
    flt = _record_filter(args, replay=False)
    topic = args.topic or settings.topics.dlq
    reader = DlqReader(settings.kafka.client_config(**{"group.id": "capi-relay-dlq-inspect"}), topic)
    shown: list[Any] = []
    codec = Codec(registry_client(settings), settings.topics.events) if args.show else None
    try:
        try:
            reader.plan(use_committed=False)
        except LookupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE

        def selected() -> Any:
            for record in reader.read_all():
                if len(shown) < args.show and flt.matches(record):
                    shown.append(record_view(record, codec))
                yield record

        summary = summarize(selected(), topic, flt)
    finally:
        reader.close()
    if args.json:
        payload = summary.to_json()
        if args.show:
            payload["records"] = shown
        print(json.dumps(payload, indent=2, default=str))
    else:
        print(render_summary(summary))
        if shown:
            print()
            print(render_records(shown))
    return 0


def _replay(args: argparse.Namespace) -> int:
    from consumer.dlq_ops.replay import ReplayOptions

    settings = _settings(args)
    options = ReplayOptions(
        filter=_record_filter(args, replay=True),
        topic=args.topic,
        group=args.group,
        dry_run=args.dry_run,
        rate=args.rate,
        max_replays=args.max_replays,
        commit_skipped=args.commit_skipped,
        max_in_flight=args.max_in_flight,
        progress=args.progress,
        show=args.show,
        use_ledger=args.use_ledger,
    )
    if args.rate is not None and args.rate <= 0:
        raise FilterError("--rate must be > 0")
    summary = asyncio.run(_run_replay(settings, options, args.enrich))
    if args.json:
        print(json.dumps(summary.to_json(), indent=2))
    else:
        print(summary.render())
    return summary.exit_code


async def _run_replay(settings: Any, options: Any, enrich: bool) -> Any:
    """Run the replay with the relay's click-ID enrichment (when a store is configured), so a
    replayed event carries the same click IDs the live path would have added."""
    from consumer.dlq_ops.replay import run_replay

    store = enricher = None
    if enrich and settings.store.backend != "none":
        from consumer.enrich.factory import build_enricher, build_store

        store = build_store(settings.store)
        enricher = build_enricher(settings.store, store) if store is not None else None
    try:
        return await run_replay(settings, options, enricher=enricher, install_signals=True)
    finally:
        if store is not None:
            await store.close()


def main(args: argparse.Namespace) -> int:
    """Run the parsed `dlq` subcommand; usage and configuration errors exit with 2."""
    from confluent_kafka import KafkaException

    from consumer.config import ConfigError
    from consumer.dlq_ops.replay import ReplayUsageError
    from consumer.store_check import StoreOpenError

    _quiet_logs()
    try:
        handler = args.dlq_handler
        code: int = handler(args)
        return code
    except (ConfigError, FilterError, ReplayUsageError, StoreOpenError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except (TimeoutError, KafkaException) as exc:  # broker unreachable or stuck: say so, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _quiet_logs() -> None:
    """Send structlog output to stderr (stdout is for tables and JSON) unless configured."""
    import logging

    import structlog

    if not structlog.is_configured():
        structlog.configure(
            logger_factory=structlog.PrintLoggerFactory(sys.stderr),
            wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        )


def standalone(argv: list[str] | None = None) -> int:
    """`python -m consumer.dlq_ops ...`: the same commands without the main CLI."""
    parser = argparse.ArgumentParser(prog="capi-relay")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    return main(parser.parse_args(argv))
