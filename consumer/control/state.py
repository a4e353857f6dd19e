"""Which platforms are paused, and why. The dispatcher consults `PlatformControl.is_paused`
when a unit arrives and before each batch: a paused platform's units are parked on the retry
topic (or, with delayed retries off, held in memory like behind an open circuit) — never sent,
never dead-lettered for being paused; the retry gate reads it to release them on resume;
``/status`` reads it.

Two sources: ``platforms.<p>.paused: true`` in the configuration file (a floor: only a file
change lifts it), and the latest record for the platform on the control topic (what
`capi-relay pause` / `resume` write, shared by every replica of the consumer group).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import structlog

log = structlog.get_logger("capi_relay.control")


@dataclass(frozen=True, slots=True)
class PauseRecord:
    """One decision: paused or not, why, when (epoch ms) and by whom (host name)."""

    paused: bool
    reason: str | None = None
    at_ms: int = 0
    by: str | None = None


class PausedInConfigError(RuntimeError):
    """A resume was asked for a platform the configuration file pauses."""


class PlatformControl:
    """The pause state of every platform of this consumer group."""

    def __init__(self, paused_in_config: Iterable[str] = ()) -> None:
        self._config = frozenset(paused_in_config)
        self._records: dict[str, PauseRecord] = {}

    def is_paused(self, slug: str) -> bool:
        """Whether the platform's units are held now."""
        if slug in self._config:
            return True
        record = self._records.get(slug)
        return record is not None and record.paused

    def pause_reason(self, slug: str) -> str | None:
        """Why it is paused (None when it is not)."""
        if slug in self._config:
            return f"platforms.{slug}.paused is true in the configuration file"
        record = self._records.get(slug)
        return (record.reason or "paused") if record is not None and record.paused else None

    def paused_in_config(self, slug: str) -> bool:
        """Whether only a configuration change can resume it."""
        return slug in self._config

    def apply(self, slug: str, record: PauseRecord) -> bool:
        """Take a decision (from the topic, in its order, or the admin endpoint). True if the
        platform's pause state changed."""
        before = self.is_paused(slug)
        self._records[slug] = record
        after = self.is_paused(slug)
        if before != after:
            log.warning(
                "platform_paused" if after else "platform_resumed",
                platform=slug,
                reason=record.reason,
                by=record.by,
            )
        return before != after

    def snapshot(self) -> dict[str, dict[str, object]]:
        """Every platform with a decision or a file pause (for the admin endpoint)."""
        out: dict[str, dict[str, object]] = {}
        for slug in sorted(self._config | set(self._records)):
            record = self._records.get(slug)
            out[slug] = {
                "paused": self.is_paused(slug),
                "reason": self.pause_reason(slug),
                "paused_in_config": slug in self._config,
                "last_decision": asdict(record) if record is not None else None,
            }
        return out


def now_ms() -> int:
    """Wall-clock epoch milliseconds (decisions from several hosts are ordered by it)."""
    return int(time.time() * 1000)
