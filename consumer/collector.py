"""The cyclic garbage collector, set for a process that allocates a few hundred short-lived
objects per event and keeps tens of thousands of events in flight.

Why: with CPython's defaults (a young collection every 700 net allocations, a full one whenever
the long-lived objects grew by a quarter) a relay holding 20,000 in-flight events — decoded
dicts, payloads, units, hundreds of thousands of tracked objects — ran a full collection every
couple of seconds, each walking every one of them: measured, 13 full collections of ~36 ms and
1,500 young ones over 20,000 events, about a sixth of the relay's CPU. Nearly all of that
garbage is freed by reference counting the moment it is dropped; the collector is only needed
for reference cycles (a failed future and its traceback, say), which can wait for a young
collection every 50,000 allocations. `gc.freeze()` puts what is alive once the relay has started
(modules, settings, connectors, clients) out of the collector's reach for good: it lives as long
as the process and full collections no longer walk it.
"""

from __future__ import annotations

import gc

YOUNG_COLLECTION_EVERY = 50_000  # net allocations between young collections (CPython: 700)


def tune_for_throughput() -> None:
    """Freeze what start-up allocated and collect the young generation less often (the older
    generations keep CPython's ratios). Call once the process's long-lived objects exist.
    Garbage is collected first: a frozen cycle would never be freed."""
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, middle, old)
