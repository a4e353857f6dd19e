"""Every Kafka client the relay builds routes librdkafka's own lines through structlog.

A client made without ``with_logger`` (or preflight's quiet logger) writes librdkafka's plain
``%3|…`` lines to stderr, and a JSON-format run stops being JSON. The control topic's
clients once did (found by the broker-restart fault test); this keeps every new one honest.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = {"Consumer", "Producer", "AdminClient"}
EXEMPT = {
    "consumer/devtools",  # the local broker's own tooling, not the relay
    "consumer/producing.py",  # produce-sample: a one-shot command line tool
}


def _unrouted(path: Path) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in CLIENTS):
            continue
        arg = node.args[0] if node.args else None
        routed = isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id == "with_logger"
        quiet = isinstance(arg, ast.Name)  # a config built with client_config(logger=...) above
        if not (routed or quiet):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.func.id}(...) without with_logger")
    return found


def test_every_kafka_client_has_the_structlog_logger() -> None:
    problems: list[str] = []
    for path in sorted((ROOT / "consumer").rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        if any(rel.startswith(e) for e in EXEMPT):
            continue
        problems += _unrouted(path)
    assert problems == []
