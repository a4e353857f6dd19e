"""`capi-relay dlq inspect`: what is in the dead-letter topic, at a glance.

During an outage the operator's first questions are "which platform, since when, how many, and
why" — so the summary groups records by platform x stage x reason x age bucket with counts and
the oldest/newest failure time, as a terminal table or as JSON for scripts. ``--show N`` prints
N records decoded, with personal data masked (see `masking`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from consumer.codec import Codec, DecodeError, RegistryUnavailableError
from consumer.dlq_ops.filters import RecordFilter
from consumer.dlq_ops.masking import mask_event
from consumer.dlq_ops.records import DlqRecord

HOUR_MS = 3_600_000
AGE_BUCKETS: tuple[tuple[str, int], ...] = (
    ("<1h", HOUR_MS),
    ("1h-6h", 6 * HOUR_MS),
    ("6h-24h", 24 * HOUR_MS),
    ("1d-3d", 72 * HOUR_MS),
    ("3d-7d", 168 * HOUR_MS),
    (">7d", 2**62),
)


def age_bucket(age_ms: int) -> str:
    """The age bucket label of a failure ``age_ms`` ago (platform windows are days, hence the
    cut at 7 days: Meta and TikTok refuse events older than that)."""
    for label, upper in AGE_BUCKETS:
        if age_ms < upper:
            return label
    return AGE_BUCKETS[-1][0]


def fmt_time(ms: int | None) -> str:
    """UTC time for tables, to the second."""
    if not ms:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@dataclass
class Group:
    """Counts for one platform x stage x reason x age bucket."""

    platform: str
    stage: str
    reason: str
    age: str
    count: int = 0
    oldest_ms: int = 0
    newest_ms: int = 0
    replayed: int = 0  # records that already went through at least one replay

    def add(self, record: DlqRecord) -> None:
        """Count one record."""
        when = record.failure_ms
        self.count += 1
        self.oldest_ms = when if not self.oldest_ms else min(self.oldest_ms, when)
        self.newest_ms = max(self.newest_ms, when)
        if record.replays:
            self.replayed += 1


@dataclass
class Summary:
    """The inspect result: per-group counts plus totals."""

    topic: str
    now_ms: int
    groups: dict[tuple[str, str, str, str], Group] = field(default_factory=dict)
    total: int = 0
    scanned: int = 0

    def add(self, record: DlqRecord) -> None:
        """Count one selected record."""
        bucket = age_bucket(max(0, self.now_ms - record.failure_ms))
        key = (record.platform, record.stage, record.reason_key, bucket)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(*key)
        group.add(record)
        self.total += 1

    def sorted_groups(self) -> list[Group]:
        """Platform, stage, reason, then age bucket in time order."""
        order = {label: i for i, (label, _) in enumerate(AGE_BUCKETS)}
        return sorted(self.groups.values(), key=lambda g: (g.platform, g.stage, g.reason, order[g.age]))

    def by_platform(self) -> dict[str, int]:
        """Total records per platform."""
        out: dict[str, int] = {}
        for g in self.groups.values():
            out[g.platform] = out.get(g.platform, 0) + g.count
        return dict(sorted(out.items()))

    def to_json(self) -> dict[str, Any]:
        """A stable JSON shape for scripts."""
        return {
            "topic": self.topic,
            "generated_at_ms": self.now_ms,
            "scanned": self.scanned,
            "total": self.total,
            "by_platform": self.by_platform(),
            "groups": [
                {
                    "platform": g.platform,
                    "stage": g.stage,
                    "reason": g.reason,
                    "age": g.age,
                    "count": g.count,
                    "oldest_ms": g.oldest_ms,
                    "newest_ms": g.newest_ms,
                    "oldest": fmt_time(g.oldest_ms),
                    "newest": fmt_time(g.newest_ms),
                    "replayed": g.replayed,
                }
                for g in self.sorted_groups()
            ],
        }


def summarize(
    records: Iterable[DlqRecord], topic: str, flt: RecordFilter | None = None, now_ms: int | None = None
) -> Summary:
    """Count the records that pass ``flt``."""
    summary = Summary(topic, int(time.time() * 1000) if now_ms is None else now_ms)
    for record in records:
        summary.scanned += 1
        if flt is None or flt.matches(record):
            summary.add(record)
    return summary


def render_table(rows: list[list[str]], right: frozenset[int] = frozenset()) -> str:
    """A plain fixed-width table with a rule under the header (no colours: logs stay clean)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_summary(summary: Summary) -> str:
    """The terminal view of a summary."""
    if not summary.total:
        return f"{summary.topic}: no dead-letter records match ({summary.scanned} scanned)"
    rows = [["platform", "stage", "reason", "age", "count", "replayed", "oldest", "newest"]]
    for g in summary.sorted_groups():
        rows.append(
            [
                g.platform,
                g.stage,
                g.reason[:40],
                g.age,
                str(g.count),
                str(g.replayed),
                fmt_time(g.oldest_ms),
                fmt_time(g.newest_ms),
            ]
        )
    per_platform = ", ".join(f"{p} {n}" for p, n in summary.by_platform().items())
    return (
        f"{summary.topic}: {summary.total} records ({summary.scanned} scanned) — {per_platform}\n"
        + render_table(rows, right=frozenset({4, 5}))
    )


def record_view(record: DlqRecord, codec: Codec | None) -> dict[str, Any]:
    """One record for ``--show``: its context and the decoded event with personal data masked."""
    view: dict[str, Any] = {
        "dlq": {"partition": record.partition, "offset": record.offset},
        "source": {
            "topic": record.source_topic,
            "partition": record.source_partition,
            "offset": record.source_offset,
        },
        "platform": record.platform,
        "stage": record.stage,
        "outcome": record.outcome,
        "reason": record.reason,
        "error_code": record.error_code,
        "http_status": record.http_status,
        "attempts": record.attempts,
        "replays": record.replays,
        "event_id": record.event_id,
        "event_type": record.event_type,
        "first_failure": fmt_time(record.first_failure_ms),
        "last_failure": fmt_time(record.failure_ms),
    }
    if codec is not None:
        try:
            view["event"] = mask_event(codec.decode(record.source_topic, record.value))
        except (DecodeError, RegistryUnavailableError) as exc:
            view["event"] = None
            view["undecodable"] = f"{exc} ({len(record.value or b'')} bytes)"
    return view


def render_records(views: list[Mapping[str, Any]]) -> str:
    """``--show`` output for a terminal: one indented JSON block per record."""
    return "\n".join(json.dumps(v, indent=2, ensure_ascii=False, default=str) for v in views)
