"""`capi-relay` subcommands. Parsing and printing only: each command calls into the package."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from consumer.stop_signals import StopSignals


def _cmd_run(args: argparse.Namespace) -> int:
    stop_signals = getattr(args, "stop_signals", None) or StopSignals().install()
    import structlog

    from consumer.app import build_relay, run_relay
    from consumer.config import ConfigError, load_settings

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"capi-relay: {exc}", file=sys.stderr)
        return 2
    try:
        from consumer.observability.logging import configure_logging

        configure_logging(settings.observability.log_format, settings.observability.log_level)
    except ImportError:
        pass
    from consumer.kafka.topics import MissingTopicError

    log = structlog.get_logger("capi_relay.cli")
    log.info("relay_starting", config=str(args.config))
    try:
        relay = build_relay(settings)
    except ConfigError as exc:  # a connector's own settings (e.g. test_mode without its marker)
        print(f"capi-relay: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(run_relay(relay, install_signals=stop_signals))
    except MissingTopicError as exc:
        print(f"capi-relay: {exc}", file=sys.stderr)
        return 2
    print(relay.engine.stats.table(relay.retries()), file=sys.stderr)
    return 0


def _cmd_produce_sample(args: argparse.Namespace) -> int:
    from consumer.config import ConfigError, load_settings
    from consumer.producing import produce_samples

    try:
        settings = load_settings(args.config) if args.config else load_settings()
    except ConfigError as exc:
        print(f"capi-relay: {exc}", file=sys.stderr)
        return 2
    bootstrap = args.bootstrap or settings.kafka.bootstrap_servers
    counts = produce_samples(
        bootstrap,
        args.count,
        topics=settings.topics.events,
        registry_url=args.registry or settings.schema_registry.url,
        seed=args.seed,
        captures=args.captures,
        capture_topic=settings.topics.click_ids,
    )
    print(json.dumps(counts))
    return 0


def _cmd_preview(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from connectors.registry import UnknownPlatformError
    from consumer.config import ConfigError, load_settings
    from consumer.preview import InvalidEventError, preview_request

    try:
        raw = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
        event = json.loads(raw)
        if not isinstance(event, dict):
            raise InvalidEventError("the event must be a JSON object")
        platform_settings: dict[str, Any] | None = None
        if args.config:
            settings = load_settings(args.config)
            pcfg = settings.platforms.get(args.platform)
            platform_settings = dict(pcfg.settings) if pcfg else None
        now_ms = None
        if args.now:
            now_ms = int(datetime.fromisoformat(args.now.replace("Z", "+00:00")).timestamp() * 1000)
        result = preview_request(args.platform, event, platform_settings, now_ms)
    except (OSError, json.JSONDecodeError) as exc:
        print(f"capi-relay preview: cannot read the event: {exc}", file=sys.stderr)
        return 2
    except InvalidEventError as exc:
        print(f"capi-relay preview: invalid event: {exc}", file=sys.stderr)
        return 2
    except (UnknownPlatformError, ConfigError, ValueError, ValidationError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"capi-relay preview: {message}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from sandbox.__main__ import main as sandbox_main

    argv = ["--host", args.host, "--port", str(args.port)]
    if args.config:
        argv += ["--config", args.config]
    if args.seed is not None:
        argv += ["--seed", str(args.seed)]
    return sandbox_main(argv)


def _cmd_demo(args: argparse.Namespace) -> int:
    from consumer.demo import run_demo

    return run_demo(events=args.events, platforms=args.platforms.split(",") if args.platforms else None)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="capi-relay", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="consume events and deliver them until SIGTERM/SIGINT")
    run.add_argument("--config", required=True, help="YAML configuration file")
    run.set_defaults(func=_cmd_run)

    ps = sub.add_parser("produce-sample", help="publish realistic sample events (demo, benchmark)")
    ps.add_argument("--count", type=int, default=1000, help="number of events (mixed types)")
    ps.add_argument("--bootstrap", help="bootstrap servers (default: from --config or 127.0.0.1:9092)")
    ps.add_argument("--config", help="YAML configuration file (topics, registry)")
    ps.add_argument("--registry", help="Schema Registry URL (wire format); default plain Avro")
    ps.add_argument("--seed", type=int, default=7)
    ps.add_argument(
        "--captures", type=int, default=0, help="also publish N click-ID captures for pooled users"
    )
    ps.set_defaults(func=_cmd_produce_sample)

    pv = sub.add_parser("preview", help="print the request a platform would receive for one event")
    pv.add_argument("--platform", required=True)
    pv.add_argument("--config", help="YAML configuration file (the platform's settings)")
    pv.add_argument("--now", help="ISO-8601 time to evaluate time windows against")
    pv.add_argument("file", help="event JSON file, or - for standard input")
    pv.set_defaults(func=_cmd_preview)

    sb = sub.add_parser("sandbox", help="run the local platform sandbox")
    sb.add_argument("--host", default="127.0.0.1")
    sb.add_argument("--port", type=int, default=8080)
    sb.add_argument("--config", help="sandbox faults/tokens YAML")
    sb.add_argument("--seed", type=int)
    sb.set_defaults(func=_cmd_sandbox)

    demo = sub.add_parser("demo", help="embedded default: local broker + sandbox + sample events + relay")
    demo.add_argument("--events", type=int, default=3000)
    demo.add_argument("--platforms", help="comma-separated platforms (default meta,google,tiktok)")
    demo.set_defaults(func=_cmd_demo)

    for register in _extensions():
        register(sub)
    return parser


def _extensions() -> list[Any]:
    """Command groups that live in their own packages (registered if present)."""
    found: list[Any] = []
    try:
        from consumer.dlq_ops.cli import add_parser as dlq_parser

        found.append(dlq_parser)
    except ImportError:
        pass
    from consumer.receipts.cli import add_parser as trace_parser

    found.append(trace_parser)
    return found


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `capi-relay` console script."""
    argv = sys.argv[1:] if argv is None else argv
    # `run` takes SIGTERM/SIGINT over before the slow imports below (see consumer/stop_signals.py)
    stop_signals = StopSignals().install() if argv[:1] == ["run"] else None
    parser = build_parser()
    args = parser.parse_args(argv)
    args.stop_signals = stop_signals
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
