"""Offset tracker: only the highest contiguous finished offset is ever committable."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from consumer.kafka.offsets import OffsetTracker

TP = ("t", 0)


def test_out_of_order_completion_waits_for_the_gap() -> None:
    tracker = OffsetTracker()
    for offset in range(5):
        tracker.add(TP, offset)
    assert not tracker.done(TP, 2)
    assert tracker.committable(TP) is None
    assert tracker.done(TP, 0)
    assert tracker.committable(TP) == 1
    tracker.done(TP, 1)
    assert tracker.committable(TP) == 3  # 0,1,2 finished
    tracker.done(TP, 4)
    assert tracker.committable(TP) == 3  # 3 still open
    tracker.done(TP, 3)
    assert tracker.committable(TP) == 5
    assert tracker.take_dirty() == {TP: 5}
    assert tracker.take_dirty() == {}


def test_offset_gaps_from_compaction_or_transactions() -> None:
    tracker = OffsetTracker()
    for offset in (10, 13, 20):
        tracker.add(TP, offset)
    tracker.done(TP, 13)
    tracker.done(TP, 10)
    assert tracker.committable(TP) == 14
    tracker.done(TP, 20)
    assert tracker.committable(TP) == 21


def test_revocation_drops_unfinished_and_returns_final_position() -> None:
    tracker = OffsetTracker()
    for offset in range(3):
        tracker.add(TP, offset)
    tracker.done(TP, 0)
    assert tracker.revoke([TP]) == {TP: 1}
    assert not tracker.done(TP, 1)  # late completion of dropped work is ignored
    assert tracker.committable(TP) is None
    assert tracker.in_flight() == 0


def test_rewind_forgets_later_in_flight_offsets() -> None:
    tracker = OffsetTracker()
    for offset in range(4):
        tracker.add(TP, offset)
    tracker.add(TP, 2)  # already tracked: ignored
    tracker.done(TP, 0)
    tracker.add(TP, 1)  # duplicate of an in-flight one
    assert tracker.in_flight(TP) == 3


@given(st.lists(st.integers(min_value=0, max_value=199), min_size=1, max_size=200), st.integers(1, 200))
def test_committed_never_passes_an_unfinished_message(order: list[int], count: int) -> None:
    tracker = OffsetTracker()
    for offset in range(count):
        tracker.add(TP, offset)
    finished: set[int] = set()
    for offset in order:
        if offset >= count:
            continue
        tracker.done(TP, offset)
        finished.add(offset)
        position = tracker.committable(TP)
        if position is not None:
            assert all(o in finished for o in range(position))
            assert position == count or position not in finished
