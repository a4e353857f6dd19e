"""One event's journey, assembled from its receipts (and the delivery ledger), for `trace`.

Receipts are at least once, and an event can have several per platform: a crash before the
commit, a ledger skip after a redelivery, and `dlq replay` (receipts with ``replay_of``), which
re-sends what was dead-lettered. Per platform the journey shows one fate (:func:`final_receipt`:
a delivery wins over anything else, otherwise the latest receipt) and keeps every receipt in
``history`` so nothing is hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def _when(ms: int | None) -> str:
    if not ms:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def _precedence(indexed: tuple[int, dict[str, Any]]) -> tuple[bool, bool, int, int]:
    index, receipt = indexed
    delivered = receipt["outcome"] == "delivered"
    sent = delivered and receipt["stage"] != "ledger"
    return delivered, sent, int(receipt.get("receipt_time_ms") or 0), index


def final_receipt(history: list[dict[str, Any]]) -> dict[str, Any]:
    """The receipt that tells a platform's fate: a delivery beats any failure (a replay that
    delivered what had been dead-lettered, or a redelivery), one that was sent beats a ledger
    skip (it carries the platform's answer), and otherwise the latest ``receipt_time_ms`` wins
    (the receipts' order on ties) — so a replay that failed again shows its new dead letter."""
    return max(enumerate(history), key=_precedence)[1]


def replay_label(receipt: dict[str, Any]) -> str | None:
    """``replay of capi.dlq[0]@17`` for a receipt written by `dlq replay`, else None."""
    of = receipt.get("replay_of")
    if not of:
        return None
    return f"replay of {of['topic']}[{of['partition']}]@{of['offset']}"


@dataclass
class PlatformFate:
    """The terminal outcome of the event on one platform, and all receipts behind it."""

    platform: str
    final: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    ledger_accepted: bool | None = None  # None: not checked / ledger unavailable

    def to_json(self) -> dict[str, Any]:
        """The stable JSON view."""
        f = self.final
        dlq = (
            {"topic": f["dlq_topic"], "partition": f["dlq_partition"], "offset": f["dlq_offset"]}
            if f.get("dlq_topic")
            else None
        )
        return {
            "platform": self.platform,
            "outcome": f["outcome"],
            "stage": f["stage"],
            "duplicate": f.get("duplicate", False),
            "attempts": f.get("attempts", 0),
            "first_attempt_ms": f.get("first_attempt_ms"),
            "last_attempt_ms": f.get("last_attempt_ms"),
            "http_status": f.get("http_status"),
            "platform_ref": f.get("platform_ref"),
            "reason": f.get("reason"),
            "code": f.get("code"),
            "match_keys": list(f.get("match_keys") or ()),
            "dlq": dlq,
            "replay_of": dict(f["replay_of"]) if f.get("replay_of") else None,
            "retry": dict(f["retry"]) if f.get("retry") else None,
            "ledger_accepted": self.ledger_accepted,
            "receipts": len(self.history),
        }


@dataclass
class Journey:
    """Everything `trace` knows about one event id."""

    event_id: str
    receipts: list[dict[str, Any]]
    scanned: int = 0
    ledger_error: str | None = None
    platforms: dict[str, PlatformFate] = field(default_factory=dict)

    def __post_init__(self) -> None:
        by_platform: dict[str, list[dict[str, Any]]] = {}
        for receipt in self.receipts:
            by_platform.setdefault(receipt["platform"], []).append(receipt)
        for slug, history in sorted(by_platform.items()):
            self.platforms[slug] = PlatformFate(slug, final_receipt(history), history)

    @property
    def found(self) -> bool:
        """Whether any receipt names this event."""
        return bool(self.receipts)

    @property
    def event_type(self) -> str | None:
        """The event's type, from its receipts."""
        return next((r["event_type"] for r in self.receipts if r.get("event_type")), None)

    @property
    def consumed(self) -> list[tuple[str, int, int]]:
        """Every (topic, partition, offset) it was consumed from (more than one if re-produced)."""
        seen = {
            (r["source_topic"], r["source_partition"], r["source_offset"])
            for r in self.receipts
            if r["source_topic"]  # a replayed record whose headers lost the source position
        }
        return sorted(seen)

    @property
    def enrichment_added(self) -> list[str]:
        """Click-ID kinds the relay added (names)."""
        added: list[str] = []
        for r in self.receipts:
            for kind in r.get("enrichment_added") or ():
                if kind not in added:
                    added.append(kind)
        return added

    def set_ledger(self, accepted: dict[str, bool]) -> None:
        """Attach the ledger's answer per platform."""
        for slug, fate in self.platforms.items():
            fate.ledger_accepted = accepted.get(slug)

    def to_json(self) -> dict[str, Any]:
        """The stable JSON view printed by ``trace --json``."""
        return {
            "event_id": self.event_id,
            "found": self.found,
            "event_type": self.event_type,
            "consumed": [{"topic": t, "partition": p, "offset": o} for t, p, o in self.consumed],
            "enrichment_added": self.enrichment_added,
            "platforms": {slug: fate.to_json() for slug, fate in self.platforms.items()},
            "ledger_error": self.ledger_error,
            "receipts_scanned": self.scanned,
        }

    def render(self) -> str:
        """The terminal view."""
        if not self.found:
            return f"event {self.event_id}: no receipts found ({self.scanned} receipts scanned)"
        lines = [f"event {self.event_id} ({self.event_type or 'unknown type'})"]
        for topic, partition, offset in self.consumed:
            lines.append(f"  consumed   {topic} partition {partition} offset {offset}")
        lines.append(f"  enriched   {', '.join(self.enrichment_added) or 'nothing added'}")
        for slug, fate in self.platforms.items():
            lines.extend(_render_fate(slug, fate))
        if self.ledger_error:
            lines.append(f"  ledger     unavailable: {self.ledger_error}")
        return "\n".join(lines)


def waiting_label(receipt: dict[str, Any]) -> str | None:
    """``waiting for retry until T (attempt n, reason)`` for a unit parked on the retry topic."""
    retry = receipt.get("retry")
    if receipt.get("outcome") != "retry_later" or not retry:
        return None
    return (
        f"waiting for retry until {_when(retry['not_before_ms'])} "
        f"(attempt {retry['attempt']}, {receipt.get('reason') or receipt.get('code') or '-'})"
    )


def _render_fate(slug: str, fate: PlatformFate) -> list[str]:
    f = fate.final
    waiting = waiting_label(f)
    if waiting is not None:
        retry = f["retry"]
        return [
            f"  {slug:<10} {waiting}",
            f"             {retry['topic']} partition {retry['partition']} offset {retry['offset']}; "
            f"gives up (expired) after {_when(retry['deadline_ms'])}",
            f"             attempts so far {f.get('attempts', 0)}"
            + (f", HTTP {f['http_status']}" if f.get("http_status") else ""),
        ]
    outcome = f["outcome"].upper() + (" (duplicate)" if f.get("duplicate") else "")
    if f["stage"] == "ledger":
        outcome += " (skipped: ledger says already accepted)"
    replay = replay_label(f)
    if replay:
        outcome += f" ({replay})"
    head = f"  {slug:<10} {outcome:<12} stage {f['stage']}, attempts {f.get('attempts', 0)}"
    if f.get("http_status"):
        head += f", HTTP {f['http_status']}"
    out = [head]
    if f.get("first_attempt_ms"):
        out.append(f"             sent {_when(f['first_attempt_ms'])} .. {_when(f.get('last_attempt_ms'))}")
    if f.get("platform_ref"):
        out.append(f"             platform ref {f['platform_ref']}")
    if f.get("code") or (f.get("reason") and f["outcome"] != "delivered"):
        out.append(f"             answer {f.get('code') or '-'}: {f.get('reason') or '-'}")
    out.append(f"             match keys {', '.join(f.get('match_keys') or ()) or '-'}")
    if f.get("dlq_topic"):
        where = f"{f['dlq_topic']} partition {f['dlq_partition']} offset {f['dlq_offset']}"
        out.append(f"             dead-lettered {where}")
    if fate.ledger_accepted is not None:
        out.append(f"             ledger {'accepted' if fate.ledger_accepted else 'no record'}")
    if len(fate.history) > 1:
        kinds = ", ".join(
            f"{r['outcome']}/{r['stage']}" + (" (replay)" if r.get("replay_of") else "") for r in fate.history
        )
        out.append(f"             {len(fate.history)} receipts: {kinds}")
    return out
