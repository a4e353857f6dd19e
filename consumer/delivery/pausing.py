"""What a dispatcher does with a paused platform's units.

Two ways, chosen by the relay: with delayed retries on, a paused platform's units are handed
back as terminal ``hold`` outcomes, which the outcome router parks on the retry topic — their
source offsets commit, intake never stalls on them, and they survive a restart. Without a
retry topic they are held in memory like behind an open circuit (queued, not sent), and the
time held is given back to their in-process retry budget on resume.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

from connectors.base import ItemOutcome, OutcomeKind


class PauseSwitch(Protocol):
    """Whether a platform is paused, and why (consumer.control.PlatformControl)."""

    def is_paused(self, slug: str) -> bool: ...

    def pause_reason(self, slug: str) -> str | None: ...


T = TypeVar("T")


class HeldUnit(Protocol):
    """What the give-back needs of a unit: when its in-process budget clock started."""

    created: float


def paused_outcome(slug: str, control: PauseSwitch) -> ItemOutcome:
    """The outcome a parked unit of a paused platform carries (its retry record's reason)."""
    why = control.pause_reason(slug) or "paused"
    return ItemOutcome(OutcomeKind.RETRY, reason=f"{slug} is paused ({why})", code="paused")


def give_back_held_time(queues: Iterable[Iterable[HeldUnit]], since: float, now: float) -> None:
    """On resume, move each queued unit's budget clock on by the time it spent held (no more):
    being paused is not a delivery failure, so a long pause cannot exhaust a unit."""
    for queue in queues:
        for unit in queue:
            unit.created += now - max(unit.created, since)


def drain(queues: Iterable[deque[T]]) -> Iterator[T]:
    """Take every item out of the queues, oldest first per queue."""
    for queue in queues:
        while queue:
            yield queue.popleft()
