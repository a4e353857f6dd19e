"""Per-platform tallies kept by the engine for the end-of-run table and tests (Prometheus has
the same numbers for operators; this is what a person running the demo reads)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from consumer.observability.dlq_summary import DeadLetterSummary


@dataclass
class EngineStats:
    """Counts of terminal outcomes per platform and a few engine-level facts."""

    outcomes: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    dlq: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    retries: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    pauses: int = 0
    max_in_flight: int = 0
    enrich_retries: int = 0
    messages_finished: int = 0
    dlq_summary: DeadLetterSummary = field(default_factory=DeadLetterSummary)

    def count(self, platform: str, terminal: str, n: int = 1) -> None:
        """``n`` terminal outcomes of one kind (delivered, rejected, exhausted, auth)."""
        self.outcomes[platform][terminal] += n

    def dead_lettered(self, platform: str, reason: str = "") -> None:
        """One acknowledged dead-letter record (``reason``: its error code or outcome)."""
        self.dlq[platform] += 1
        self.dlq_summary.add(platform, reason)

    def table(self, retries: dict[str, int] | None = None) -> str:
        """A fixed-width per-platform table: accepted, retried, dead-lettered."""
        retries = retries or self.retries
        platforms = sorted(set(self.outcomes) | set(self.dlq) | set(retries))
        rows = [("platform", "accepted", "retried", "dead-lettered")]
        for slug in platforms:
            rows.append(
                (
                    slug,
                    str(self.outcomes[slug].get("delivered", 0)),
                    str(retries.get(slug, 0)),
                    str(self.dlq.get(slug, 0)),
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = [
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
            for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)
