"""Before/after of an optimisation on a noisy shared machine: the relay of two source trees
run alternately against the same broker, sandbox and pre-produced events, several rounds.

    git archive <commit> | tar -x -C /tmp/before
    python -m bench.ab --before /tmp/before [--events 30000] [--rounds 2] [--warmup 1]

Why: the machine's other load moves wall-clock throughput by 2x between runs minutes apart;
interleaving the two trees in one run, and comparing CPU seconds per 1,000 events (which
contention barely moves) as well as events/s, shows what the change itself did. Every run has
its own delivery ledger, so each one delivers every event to every platform.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path

import yaml

from bench.relay_bench import broker, say
from bench.relay_run import PLATFORMS, relay_config, start_relay
from bench.workload import EventPool, EventProducer, TopicSet, create_topics, preload_captures
from sandbox.testing import sandbox_process


def main(argv: list[str] | None = None) -> int:
    """Run both trees ``--rounds`` times each and print events/s and CPU s per 1k events."""
    p = argparse.ArgumentParser(prog="python -m bench.ab")
    p.add_argument("--before", required=True, help="source tree of the 'before' version")
    p.add_argument("--events", type=int, default=30_000)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="uncounted relay runs first (the first run on a fresh broker measured 10-40%% more CPU)",
    )
    args = p.parse_args(argv)
    trees = {"before": Path(args.before).resolve(), "after": Path.cwd()}
    rows: list[tuple[str, int, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="capi-ab-") as tmp, broker() as bootstrap:
        workdir = Path(tmp)
        faults = {slug: {"latency_ms": 50.0} for slug in PLATFORMS}
        (workdir / "sandbox.yaml").write_text(yaml.safe_dump({"faults": faults}), encoding="utf-8")
        with sandbox_process(workdir / "sandbox.yaml") as sandbox:
            pool = EventPool()
            db = str(workdir / "click-ids.db")
            preload_captures(db, pool)
            # fresh topics every invocation: against a long-lived broker (KAFKA_BOOTSTRAP_SERVERS)
            # a fixed name kept every earlier invocation's events, and each run consumed those
            # (hours old, already seen by the sandbox) instead of the ones just produced
            topics = TopicSet.named(f"ab-{uuid.uuid4().hex[:8]}")
            create_topics(bootstrap, topics, 6)
            EventProducer(bootstrap, topics, pool).produce_many(args.events, "ab")
            for rnd in range(args.warmup):
                config = relay_config(bootstrap, sandbox.base_url, topics, f"ab-warmup-{rnd}", db)
                config["ledger"] = {"sqlite_path": str(workdir / f"ledger-warmup-{rnd}.db")}
                warm = start_relay(config, workdir, f"warmup-{rnd}", args.events, cwd=trees["before"])
                result = warm.wait(900)
                say(f"warm-up {rnd}: {result['finished'] / result['seconds']:8,.0f} events/s (not counted)")
            for rnd in range(args.rounds):
                for name, tree in trees.items():
                    config = relay_config(bootstrap, sandbox.base_url, topics, f"ab-{name}-{rnd}", db)
                    # a fresh delivery ledger per run: with a shared one every run after the first
                    # finds each event already accepted and skips delivering it (no HTTP, no
                    # dispatch, no ledger writes), which measured the skip path, not the relay
                    config["ledger"] = {"sqlite_path": str(workdir / f"ledger-{name}-{rnd}.db")}
                    run = start_relay(config, workdir, f"{name}-{rnd}", args.events, cwd=tree)
                    result = run.wait(900)
                    eps = result["finished"] / result["seconds"]
                    cpu_1k = result["cpu_seconds"] / result["finished"] * 1000
                    say(f"round {rnd} {name:>6}: {eps:8,.0f} events/s  {cpu_1k:.3f} CPU s/1k")
                    if "thread_cpu_seconds" in result:
                        say(f"    CPU s by thread: {result['thread_cpu_seconds']}")
                    rows.append((name, rnd, eps, cpu_1k))
    for name in trees:
        mine = [r for r in rows if r[0] == name]
        best_eps = max(r[2] for r in mine)
        best_cpu = min(r[3] for r in mine)
        print(f"{name:>6}: best {best_eps:,.0f} events/s, best {best_cpu:.3f} CPU s per 1k events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
