"""What the sandbox saw: per-platform counters, accepted events and delivery latency.

Records reach millions in the benchmark, so an event is one dict slot (event id -> row
number) plus three packed integer columns, and latency is a bounded histogram rather than a
list of samples.
"""

from __future__ import annotations

import math
from array import array
from typing import Any

_EXACT_LIMIT_MS = 10_000


def _bucket(ms: int) -> int:
    """Histogram bucket: exact below 10 s, three significant digits above (bounded memory)."""
    if -_EXACT_LIMIT_MS < ms < _EXACT_LIMIT_MS:
        return ms
    magnitude = len(str(abs(ms))) - 3
    step = 10**magnitude
    return (ms // step) * step


class LatencyHistogram:
    """Counts of (accepted_at - event_time) in ms; answers percentiles on demand."""

    __slots__ = ("_counts", "total")

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}
        self.total = 0

    def add(self, ms: int) -> None:
        """Record one sample."""
        key = _bucket(ms)
        self._counts[key] = self._counts.get(key, 0) + 1
        self.total += 1

    def percentile(self, q: float) -> int | None:
        """Smallest bucket value at or above the q-th fraction of samples (None when empty)."""
        if not self.total:
            return None
        target = max(1, math.ceil(q * self.total))
        seen = 0
        for key in sorted(self._counts):
            seen += self._counts[key]
            if seen >= target:
                return key
        return max(self._counts)  # pragma: no cover - unreachable

    def summary(self) -> dict[str, Any]:
        """p50/p90/p99/max in ms plus the sample count."""
        return {
            "count": self.total,
            "p50_ms": self.percentile(0.50),
            "p90_ms": self.percentile(0.90),
            "p99_ms": self.percentile(0.99),
            "max_ms": max(self._counts) if self._counts else None,
        }


class PlatformRecorder:
    """Everything recorded for one platform slug.

    Why: tests and the benchmark assert on exactly these numbers (no loss, bounded duplicates,
    latency), so they live in one place with a stable JSON view.
    """

    __slots__ = (
        "_counts",
        "_event_ms",
        "_first_ms",
        "_index",
        "_keys",
        "_offered_ms",
        "accepted_events",
        "duplicate_events",
        "fault_counts",
        "faults_injected",
        "latency",
        "rejected_events",
        "rejected_requests",
        "requests",
        "slug",
    )

    def __init__(self, slug: str) -> None:
        self.slug = slug
        self.reset()

    def reset(self) -> None:
        """Forget every record and counter."""
        self._index: dict[str, int] = {}
        self._keys: list[str] = []
        self._counts = array("q")
        self._first_ms = array("q")
        self._event_ms = array("q")
        self._offered_ms: dict[str, int] = {}
        self.requests = 0
        self.accepted_events = 0
        self.duplicate_events = 0
        self.rejected_requests = 0
        self.rejected_events = 0
        self.faults_injected = 0
        self.fault_counts: dict[str, int] = {}
        self.latency = LatencyHistogram()

    def first_offered_ms(self, event_id: str, now_ms: int) -> int:
        """When this event id was first offered (accepted or not); remembers ``now_ms`` the
        first time (the `too_recent_s` fault counts from it)."""
        return self._offered_ms.setdefault(event_id, now_ms)

    def seen(self, event_id: str) -> bool:
        """True when this event id was accepted before."""
        return event_id in self._index

    def accept(self, event_id: str, event_time_ms: int, now_ms: int) -> bool:
        """Record one accepted event; returns True when it is a repeat of an earlier one."""
        self.accepted_events += 1
        row = self._index.get(event_id)
        if row is not None:
            self._counts[row] += 1
            self.duplicate_events += 1
            return True
        self._index[event_id] = len(self._keys)
        self._keys.append(event_id)
        self._counts.append(1)
        self._first_ms.append(now_ms)
        self._event_ms.append(event_time_ms)
        self.latency.add(now_ms - event_time_ms)
        return False

    def note_repeat(self, event_id: str) -> None:
        """Count a repeat answered with an "already exists" error (not an acceptance)."""
        row = self._index[event_id]
        self._counts[row] += 1
        self.duplicate_events += 1

    def note_fault(self, kind: str, n: int = 1) -> None:
        """Count `n` injected faults of `kind`."""
        self.faults_injected += n
        self.fault_counts[kind] = self.fault_counts.get(kind, 0) + n

    def count(self, event_id: str) -> int:
        """How many times `event_id` was received and accepted (0 if never)."""
        row = self._index.get(event_id)
        return 0 if row is None else self._counts[row]

    def stats(self) -> dict[str, Any]:
        """The counters served by `GET /_sandbox/stats`."""
        return {
            "requests": self.requests,
            "accepted_events": self.accepted_events,
            "unique_events": len(self._keys),
            "duplicate_events": self.duplicate_events,
            "rejected_requests": self.rejected_requests,
            "rejected_events": self.rejected_events,
            "faults_injected": self.faults_injected,
            "fault_counts": dict(self.fault_counts),
        }

    def events(self, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Accepted events in first-acceptance order, as served by `/_sandbox/events/{slug}`."""
        end = len(self._keys) if limit is None else min(len(self._keys), offset + limit)
        return [
            {
                "event_id": self._keys[i],
                "count": self._counts[i],
                "first_accepted_ms": self._first_ms[i],
                "event_time_ms": self._event_ms[i],
            }
            for i in range(offset, end)
        ]


class SandboxState:
    """Recorders for every registered platform, keyed by slug."""

    def __init__(self, slugs: list[str]) -> None:
        self.recorders: dict[str, PlatformRecorder] = {s: PlatformRecorder(s) for s in slugs}

    def __getitem__(self, slug: str) -> PlatformRecorder:
        return self.recorders[slug]

    def stats(self) -> dict[str, dict[str, Any]]:
        """Counters of every platform."""
        return {slug: rec.stats() for slug, rec in self.recorders.items()}

    def events(self, slug: str) -> list[dict[str, Any]]:
        """Accepted events of one platform."""
        return self.recorders[slug].events()

    def count(self, slug: str, event_id: str) -> int:
        """How many times one platform accepted `event_id`."""
        return self.recorders[slug].count(event_id)

    def latency(self, slug: str) -> dict[str, Any]:
        """Latency summary of one platform."""
        return self.recorders[slug].latency.summary()

    def reset(self) -> None:
        """Forget everything recorded (faults are kept)."""
        for rec in self.recorders.values():
            rec.reset()
