"""Phase (d): the same backlog worked through by K relay processes in one consumer group.

Why: a single CPython relay process is CPU-bound on one core, so capi-relay scales the way
Kafka consumers do — more processes (pods) in the group, partitions spread across them. This
phase shows what adding a process buys on the machine at hand, next to the one-process figure
(b) of the same run. On a 2-core machine that also hosts the broker and the sandbox the gain is
capped by the cores left over; on a Kubernetes node with spare cores it is close to linear.

Timing: from the first message any child consumed (children share the system-wide monotonic
clock) to the moment the sandbox holds every event on every platform; CPU is the sum of the
children's own CPU seconds.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.relay_run import PLATFORMS, RelayRun, start_relay
from sandbox.testing import SandboxProcessHandle


@dataclass
class ScaleOutResult:
    """K processes, N events, seconds from first consumed to all accepted, CPU (all children)."""

    processes: int
    events: int
    seconds: float
    cpu_seconds: float
    per_process_finished: list[int]

    @property
    def eps(self) -> float:
        """Events per second, all processes together."""
        return self.events / self.seconds if self.seconds > 0 else 0.0


def measure_scale_out(
    config: dict[str, Any],
    sandbox: SandboxProcessHandle,
    workdir: Path,
    processes: int,
    events: int,
    timeout_s: float,
    say: Callable[[str], None] = print,
) -> ScaleOutResult:
    """Start ``processes`` relay children on ``config`` (one group), wait until the sandbox has
    accepted all ``events`` on every platform, then SIGTERM them (drain, commit) and add up."""
    sandbox.reset()
    runs: list[RelayRun] = []
    for i in range(processes):
        # each process its own delivery ledger, as each pod has its own SQLite file (and a fresh
        # one: the ledger of phase (b) already holds these events and would skip them all)
        child = {**config, "ledger": {"sqlite_path": str(workdir / f"ledger-scale{i}.db")}}
        runs.append(start_relay(child, workdir, f"scale{i}", expect=10 * events + 1, max_seconds=timeout_s))
    try:
        deadline = time.monotonic() + timeout_s
        done_at = None
        while time.monotonic() < deadline:
            stats = sandbox.stats()
            if all(stats.get(slug, {}).get("unique_events", 0) >= events for slug in PLATFORMS):
                done_at = time.monotonic()
                break
            if any(run.process.poll() is not None for run in runs):
                break
            time.sleep(0.05)
        for run in runs:
            if run.process.poll() is None:
                run.process.send_signal(signal.SIGTERM)
        results = [run.wait(120) for run in runs]
    finally:
        for run in runs:
            if run.process.poll() is None:
                run.process.kill()
    if done_at is None:
        raise RuntimeError(f"{processes} relay processes did not deliver {events} events in {timeout_s:.0f}s")
    first = min(r["first_monotonic"] for r in results if r.get("first_monotonic") is not None)
    result = ScaleOutResult(
        processes=processes,
        events=events,
        seconds=done_at - first,
        cpu_seconds=sum(r["cpu_seconds"] for r in results),
        per_process_finished=[r["finished_total"] for r in results],
    )
    say(f"(d) {processes} relay processes: {events} in {result.seconds:.2f} s = {result.eps:,.0f}/s "
        f"(finished per process {result.per_process_finished})")
    return result
