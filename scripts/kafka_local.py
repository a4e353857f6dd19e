#!/usr/bin/env python3
"""Run a local single-node Kafka broker for demos: ``start | stop | status | ensure-jars``.

Why a script as well as the library: the README demo and developers need a broker that
outlives one command. ``start`` launches it detached (it survives this script), records
its address and PID in ``.cache/kafka/run/state.json`` and prints the bootstrap address;
``stop`` reads that file and shuts it down. Tests use :class:`LocalKafka` directly instead.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

try:
    from consumer.devtools import procs
    from consumer.devtools.jars import DEFAULT_CACHE_DIR, KAFKA_VERSION, ensure_jars
    from consumer.devtools.kafka_local import LocalKafka
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from consumer.devtools import procs
    from consumer.devtools.jars import DEFAULT_CACHE_DIR, KAFKA_VERSION, ensure_jars
    from consumer.devtools.kafka_local import LocalKafka

RUN_DIR = DEFAULT_CACHE_DIR / "run"
STATE_FILE = RUN_DIR / "state.json"


def read_state() -> dict[str, object] | None:
    """Return the recorded broker state if that broker is still alive, else None."""
    return procs.live_state(STATE_FILE, "data_dir")


def cmd_start(args: argparse.Namespace) -> int:
    """Start a detached broker unless one recorded in the state file is already running."""
    state = read_state()
    if state is not None:
        print(f"already running: {state['bootstrap_servers']} (pid {state['pid']})", file=sys.stderr)
        print(state["bootstrap_servers"])
        return 0
    data_dir = RUN_DIR / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    port = args.port or None
    if port is not None and procs.port_open(port):
        print(f"port {port} is taken; use --port 0 for a free one", file=sys.stderr)
        return 1
    kafka = LocalKafka(port=port, data_dir=data_dir, version=args.version, die_with_parent=False)
    kafka.start()
    state = kafka.detach()
    STATE_FILE.write_text(json.dumps(state, indent=2) + "\n")
    print(f"Kafka {args.version} running: {state['bootstrap_servers']} (pid {state['pid']})", file=sys.stderr)
    print(f"stop it with: python {Path(__file__).name} stop", file=sys.stderr)
    print(state["bootstrap_servers"])
    return 0


def cmd_stop(_args: argparse.Namespace) -> int:
    """Stop the broker recorded in the state file and delete its data."""
    state = read_state()
    if state is None:
        print("no local broker running", file=sys.stderr)
    else:
        procs.terminate_group(int(str(state["pid"])))
        shutil.rmtree(str(state["data_dir"]), ignore_errors=True)
        print(f"stopped pid {state['pid']}", file=sys.stderr)
    STATE_FILE.unlink(missing_ok=True)
    return 0


def cmd_status(_args: argparse.Namespace) -> int:
    """Print the running broker's state as JSON; exit 1 when none is running."""
    state = read_state()
    if state is None:
        print("not running", file=sys.stderr)
        return 1
    print(json.dumps(state, indent=2))
    return 0


def cmd_ensure_jars(args: argparse.Namespace) -> int:
    """Resolve the broker jars with Maven (what CI runs before the tests)."""
    print(ensure_jars(args.version))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the sub-command and run it; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", default=KAFKA_VERSION, help="Kafka version (default %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start a detached broker and print its bootstrap address")
    start.add_argument("--port", type=int, default=9092, help="client port, 0 = any free (default 9092)")
    start.set_defaults(func=cmd_start)
    sub.add_parser("stop", help="stop the broker started by 'start'").set_defaults(func=cmd_stop)
    sub.add_parser("status", help="show the running broker").set_defaults(func=cmd_status)
    sub.add_parser("ensure-jars", help="fetch the broker jars with Maven").set_defaults(func=cmd_ensure_jars)
    args = parser.parse_args(argv)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
