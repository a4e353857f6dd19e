"""Operator commands: `check` (everything the relay needs, before it runs). Parsing and
printing only; the checks live in `consumer.preflight`."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from typing import Any

DEFAULT_TIMEOUT_S = 5.0
DEFAULT_STATUS_URL = "http://127.0.0.1:9400/status"


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


def _cmd_status(args: argparse.Namespace) -> int:
    from consumer.observability.status import status_table

    try:
        with urllib.request.urlopen(args.url, timeout=args.timeout) as response:  # an operator's URL
            doc = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"capi-relay status: cannot read {args.url}: {reason}", file=sys.stderr)
        return 2
    print(json.dumps(doc, indent=2) if args.json else status_table(doc))
    return 0


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

    status = sub.add_parser("status", help="each platform's state and the consumer's, from a running relay")
    status.add_argument(
        "--url", default=DEFAULT_STATUS_URL, help=f"the relay's /status (default {DEFAULT_STATUS_URL})"
    )
    status.add_argument("--json", action="store_true", help="the JSON document as served")
    status.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S)
    status.set_defaults(func=_cmd_status)
