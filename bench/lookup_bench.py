"""Batched click-ID lookup throughput of the SQLite and Redis backends.

Why: enrichment sits on the hot path of every event, so one batched lookup must keep up with
the consumer (target: >= 20,000 lookups/s on Redis). The benchmark pre-loads captures, then
looks keys up in batches of 500 (half of them hits) and prints lookups per second per backend.
It starts its own throwaway Redis.

    python bench/lookup_bench.py [--keys N] [--batch 500] [--backends sqlite,redis]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from consumer.devtools.redis_local import RedisServer
from consumer.enrich.model import StoredCapture
from consumer.enrich.redis_store import RedisClickIdStore
from consumer.enrich.sqlite_store import SqliteClickIdStore
from consumer.enrich.store import CaptureRecord, ClickIdStore

LOAD_CHUNK = 2_000


def make_records(n: int, now_ms: int) -> list[CaptureRecord]:
    """``n`` captures, each under an external_id and an anonymous_id key."""
    records: list[CaptureRecord] = []
    for i in range(n):
        keys = [f"external_id:user-{i}", f"anonymous_id:anon-{i}"]
        ids = {
            "fbc": f"fb.1.{now_ms}.IwAR{i:08d}",
            "fbp": f"fb.1.{now_ms}.{i}",
            "gclid": f"Cj0KCQ-{i}",
            "ttclid": f"E.C.P.{i}",
        }
        records.append((keys, StoredCapture(f"cap-{i}", now_ms - 1000, ids, keys[0])))
    return records


async def run_backend(name: str, store: ClickIdStore, n: int, batch: int, seconds: float) -> float:
    """Load ``n`` captures, then look up for ``seconds``; returns lookups per second."""
    now_ms = int(time.time() * 1000)
    records = make_records(n, now_ms)
    t0 = time.perf_counter()
    for start in range(0, n, LOAD_CHUNK):
        await store.upsert_many(records[start : start + LOAD_CHUNK])
    load_s = time.perf_counter() - t0
    rng = random.Random(7)
    done = hits = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        keys = [
            f"external_id:user-{rng.randrange(n)}" if j % 2 else f"session_id:none-{rng.randrange(n)}"
            for j in range(batch)
        ]
        found = await store.lookup_many(keys)
        done += len(keys)
        hits += len(found)
    elapsed = time.perf_counter() - t0
    rate = done / elapsed
    print(
        f"{name:7s} load {n:,} captures in {load_s:.1f}s ({n / load_s:,.0f}/s) | "
        f"lookups {done:,} in {elapsed:.1f}s = {rate:,.0f} lookups/s (hit share {hits / max(done, 1):.2f})"
    )
    return rate


async def main_async(args: argparse.Namespace) -> None:
    """Run the selected backends one after another (2 shared cores: never in parallel)."""
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory() as tmp:
            sqlite_store = SqliteClickIdStore(Path(tmp) / "bench.db")
            try:
                await run_backend("sqlite", sqlite_store, args.keys, args.batch, args.seconds)
            finally:
                await sqlite_store.close()
    if "redis" in backends:
        with RedisServer() as server:
            redis_store = RedisClickIdStore(server.url)
            try:
                rate = await run_backend("redis", redis_store, args.keys, args.batch, args.seconds)
            finally:
                await redis_store.close()
        verdict = "meets" if rate >= 20_000 else "BELOW"
        print(f"redis {verdict} the 20,000 lookups/s target")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keys", type=int, default=100_000, help="captures to pre-load (default 100000)")
    parser.add_argument("--batch", type=int, default=500, help="keys per lookup_many call (default 500)")
    parser.add_argument("--seconds", type=float, default=5.0, help="lookup phase duration per backend")
    parser.add_argument("--backends", default="sqlite,redis", help="comma list of sqlite,redis")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
