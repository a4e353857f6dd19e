"""The relay's collector settings: start-up objects frozen (after collecting what is already
garbage, which must not be frozen), young collections every 50,000 allocations."""

from __future__ import annotations

import gc
import weakref

from consumer import collector


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_tuning_freezes_the_living_and_frees_the_dead() -> None:
    threshold = gc.get_threshold()
    try:
        dead = _Node()
        gone = weakref.ref(dead)
        del dead  # unreachable garbage, held only by its own cycle
        alive = _Node()
        collector.tune_for_throughput()
        assert gone() is None  # collected, not frozen
        assert gc.get_freeze_count() > 0 and gc.get_threshold()[0] == collector.YOUNG_COLLECTION_EVERY
        assert gc.get_threshold()[1:] == threshold[1:]
        assert alive.me is alive
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
