#!/usr/bin/env python3
"""Run a local Schema Registry (Apicurio, Confluent-compatible API): ``start | stop | status | ensure``.

Why a script as well as the library: developers and the demo need a registry that outlives one
command. ``start`` launches it detached, records its URL and PID in
``.cache/apicurio/run/state.json`` and prints the Confluent-compatible URL to give to
``--registry`` or ``schema_registry.url``; ``stop`` shuts it down. The registry keeps its
schemas in memory: a restart starts empty. Tests use :class:`LocalApicurio` directly instead.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

try:
    from consumer.devtools import procs
    from consumer.devtools.apicurio_local import (
        APICURIO_VERSION,
        DEFAULT_CACHE_DIR,
        JAVA_RELEASE,
        LocalApicurio,
        RegistrySetupError,
        ensure_distribution,
    )
    from consumer.devtools.java import JavaNotFoundError, find_java
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from consumer.devtools import procs
    from consumer.devtools.apicurio_local import (
        APICURIO_VERSION,
        DEFAULT_CACHE_DIR,
        JAVA_RELEASE,
        LocalApicurio,
        RegistrySetupError,
        ensure_distribution,
    )
    from consumer.devtools.java import JavaNotFoundError, find_java

RUN_DIR = DEFAULT_CACHE_DIR / "run"
STATE_FILE = RUN_DIR / "state.json"


def read_state() -> dict[str, object] | None:
    """Return the recorded registry state if that registry is still alive, else None."""
    return procs.live_state(STATE_FILE, "work_dir")


def cmd_start(args: argparse.Namespace) -> int:
    """Start a detached registry unless the one recorded in the state file is still running."""
    state = read_state()
    if state is not None:
        print(f"already running: {state['url']} (pid {state['pid']})", file=sys.stderr)
        print(state["url"])
        return 0
    port = args.port or None
    if port is not None and procs.port_open(port):
        print(f"port {port} is taken; use --port 0 for a free one", file=sys.stderr)
        return 1
    work_dir = RUN_DIR / "work"
    shutil.rmtree(work_dir, ignore_errors=True)
    registry = LocalApicurio(port=port, work_dir=work_dir, version=args.version, die_with_parent=False)
    try:
        registry.start()
    except RegistrySetupError as exc:
        print(f"apicurio-local: {exc}", file=sys.stderr)
        return 1
    state = registry.detach()
    STATE_FILE.write_text(json.dumps(state, indent=2) + "\n")
    print(f"Apicurio Registry {args.version} running: {state['url']} (pid {state['pid']})", file=sys.stderr)
    print(f"stop it with: python {Path(__file__).name} stop", file=sys.stderr)
    print(state["url"])
    return 0


def cmd_stop(_args: argparse.Namespace) -> int:
    """Stop the registry recorded in the state file."""
    state = read_state()
    if state is None:
        print("no local registry running", file=sys.stderr)
    else:
        procs.terminate_group(int(str(state["pid"])), grace=10.0)
        shutil.rmtree(str(state["work_dir"]), ignore_errors=True)
        print(f"stopped pid {state['pid']}", file=sys.stderr)
    STATE_FILE.unlink(missing_ok=True)
    return 0


def cmd_status(_args: argparse.Namespace) -> int:
    """Print the running registry's state as JSON; exit 1 when none is running."""
    state = read_state()
    if state is None:
        print("not running", file=sys.stderr)
        return 1
    print(json.dumps(state, indent=2))
    return 0


def cmd_ensure(args: argparse.Namespace) -> int:
    """Fetch the distribution and check for a suitable Java (what CI runs before the tests)."""
    try:
        java = find_java(JAVA_RELEASE)
    except JavaNotFoundError as exc:
        print(f"apicurio-local: {exc}", file=sys.stderr)
        return 1
    try:
        dist = ensure_distribution(args.version)
    except RegistrySetupError as exc:
        print(f"apicurio-local: {exc}", file=sys.stderr)
        return 1
    print(f"java: {java}", file=sys.stderr)
    print(dist)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the sub-command and run it; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", default=APICURIO_VERSION, help="Apicurio version (default %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start a detached registry and print its URL")
    start.add_argument("--port", type=int, default=8081, help="HTTP port, 0 = any free (default 8081)")
    start.set_defaults(func=cmd_start)
    sub.add_parser("stop", help="stop the registry started by 'start'").set_defaults(func=cmd_stop)
    sub.add_parser("status", help="show the running registry").set_defaults(func=cmd_status)
    sub.add_parser("ensure", help="fetch the distribution, find Java 21+").set_defaults(func=cmd_ensure)
    args = parser.parse_args(argv)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
