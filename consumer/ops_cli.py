"""Operator commands: `check` (everything the relay needs, before it runs). Parsing and
printing only; the checks live in `consumer.preflight`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

DEFAULT_TIMEOUT_S = 5.0
DEFAULT_STATUS_URL = "http://127.0.0.1:9400/status"
DEFAULT_ADMIN_URL = "http://127.0.0.1:9401"


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
    from consumer.status import status_table

    try:
        with urllib.request.urlopen(args.url, timeout=args.timeout) as response:  # an operator's URL
            doc = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"capi-relay status: cannot read {args.url}: {reason}", file=sys.stderr)
        return 2
    print(json.dumps(doc, indent=2) if args.json else status_table(doc))
    return 0


def _cmd_pause_resume(args: argparse.Namespace) -> int:
    action = "pause" if args.command == "pause" else "resume"
    body = json.dumps({"reason": args.reason} if action == "pause" and args.reason else {}).encode()
    request = urllib.request.Request(
        f"{args.url.rstrip('/')}/platforms/{args.platform}/{action}",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    token = os.environ.get(args.token_env) if args.token_env else None
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:  # an operator's URL
            doc = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error", exc.reason)
        except ValueError:
            message = exc.reason
        print(f"capi-relay {action}: {message}", file=sys.stderr)
        return 2
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"capi-relay {action}: cannot reach {args.url}: {getattr(exc, 'reason', exc)}", file=sys.stderr)
        return 2
    state = "paused" if doc.get("paused") else "resumed"
    reason = f" ({doc['reason']})" if doc.get("paused") and doc.get("reason") else ""
    print(f"{args.platform}: {state}{reason}")
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

    for name, text in (
        ("pause", "hold a platform's events (every replica; survives restarts) until resumed"),
        ("resume", "deliver a paused platform's held events again"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("platform")
        if name == "pause":
            cmd.add_argument("--reason", help="shown in /status and the logs")
        cmd.add_argument(
            "--url", default=DEFAULT_ADMIN_URL, help=f"the relay's admin endpoint ({DEFAULT_ADMIN_URL})"
        )
        cmd.add_argument(
            "--token-env", default="CAPI_ADMIN_TOKEN", help="variable holding the admin token (sent when set)"
        )
        cmd.add_argument("--timeout", type=float, default=20.0)
        cmd.set_defaults(func=_cmd_pause_resume)
