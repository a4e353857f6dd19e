"""The relay under test, as its own process: `build_relay` + `run_relay` from a config file —
the same wiring `capi-relay run` uses — stopping once ``--expect`` messages are finished (or
``--max-seconds`` passed), then draining and committing like a SIGTERM would.

Why a separate process: the relay's CPU time and peak RSS are then exactly the process's own
(read from /proc), not mixed with the benchmark driver, the producer or the sandbox.

It prints ``READY`` once partitions are assigned and, at the end, one JSON line ``RESULT {...}``
with: finished messages, seconds from the first consumed message to the last finished one, CPU
seconds over that span (all threads, librdkafka's included), VmHWM, and the engine's counts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from bench.procfs import status_kb, thread_cpu_delta, thread_cpu_seconds
from consumer.app import build_relay, run_relay
from consumer.config import load_settings
from consumer.engine import Engine
from consumer.observability.logging import configure_logging


class Watch:
    """Records when work started and ended with 10 ms resolution (run_relay's own stop check
    polls every 0.2 s, too coarse to time a run of a few seconds)."""

    def __init__(self, expect: int, max_seconds: float) -> None:
        self.expect = expect
        self.max_seconds = max_seconds
        self.first: float | None = None
        self.last: float | None = None
        self.cpu_first = 0.0
        self.cpu_last = 0.0
        self.done_at_stop = 0
        self.threads_first: dict[int, tuple[str, float]] = {}
        self.threads_last: dict[int, tuple[str, float]] = {}

    async def run(self, engine: Engine) -> None:
        """Poll the engine until ``expect`` messages are finished or time is up."""
        announced = False
        started = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            if not announced and engine.ready:
                print("READY", flush=True)
                announced = True
            finished = engine.stats.messages_finished
            if self.first is None and (engine.in_flight > 0 or finished > 0):
                self.first = time.monotonic()
                self.cpu_first = time.process_time()
                self.threads_first = thread_cpu_seconds()
            timed_out = self.first is not None and time.monotonic() - self.first >= self.max_seconds
            if finished >= self.expect or timed_out or time.monotonic() - started > self.max_seconds + 120:
                self.close(engine)
                return

    def close(self, engine: Engine) -> None:
        """Take the end of the measured span now (if `run` has not): the relay was stopped from
        outside, by SIGTERM (the scale-out phase stops its children that way)."""
        if self.last is not None:
            return
        self.last = time.monotonic()
        self.cpu_last = time.process_time()
        self.threads_last = thread_cpu_seconds()
        self.done_at_stop = engine.stats.messages_finished


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    settings = load_settings(args.config)
    configure_logging("json", settings.observability.log_level)
    relay = build_relay(settings)
    watch = Watch(args.expect, args.max_seconds)
    watcher = asyncio.get_running_loop().create_task(watch.run(relay.engine))
    drained = await run_relay(relay, stop_when=lambda _e: watcher.done(), install_signals=True)
    watcher.cancel()
    watch.close(relay.engine)
    first = watch.first or time.monotonic()
    last = watch.last or time.monotonic()
    stats = relay.engine.stats
    return {
        "finished": watch.done_at_stop,
        "finished_total": stats.messages_finished,
        "seconds": last - first,
        "first_monotonic": watch.first,
        "cpu_seconds": watch.cpu_last - watch.cpu_first,
        "vm_hwm_kb": status_kb("self", "VmHWM"),
        "drained": drained,
        "max_in_flight": stats.max_in_flight,
        "pauses": stats.pauses,
        "outcomes": stats.table(relay.retries()),
        "retries": relay.retries(),
        "thread_cpu_seconds": thread_cpu_delta(watch.threads_first, watch.threads_last),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the relay from ``--config`` until ``--expect`` messages are finished."""
    parser = argparse.ArgumentParser(prog="python -m bench.relay_child")
    parser.add_argument("--config", required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    result = asyncio.run(_main(parser.parse_args(argv)))
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
