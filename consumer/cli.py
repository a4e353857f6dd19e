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
        for line in exc.problems:
            print(f"capi-relay: {line}", file=sys.stderr)
        return 2
    try:
        from consumer.observability.logging import configure_logging

        configure_logging(settings.observability.log_format, settings.observability.log_level)
    except ImportError:
        pass
    from consumer.control.topic import ControlTopicError
    from consumer.kafka.topics import MissingTopicError
    from consumer.preflight import run_checks
    from consumer.store_check import StoreOpenError

    log = structlog.get_logger("capi_relay.cli")
    report = run_checks(settings)  # a relay that cannot deliver must not start (nor go Ready)
    for line in report.problems:
        log.error("startup_check_failed", problem=line)
    if not report.ok:
        return 2
    log.info("relay_starting", config=str(args.config))
    try:
        relay = build_relay(settings)
    except (StoreOpenError, ConfigError) as exc:  # a store, or a connector's own settings
        print(f"capi-relay: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(run_relay(relay, install_signals=stop_signals))
    except (MissingTopicError, ControlTopicError) as exc:
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
        registry_url=args.registry,
        registry_settings=settings.schema_registry,
        subject_strategy=args.subject_strategy,
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
        if args.send:
            return _send_event(args, event)
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


def _send_event(args: argparse.Namespace, event: dict[str, Any]) -> int:
    """`preview --send`: exit 0 when the platform accepted it, 1 when it did not, 2 when it
    could not be sent as asked (see consumer/event_tester.py)."""
    from consumer.config import load_settings
    from consumer.event_tester import SendRefused, send_from_cli

    if not args.config:
        print("capi-relay preview: --send needs --config (the ids and credentials)", file=sys.stderr)
        return 2
    try:
        settings = load_settings(args.config)
        report = send_from_cli(
            settings, args.platform, event, test_event_code=args.test_event_code, live=args.live
        )
    except SendRefused as exc:
        for line in exc.lines:
            print(f"capi-relay preview: {line}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if report["outcome"]["kind"] == "delivered" else 1


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
    from consumer.devtools.apicurio_local import RegistrySetupError

    try:
        return run_demo(
            events=args.events,
            platforms=args.platforms.split(",") if args.platforms else None,
            registry=args.registry,
        )
    except RegistrySetupError as exc:
        print(f"capi-relay: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2


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
    ps.add_argument(
        "--subject-strategy",
        choices=("topic", "record", "topic_record"),
        help="registry subjects: {topic}-value (default), {record}, {topic}-{record}",
    )
    ps.add_argument("--seed", type=int, default=7)
    ps.add_argument(
        "--captures", type=int, default=0, help="also publish N click-ID captures for pooled users"
    )
    ps.set_defaults(func=_cmd_produce_sample)

    pv = sub.add_parser("preview", help="print the request a platform would receive for one event")
    pv.add_argument("--platform", required=True)
    pv.add_argument("--config", help="YAML configuration file (the platform's settings)")
    pv.add_argument("--now", help="ISO-8601 time to evaluate time windows against")
    pv.add_argument("--send", action="store_true", help="send it (test mode where the platform has one)")
    pv.add_argument("--test-event-code", help="with --send: the test event code (Meta, TikTok, Reddit)")
    pv.add_argument("--live", action="store_true", help="with --send: allow a live (non-test) request")
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
    demo.add_argument(
        "--registry", action="store_true", help="also run a local Schema Registry: wire format, references"
    )
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
    from consumer.ops_cli import add_parser as ops_parser

    found.append(ops_parser)
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
