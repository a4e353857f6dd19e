"""capi-relay end-to-end benchmark: one command, three measurements side by side in one run.

    python -m bench.relay_bench [--events N] [--out FILE] [--skip-rss] [--backlog N]

It starts a local Kafka broker (or uses ``$KAFKA_BOOTSTRAP_SERVERS``) and the platform sandbox
as a separate process with 50 ms response latency for Meta, Google and TikTok, pre-produces N
mixed events (about 30% of them find click IDs in the pre-loaded SQLite store), then measures:

  (a) ceiling  — consume + decode only, in this process;
  (b) relay    — the real `build_relay` + `run_relay` path in a child process (enrichment,
                 fan-out to the 3 platforms), until every event is finished and committed;
  (c) naive    — decode and POST synchronously, one request per event per platform
                 (time-boxed, extrapolated to events/s);
  (e) peer     — Meta's own Business SDK sending the same events to Meta in batches of 1,000
                 (time-boxed; needs the ``bench`` extra, skipped with a reason without it);

plus end-to-end latency at a fixed offered load (paced producer) and, unless ``--skip-rss``,
the relay's peak RSS while it works through a large backlog. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from bench.peer import SDK_MISSING, measure_peer
from bench.phases import measure_ceiling, measure_naive
from bench.procfs import cpu_seconds
from bench.relay_run import PLATFORMS, relay_config, start_relay
from bench.scale_out import measure_scale_out
from bench.workload import EventPool, EventProducer, TopicSet, create_topics, preload_captures
from consumer.config import load_settings
from sandbox.testing import SandboxProcessHandle, sandbox_process

KEYS = (
    "ceiling_eps",
    "relay_eps",
    "naive_eps",
    "ratio_relay_ceiling",
    "ratio_relay_naive",
    "p50_ms",
    "p99_ms",
    "peak_rss_mb",
    "cpu_s_per_1k",
    "events",
)
# beyond the keys the issue fixes: latency at a load one process sustains, and phase (d)
EXTRA_KEYS = (
    "sustainable_rate_eps",
    "p50_ms_sustainable",
    "p99_ms_sustainable",
    "scale_out_processes",
    "scale_out_eps",
    "ratio_scale_out_single",
    # (e): the official SDK as the peer; ratio = relay events/s x platforms / SDK events/s
    "peer_eps",
    "ratio_relay_peer",
)


def say(message: str) -> None:
    """Progress on stderr (stdout carries the figures)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def broker() -> Iterator[str]:
    """``$KAFKA_BOOTSTRAP_SERVERS`` if set, else a throwaway local broker."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    from consumer.devtools.kafka_local import LocalKafka

    with LocalKafka() as kafka:
        yield kafka.bootstrap_servers


class Bench:
    """One benchmark run: shared broker, sandbox, event pool and click-ID store."""

    def __init__(
        self, args: argparse.Namespace, bootstrap: str, sandbox: SandboxProcessHandle, workdir: Path
    ) -> None:
        self.args = args
        self.bootstrap = bootstrap
        self.sandbox = sandbox
        self.workdir = workdir
        self.run_id = uuid.uuid4().hex[:6]
        self.pool = EventPool()
        self.sqlite_path = str(workdir / "click-ids.db")
        self.figures: dict[str, Any] = {"events": args.events}
        self.throughput_topics: TopicSet | None = None
        self.details: dict[str, Any] = {}

    def topics(self, phase: str) -> TopicSet:
        """Fresh topics for one phase, created with the configured partitions."""
        topics = TopicSet.named(f"bench-{self.run_id}-{phase}")
        create_topics(self.bootstrap, topics, self.args.partitions)
        return topics

    def config(self, topics: TopicSet, group: str) -> dict[str, Any]:
        """The relay config for a phase."""
        return relay_config(
            self.bootstrap, self.sandbox.base_url, topics, group, self.sqlite_path, self.args.max_connections
        )

    def throughput(self) -> None:
        """(a), (b) and (c) on the same pre-produced topics."""
        n = self.args.events
        say(f"pre-loading {preload_captures(self.sqlite_path, self.pool)} click-ID captures")
        topics = self.throughput_topics = self.topics("tp")
        started = time.monotonic()
        EventProducer(self.bootstrap, topics, self.pool).produce_many(n, f"tp{self.run_id}")
        say(f"produced {n} events in {time.monotonic() - started:.1f} s")

        ceiling = measure_ceiling(self.bootstrap, topics.events, n)
        say(f"(a) ceiling: {ceiling.events} decoded in {ceiling.seconds:.2f} s = {ceiling.eps:,.0f}/s")

        wrap = None
        if self.args.profile:  # .svg: flame graph; anything else: collapsed stacks (text)
            fmt = "flamegraph" if self.args.profile.endswith(".svg") else "raw"
            wrap = ["py-spy", "record", "-r", "50", "-f", fmt, "-o", self.args.profile, "--"]
        sandbox_cpu = cpu_seconds(self.sandbox.process.pid)
        run = start_relay(self.config(topics, "bench-relay"), self.workdir, "throughput", n, wrap=wrap)
        result = run.wait(self.args.relay_timeout)
        sandbox_cpu = cpu_seconds(self.sandbox.process.pid) - sandbox_cpu
        relay_eps = result["finished"] / result["seconds"] if result["seconds"] > 0 else 0.0
        say(f"(b) relay: {result['finished']} finished in {result['seconds']:.2f} s = {relay_eps:,.0f}/s")
        stats = self.sandbox.stats()
        accepted = {slug: stats[slug]["unique_events"] for slug in PLATFORMS}
        say(f"    sandbox accepted (unique) {accepted}")

        settings = load_settings(**self.config(topics, "bench-naive"))
        naive = measure_naive(self.bootstrap, settings, PLATFORMS, n, self.args.naive_seconds)
        say(f"(c) naive: {naive.events} in {naive.seconds:.2f} s = {naive.eps:,.1f}/s")

        self.peer(relay_eps)

        self.figures.update(
            ceiling_eps=round(ceiling.eps, 1),
            relay_eps=round(relay_eps, 1),
            naive_eps=round(naive.eps, 1),
            ratio_relay_ceiling=round(relay_eps / ceiling.eps, 3) if ceiling.eps else 0.0,
            ratio_relay_naive=round(relay_eps / naive.eps, 1) if naive.eps else 0.0,
            cpu_s_per_1k=round(result["cpu_seconds"] / max(1, result["finished"]) * 1000, 4),
        )
        self.details["throughput"] = {
            "relay": result,
            "sandbox_unique_accepted": accepted,
            "ceiling": vars(ceiling),
            "naive": vars(naive),
            "relay_peak_rss_mb": round(run.peak_rss_mb, 1),
            "sandbox_cpu_seconds": round(sandbox_cpu, 2),
        }

    def peer(self, relay_eps: float) -> None:
        """(e): the official SDK's batched send of the same events to the sandbox's Meta."""
        assert self.throughput_topics is not None, "peer() runs within throughput()"
        if self.args.peer_seconds <= 0 or SDK_MISSING is not None:
            why = "--peer-seconds 0" if self.args.peer_seconds <= 0 else SDK_MISSING
            say(f"(e) peer: skipped ({why})")
            self.details["peer"] = {"skipped": why}
            return
        result = measure_peer(
            self.bootstrap,
            self.throughput_topics.events,
            self.sandbox.base_url,
            self.args.events,
            self.args.peer_seconds,
        )
        say(
            f"(e) peer (facebook-business SDK, Meta, batches of 1,000): {result.events} in "
            f"{result.seconds:.2f} s = {result.eps:,.0f}/s ({result.sdk_eps:,.0f}/s in the SDK alone; "
            f"{result.failed} refused)"
        )
        if result.first_error:
            say(f"    first refusal: {result.first_error}")
        self.figures.update(
            peer_eps=round(result.eps, 1),
            ratio_relay_peer=round(relay_eps * len(PLATFORMS) / result.eps, 2) if result.eps else 0.0,
        )
        rates = {"eps": round(result.eps, 1), "sdk_eps": round(result.sdk_eps, 1)}
        self.details["peer"] = {**vars(result), **rates}

    def latency(self) -> None:
        """End-to-end latency at the offered load the issue fixes (``--rate``, 5,000/s), and at a
        load this process sustains (``--sustainable-fraction`` of (b)'s events/s): above its
        throughput the lag — and so the latency — only grows with the length of the run."""
        offered = self._latency_at(self.args.rate, "lat")
        self.figures.update(p50_ms=offered["p50_ms"], p99_ms=offered["p99_ms"])
        self.details["latency"] = offered
        relay_eps = float(self.figures.get("relay_eps") or 0.0)
        rate = min(self.args.rate, round(relay_eps * self.args.sustainable_fraction / 100) * 100)
        if rate <= 0:
            return
        sustained = self._latency_at(rate, "sus")
        self.figures.update(
            sustainable_rate_eps=rate,
            p50_ms_sustainable=sustained["p50_ms"],
            p99_ms_sustainable=sustained["p99_ms"],
        )
        self.details["latency_sustainable"] = sustained

    def _latency_at(self, rate: float, phase: str) -> dict[str, Any]:
        """Event time (= produce time) -> accepted by the sandbox, at a paced offered load."""
        seconds = self.args.latency_seconds
        total = int(rate * seconds)
        topics = self.topics(phase)
        producer = EventProducer(self.bootstrap, topics, self.pool)
        self.sandbox.reset()
        run = start_relay(self.config(topics, f"bench-{phase}"), self.workdir, phase, total)
        if not run.ready.wait(60):
            raise RuntimeError("relay child did not get its partitions:\n" + "".join(run.lines[-40:]))
        say(f"offering {rate:,.0f} events/s for {seconds:.0f} s")
        sent: dict[str, int] = {}
        produced = producer.produce_paced(rate, seconds, f"{phase}{self.run_id}", sent)
        result = run.wait(self.args.relay_timeout)
        lat = {slug: self.sandbox.latency(slug) for slug in PLATFORMS}
        stats = self.sandbox.stats()
        exact = {slug: exact_latency(self.sandbox.events(slug), sent) for slug in PLATFORMS}
        overall = percentiles([ms for per in exact.values() for ms in per])
        say(
            f"    latency (all platforms) p50 {overall['p50_ms']} ms, p99 {overall['p99_ms']} ms, "
            f"n={overall['count']}; per platform p99 "
            + ", ".join(f"{slug} {percentiles(ms)['p99_ms']}" for slug, ms in exact.items())
        )
        return {
            "offered_eps": rate,
            "p50_ms": overall["p50_ms"],
            "p99_ms": overall["p99_ms"],
            "exact_per_platform": {slug: percentiles(ms) for slug, ms in exact.items()},
            "produced": produced,
            "relay": result,
            "per_platform": lat,  # the sandbox's histograms (Meta/TikTok send whole seconds)
            "sandbox_unique_accepted": {slug: stats[slug]["unique_events"] for slug in PLATFORMS},
        }

    def scale_out(self) -> None:
        """(d): the (b) backlog again, worked through by ``--scale-out`` processes in one group."""
        k = self.args.scale_out
        assert self.throughput_topics is not None, "scale_out() runs after throughput()"
        result = measure_scale_out(
            self.config(self.throughput_topics, "bench-scale"),
            self.sandbox,
            self.workdir,
            k,
            self.args.events,
            self.args.relay_timeout,
            say,
        )
        relay_eps = float(self.figures.get("relay_eps") or 0.0)
        self.figures.update(
            scale_out_processes=k,
            scale_out_eps=round(result.eps, 1),
            ratio_scale_out_single=round(result.eps / relay_eps, 2) if relay_eps else 0.0,
        )
        self.details["scale_out"] = {**vars(result), "eps": round(result.eps, 1)}

    def rss(self) -> None:
        """Peak RSS while the relay works through a large backlog (backpressure, not buffering)."""
        backlog = self.args.backlog
        topics = self.topics("rss")
        started = time.monotonic()
        EventProducer(self.bootstrap, topics, self.pool).produce_many(
            backlog,
            f"rss{self.run_id}",
            progress=lambda k: None if k % 200_000 else say(f"    backlog {k:,}"),
        )
        say(f"produced a backlog of {backlog:,} events in {time.monotonic() - started:.0f} s")
        self.sandbox.reset()
        target = min(backlog, self.args.rss_events)
        run = start_relay(
            self.config(topics, "bench-rss"), self.workdir, "rss", target, max_seconds=self.args.rss_seconds
        )
        result = run.wait(self.args.rss_seconds + self.args.relay_timeout)
        peak = run.peak_rss_mb
        say(f"    relay worked through {result['finished']:,} events; peak RSS {peak:.0f} MB")
        self.figures["peak_rss_mb"] = round(peak, 1)
        self.details["rss"] = {
            "backlog": backlog,
            "finished": result["finished"],
            "seconds": result["seconds"],
            "max_in_flight": result["max_in_flight"],
            "pauses": result["pauses"],
            "rss_samples_mb": [round(kb / 1024) for kb in run.rss_kb[:: max(1, len(run.rss_kb) // 60)]],
        }


def exact_latency(accepted: list[dict[str, Any]], sent: dict[str, int]) -> list[int]:
    """Produce time -> first acceptance in ms for each event the sandbox accepted, joined by
    event id with the producer's own clock reading: exact to the millisecond for every platform
    (the sandbox's own histogram only sees the event time the platform payload carries, whole
    seconds for Meta and TikTok)."""
    return [e["first_accepted_ms"] - sent[e["event_id"]] for e in accepted if e["event_id"] in sent]


def percentiles(values: list[int]) -> dict[str, Any]:
    """count, p50, p90, p99 and max of latencies in ms (None when there are none)."""
    if not values:
        return {"count": 0, "p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(values)

    def at(q: float) -> int:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "count": len(ordered),
        "p50_ms": at(0.5),
        "p90_ms": at(0.9),
        "p99_ms": at(0.99),
        "max_ms": ordered[-1],
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (defaults: the full run documented in docs/benchmarks.md)."""
    p = argparse.ArgumentParser(prog="python -m bench.relay_bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=200_000, help="events for (a), (b) and (c)")
    p.add_argument("--out", help="write the figures as JSON to this file")
    p.add_argument("--skip-rss", action="store_true", help="skip the large-backlog RSS phase")
    p.add_argument("--backlog", type=int, default=1_000_000, help="backlog size for the RSS phase")
    p.add_argument("--rss-events", type=int, default=200_000, help="stop the RSS phase after this many")
    p.add_argument("--rss-seconds", type=float, default=120.0, help="... or after this many seconds")
    p.add_argument("--rate", type=float, default=5000.0, help="offered load of the latency phase (events/s)")
    p.add_argument(
        "--sustainable-fraction",
        type=float,
        default=0.5,
        help="second latency run at this fraction of (b)'s events/s (0: skip)",
    )
    p.add_argument(
        "--scale-out", type=int, default=2, help="relay processes in phase (d), one group (0: skip)"
    )
    p.add_argument("--latency-seconds", type=float, default=20.0, help="duration of the latency phase")
    p.add_argument("--naive-seconds", type=float, default=20.0, help="time box of the naive baseline")
    p.add_argument(
        "--peer-seconds", type=float, default=20.0, help="time box of the SDK peer phase (e) (0: skip)"
    )
    p.add_argument("--partitions", type=int, default=6, help="partitions per event topic")
    p.add_argument("--max-connections", type=int, default=32, help="relay connections per platform")
    p.add_argument("--latency-ms", type=float, default=50.0, help="sandbox response latency")
    p.add_argument("--relay-timeout", type=float, default=900.0, help="give up on a relay phase after this")
    p.add_argument("--profile", help="record a py-spy flame graph (SVG) of the relay in phase (b)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run every phase, print the figures, write ``--out``."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="capi-bench-") as tmp:
        workdir = Path(tmp)
        faults = {slug: {"latency_ms": args.latency_ms} for slug in PLATFORMS}
        (workdir / "sandbox.yaml").write_text(yaml.safe_dump({"faults": faults}), encoding="utf-8")
        with broker() as bootstrap, sandbox_process(workdir / "sandbox.yaml") as sandbox:
            say(f"broker {bootstrap}, sandbox {sandbox.base_url} ({args.latency_ms:.0f} ms latency)")
            bench = Bench(args, bootstrap, sandbox, workdir)
            bench.throughput()
            if args.scale_out > 0:
                bench.scale_out()
            bench.latency()
            if not args.skip_rss:
                bench.rss()
    figures = {key: bench.figures.get(key) for key in (*KEYS, *EXTRA_KEYS)}
    for key, value in figures.items():
        print(f"{key:>22}  {value}")
    if args.out:
        report = {**figures, "details": bench.details}
        Path(args.out).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
