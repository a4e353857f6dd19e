"""What one replay run is asked to do — the command line's choices, read by the replayer, the
record processor and the re-queue policy."""

from __future__ import annotations

from dataclasses import dataclass, field

from consumer.dlq_ops.filters import RecordFilter


@dataclass
class ReplayOptions:
    """How to replay. ``group`` None means one group per filter set (see `filters`);
    ``commit_skipped`` None means "commit skipped records only in such a per-filter group"."""

    filter: RecordFilter = field(default_factory=RecordFilter)
    topic: str | None = None
    group: str | None = None
    dry_run: bool = False
    rate: float | None = None
    max_replays: int = 3
    commit_skipped: bool | None = None
    max_in_flight: int = 1000
    progress: bool = True
    show: int = 20
    drain_deadline_s: float | None = None
    poll_batch: int = 200
    commit_interval_s: float = 0.5
    use_ledger: bool = True  # skip platforms the delivery ledger says already accepted the event
