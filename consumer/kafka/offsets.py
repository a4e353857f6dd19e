"""Per-partition tracking of finished offsets.

Messages finish out of order (platforms answer at different speeds, retries take time), but a
Kafka commit says "everything below this offset is done". So we may only ever commit the
highest *contiguous* finished offset: the committed position never passes an unfinished message
(invariant 1, no loss). Revoked or lost partitions are forgotten; their unfinished messages will
be redelivered to the partition's next owner.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

TopicPartition = tuple[str, int]


@dataclass(slots=True)
class _PartitionState:
    """Offsets in arrival order with a done flag; the left end is the oldest unfinished one."""

    entries: deque[list[int]] = field(default_factory=deque)  # [offset, done(0/1)]
    index: dict[int, list[int]] = field(default_factory=dict)
    committable: int | None = None  # next offset to consume = last contiguous finished + 1


class OffsetTracker:
    """Tracks in-flight offsets per partition and yields what may be committed."""

    def __init__(self) -> None:
        self._parts: dict[TopicPartition, _PartitionState] = {}
        self._dirty: set[TopicPartition] = set()

    def add(self, tp: TopicPartition, offset: int) -> None:
        """Register a consumed message (offsets of one partition arrive in increasing order)."""
        state = self._parts.get(tp)
        if state is None:
            state = self._parts[tp] = _PartitionState()
        if offset in state.index:
            return  # a redelivery of something still in flight: keep the first registration
        if state.entries and offset < state.entries[-1][0]:
            # The consumer went back (seek after a rebalance or an error): forget what is in
            # flight past this point; it will come again.
            self._forget_from(state, offset)
        entry = [offset, 0]
        state.entries.append(entry)
        state.index[offset] = entry

    @staticmethod
    def _forget_from(state: _PartitionState, offset: int) -> None:
        while state.entries and state.entries[-1][0] >= offset:
            gone = state.entries.pop()
            state.index.pop(gone[0], None)

    def done(self, tp: TopicPartition, offset: int) -> bool:
        """Mark a message finished; True if the committable position advanced."""
        state = self._parts.get(tp)
        if state is None:
            return False  # partition revoked meanwhile: its work was dropped
        entry = state.index.get(offset)
        if entry is None:
            return False
        entry[1] = 1
        advanced = False
        entries = state.entries
        while entries and entries[0][1]:
            finished = entries.popleft()
            del state.index[finished[0]]
            state.committable = finished[0] + 1
            advanced = True
        if advanced:
            self._dirty.add(tp)
        return advanced

    def committable(self, tp: TopicPartition) -> int | None:
        """The offset to commit for ``tp`` (next to read), or None if nothing finished yet."""
        state = self._parts.get(tp)
        return state.committable if state else None

    def take_dirty(self) -> dict[TopicPartition, int]:
        """Committable offsets that advanced since the last call (to store/commit them)."""
        out: dict[TopicPartition, int] = {}
        for tp in self._dirty:
            state = self._parts.get(tp)
            if state is not None and state.committable is not None:
                out[tp] = state.committable
        self._dirty.clear()
        return out

    def in_flight(self, tp: TopicPartition | None = None) -> int:
        """Unfinished messages in one partition, or in all."""
        if tp is not None:
            state = self._parts.get(tp)
            return len(state.entries) - sum(e[1] for e in state.entries) if state else 0
        return sum(len(s.entries) - sum(e[1] for e in s.entries) for s in self._parts.values())

    def revoke(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        """Forget revoked/lost partitions; returns their last committable offsets (to commit)."""
        final: dict[TopicPartition, int] = {}
        for tp in tps:
            state = self._parts.pop(tp, None)
            self._dirty.discard(tp)
            if state is not None and state.committable is not None:
                final[tp] = state.committable
        return final

    def partitions(self) -> list[TopicPartition]:
        """Partitions currently tracked."""
        return list(self._parts)
