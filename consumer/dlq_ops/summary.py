"""What a replay did: per-platform counts, the records that need a person's attention, and the
exit code derived from them (0 nothing failed again, 1 something did, 130 interrupted)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from consumer.dlq_ops.inspect import render_table

COLUMNS = ("delivered", "already_accepted", "expired", "requeued", "capped", "unroutable")
DRY_COLUMNS = ("would_send", "already_accepted", "expired", "would_fail")
FAILURE_KINDS = frozenset({"requeued", "capped", "unroutable"})
MAX_REPORTED = 1000
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass(frozen=True, slots=True)
class Reported:
    """One record a person should know about (expired, capped, unroutable, failed again)."""

    kind: str
    platform: str
    event_id: str | None
    partition: int
    offset: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        """JSON view."""
        return {
            "kind": self.kind,
            "platform": self.platform,
            "event_id": self.event_id,
            "dlq_partition": self.partition,
            "dlq_offset": self.offset,
            "reason": self.reason,
        }


@dataclass
class ReplaySummary:
    """Counters of one replay run; ``counts[platform][kind]`` per (record, platform)."""

    topic: str
    group: str
    selection: str
    dry_run: bool
    total: int = 0
    scanned: int = 0
    matched: int = 0
    skipped: int = 0
    skipped_committed: bool = True
    finished: int = 0
    interrupted: bool = False
    elapsed_s: float = 0.0
    counts: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    reported: list[Reported] = field(default_factory=list)
    reported_dropped: int = 0
    receipts_topic: str | None = None  # None: no receipts written (off, or a dry run)
    receipts_written: int = 0
    receipts_unacked: int = 0  # still unacknowledged at shutdown: their records stay uncommitted

    def count(self, platform: str, kind: str, n: int = 1) -> None:
        """Add to one platform's counter."""
        self.counts[platform][kind] += n

    def report(self, item: Reported) -> None:
        """Remember a record for the final report (bounded)."""
        if len(self.reported) < MAX_REPORTED:
            self.reported.append(item)
        else:
            self.reported_dropped += 1

    def totals(self) -> dict[str, int]:
        """Counters summed over platforms."""
        out: dict[str, int] = defaultdict(int)
        for per in self.counts.values():
            for kind, n in per.items():
                out[kind] += n
        return dict(out)

    @property
    def handled(self) -> int:
        """Records dealt with so far (finished, skipped or unroutable): the progress count."""
        return self.finished + self.skipped + self.totals().get("unroutable", 0)

    @property
    def failed(self) -> int:
        """(record, platform) pairs that did not reach the platform and are not merely expired."""
        totals = self.totals()
        return sum(totals.get(k, 0) for k in FAILURE_KINDS)

    @property
    def exit_code(self) -> int:
        """130 if interrupted, 1 if anything failed again, else 0 (a dry run never fails)."""
        if self.interrupted:
            return EXIT_INTERRUPTED
        if self.dry_run:
            return EXIT_OK
        return EXIT_FAILED if self.failed else EXIT_OK

    def progress_counts(self) -> dict[str, int]:
        """The short counters shown on the progress line."""
        t = self.totals()
        if self.dry_run:
            return {
                "send": t.get("would_send", 0),
                "expired": t.get("expired", 0),
                "fail": t.get("would_fail", 0),
            }
        return {
            "delivered": t.get("delivered", 0),
            "failed": self.failed,
            "expired": t.get("expired", 0),
            "skipped": self.skipped,
        }

    def to_json(self) -> dict[str, Any]:
        """A stable JSON shape for scripts."""
        return {
            "topic": self.topic,
            "group": self.group,
            "selection": self.selection,
            "dry_run": self.dry_run,
            "total": self.total,
            "scanned": self.scanned,
            "matched": self.matched,
            "skipped": self.skipped,
            "skipped_committed": self.skipped_committed,
            "finished": self.finished,
            "interrupted": self.interrupted,
            "elapsed_s": round(self.elapsed_s, 3),
            "totals": self.totals(),
            "platforms": {p: dict(c) for p, c in sorted(self.counts.items())},
            "reported": [r.to_json() for r in self.reported],
            "reported_dropped": self.reported_dropped,
            "receipts": (
                {
                    "topic": self.receipts_topic,
                    "written": self.receipts_written,
                    "unacked": self.receipts_unacked,
                }
                if self.receipts_topic
                else None
            ),
            "exit_code": self.exit_code,
        }

    def render(self, max_lines: int = 20) -> str:
        """The terminal view: header, per-platform table, the first reported records."""
        mode = "DRY RUN — nothing was sent, written or committed" if self.dry_run else "replay"
        head = [
            f"{mode}: {self.topic} (group {self.group}), selection: {self.selection}",
            f"scanned {self.scanned} of {self.total} records; {self.matched} matched; "
            f"{self.skipped} skipped ({'committed' if self.skipped_committed else 'left uncommitted'}); "
            f"{self.elapsed_s:.1f}s"
            + ("; INTERRUPTED — run the same command again to continue" if self.interrupted else ""),
        ]
        columns = DRY_COLUMNS if self.dry_run else COLUMNS
        if self.counts:
            rows = [["platform", *columns]]
            for platform, per in sorted(self.counts.items()):
                rows.append([platform, *(str(per.get(c, 0)) for c in columns)])
            totals = self.totals()
            rows.append(["total", *(str(totals.get(c, 0)) for c in columns)])
            head.append(render_table(rows, right=frozenset(range(1, len(columns) + 1))))
        if self.receipts_topic:
            unacked = f", {self.receipts_unacked} unacknowledged" if self.receipts_unacked else ""
            head.append(f"receipts: {self.receipts_written} written to {self.receipts_topic}{unacked}")
        for item in self.reported[:max_lines]:
            head.append(
                f"  {item.kind:<10} {item.platform:<10} event {item.event_id or '-'} "
                f"(dlq {item.partition}/{item.offset}): {item.reason[:120]}"
            )
        more = len(self.reported) - max_lines + self.reported_dropped
        if more > 0:
            head.append(f"  … and {more} more (use --json for the full list)")
        return "\n".join(head)
