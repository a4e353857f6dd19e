"""Which dead-letter records an operator means: platform, stage, reason, outcome, event type,
failure-time range and event ids.

The filter also names the replay's consumer group: each distinct filter set gets its own group
(`capi-relay-replay-<hash>`), so a `--platform meta` run that marks Google records as "seen"
cannot hide them from a later `--platform google` run. Times are hashed *as written* (``2h``
stays ``2h``), so re-running the same command line resumes the same group.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from consumer.dlq_ops.records import DlqRecord
from consumer.kafka.dlq import DECODE_PLATFORM

DEFAULT_GROUP_PREFIX = "capi-relay-replay"
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class FilterError(ValueError):
    """A filter value the operator typed cannot be understood (a usage error, exit code 2)."""


def parse_time(spec: str, now_ms: int | None = None) -> int:
    """Epoch milliseconds from ``2h``/``30m``/``7d`` (that long ago), an ISO 8601 time (UTC if
    no offset is given) or a plain epoch-milliseconds number."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    text = spec.strip()
    match = _RELATIVE.match(text)
    if match:
        return now_ms - int(float(match.group(1)) * _UNIT_S[match.group(2)] * 1000)
    if text.isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(
            f"cannot read time {spec!r}: use e.g. 2h, 30m, 7d, 2026-05-01T10:00:00Z or epoch ms"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def _norm(values: Iterable[str] | None) -> frozenset[str]:
    return frozenset(v.strip() for v in values or () if v and v.strip())


@dataclass(frozen=True)
class RecordFilter:
    """A conjunction of conditions; an empty condition matches everything.

    ``reasons`` match a record's error code exactly or its reason text as a case-insensitive
    substring. The time range applies to the record's last failure time, ``[since, until)``.
    """

    platforms: frozenset[str] = frozenset()
    stages: frozenset[str] = frozenset()
    reasons: frozenset[str] = frozenset()
    outcomes: frozenset[str] = frozenset()
    event_types: frozenset[str] = frozenset()
    event_ids: frozenset[str] = frozenset()
    since: str | None = None
    until: str | None = None
    now_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    since_ms: int | None = field(init=False, default=None)
    until_ms: int | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "since_ms", parse_time(self.since, self.now_ms) if self.since else None)
        object.__setattr__(self, "until_ms", parse_time(self.until, self.now_ms) if self.until else None)
        if self.since_ms is not None and self.until_ms is not None and self.since_ms >= self.until_ms:
            raise FilterError(f"--since {self.since} is not before --until {self.until}")

    @classmethod
    def build(
        cls,
        *,
        platforms: Iterable[str] | None = None,
        stages: Iterable[str] | None = None,
        reasons: Iterable[str] | None = None,
        outcomes: Iterable[str] | None = None,
        event_types: Iterable[str] | None = None,
        event_ids: Iterable[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        now_ms: int | None = None,
    ) -> RecordFilter:
        """Build from CLI-style lists (None/empty = no condition)."""
        return cls(
            platforms=_norm(platforms),
            stages=_norm(stages),
            reasons=_norm(reasons),
            outcomes=_norm(outcomes),
            event_types=_norm(event_types),
            event_ids=_norm(event_ids),
            since=since,
            until=until,
            now_ms=int(time.time() * 1000) if now_ms is None else now_ms,
        )

    def matches(self, record: DlqRecord) -> bool:
        """Whether ``record`` is selected."""
        if self.platforms and record.platform not in self.platforms:
            return False
        if self.stages and record.stage not in self.stages:
            return False
        if self.outcomes and record.outcome not in self.outcomes:
            return False
        if self.event_types and (record.event_type or "") not in self.event_types:
            return False
        if self.event_ids and (record.event_id or "") not in self.event_ids:
            return False
        if self.reasons and not self._reason_matches(record):
            return False
        when = record.failure_ms
        if self.since_ms is not None and when < self.since_ms:
            return False
        return not (self.until_ms is not None and when >= self.until_ms)

    def _reason_matches(self, record: DlqRecord) -> bool:
        text = record.reason.lower()
        return any(r == record.error_code or r.lower() in text for r in self.reasons)

    @property
    def includes_decode_records(self) -> bool:
        """Whether decode-stage records (platform ``*``) can match this filter."""
        return not self.platforms or DECODE_PLATFORM in self.platforms

    def spec(self) -> dict[str, object]:
        """The filter as written (sorted lists, times unparsed): stable across runs."""
        return {
            "platforms": sorted(self.platforms),
            "stages": sorted(self.stages),
            "reasons": sorted(self.reasons),
            "outcomes": sorted(self.outcomes),
            "event_types": sorted(self.event_types),
            "event_ids": sorted(self.event_ids),
            "since": self.since,
            "until": self.until,
        }

    def fingerprint(self) -> str:
        """12 hex characters identifying the filter set (for the default group name)."""
        blob = json.dumps(self.spec(), sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def default_group(self, prefix: str = DEFAULT_GROUP_PREFIX) -> str:
        """The replay consumer group for this filter set."""
        return f"{prefix}-{self.fingerprint()}"

    def describe(self) -> str:
        """One line for logs and summaries, e.g. ``platform=meta stage=deliver``."""
        parts = [
            f"{name}={','.join(sorted(values))}"
            for name, values in (
                ("platform", self.platforms),
                ("stage", self.stages),
                ("reason", self.reasons),
                ("outcome", self.outcomes),
                ("type", self.event_types),
            )
            if values
        ]
        if self.event_ids:
            parts.append(f"event_ids={len(self.event_ids)}")
        if self.since:
            parts.append(f"since={self.since}")
        if self.until:
            parts.append(f"until={self.until}")
        return " ".join(parts) or "all records"


def read_event_ids(path: str) -> list[str]:
    """Event ids from a file, one per line (blank lines and ``#`` comments ignored)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return [line.strip() for line in handle if line.strip() and not line.lstrip().startswith("#")]
    except OSError as exc:
        raise FilterError(f"cannot read event ids from {path}: {exc.strerror}") from None
