"""Operator commands: `check` (everything the relay needs, before it runs). Parsing and
printing only; the checks live in `consumer.preflight`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

DEFAULT_TIMEOUT_S = 5.0


def _cmd_check(args: argparse.Namespace) -> int:
    # imported here, not at module load: `capi-relay run` builds this parser too and must stay
    # quick to install its signal handlers (see consumer/stop_signals.py)
    from consumer.config import ConfigError, load_settings
    from consumer.preflight import Report, run_checks

    report = Report()
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        report.checked.append("settings")
        report.problems += exc.problems
    else:
        report = run_checks(settings, services=not args.offline, timeout_s=args.timeout)
    if args.json:
        print(json.dumps({"ok": report.ok, "checked": report.checked, "problems": report.problems}))
    elif report.ok:
        print(f"ok: {', '.join(report.checked)}")
    else:
        for line in report.problems:
            print(line, file=sys.stderr)
    return 0 if report.ok else 2


def add_parser(sub: Any) -> None:
    """Register the operator commands on the `capi-relay` subparsers."""
    check = sub.add_parser(
        "check", help="validate the configuration and probe the broker, registry and stores"
    )
    check.add_argument("--config", required=True, help="YAML configuration file")
    check.add_argument("--json", action="store_true", help="one JSON object: ok, checked, problems")
    check.add_argument(
        "--offline", action="store_true", help="settings and credentials only: skip broker, registry, stores"
    )
    check.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds each service probe may take"
    )
    check.set_defaults(func=_cmd_check)
