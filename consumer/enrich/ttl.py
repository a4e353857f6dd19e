"""How long each kind of click ID stays usable after its capture.

Platforms only attribute conversions to recent clicks (TikTok's ttclid window is shorter than
Google's gclid window, for example), and keeping click IDs forever is neither useful nor
respectful of the visitor. One policy object is shared by the stores (retention and purge) and
the enricher (which identifiers a capture may still supply), so they can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from consumer.enrich.model import CLICK_ID_KINDS

DAY_MS = 86_400_000
DEFAULT_TTL_DAYS = 90


@dataclass(frozen=True, slots=True)
class TtlPolicy:
    """TTL in days per click-ID kind, with one default for kinds not listed."""

    default_days: float = DEFAULT_TTL_DAYS
    by_kind: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Fail at start on a misspelt kind or a non-positive TTL rather than silently keep data."""
        unknown = sorted(set(self.by_kind) - set(CLICK_ID_KINDS))
        if unknown:
            raise ValueError(f"TTL given for unknown click-ID kind(s) {unknown}")
        for kind, days in {"default": self.default_days, **self.by_kind}.items():
            if days <= 0:
                raise ValueError(f"TTL for {kind} must be positive, got {days}")

    @classmethod
    def from_settings(
        cls, ttl_days_by_kind: Mapping[str, float] | None, default_days: float = DEFAULT_TTL_DAYS
    ) -> TtlPolicy:
        """Build from the settings mapping (``{"ttclid": 28}``); ``None`` means defaults only."""
        return cls(default_days=default_days, by_kind=dict(ttl_days_by_kind or {}))

    def ttl_ms(self, kind: str) -> int:
        """TTL of one kind in milliseconds."""
        return int(self.by_kind.get(kind, self.default_days) * DAY_MS)

    def is_live(self, kind: str, capture_time_ms: int, now_ms: int) -> bool:
        """Whether an identifier of ``kind`` captured at ``capture_time_ms`` may still be used."""
        return now_ms < capture_time_ms + self.ttl_ms(kind)

    def record_expiry_ms(self, capture_time_ms: int, kinds: Iterable[str]) -> int:
        """When a stored record can go: once its longest-lived identifier has expired."""
        ttls = [self.ttl_ms(k) for k in kinds]
        return capture_time_ms + (max(ttls) if ttls else self.ttl_ms(""))
