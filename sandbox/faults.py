"""Fault decisions: which request-level fault (if any) hits a request, and which events are
permanently rejected.

Request-level faults are drawn from a seeded `random.Random` per platform so a test run is
repeatable; per-event rejection is a pure hash of the event id so a retry of the same event
is rejected again, exactly like a platform that dislikes that event's content.
"""

from __future__ import annotations

import hashlib
import random
from enum import StrEnum

from sandbox.config import FaultSettings

_U64 = float(2**64)


class FaultKind(StrEnum):
    """Request-level fault kinds, in the order they are considered."""

    OUTAGE = "outage"
    TIMEOUT = "timeout"
    ERROR_5XX = "error_5xx"
    THROTTLE = "throttle"
    BODY_ERROR = "body_error"


def pick_fault(settings: FaultSettings, rng: random.Random, now_s: float) -> FaultKind | None:
    """Decide the request-level fault for one request (None = serve normally).

    The RNG is consulted only for rates above zero, so enabling one knob does not shift the
    random sequence of a test that only uses another.
    """
    if settings.outage is not None and settings.outage.active(now_s):
        return FaultKind.OUTAGE
    if settings.timeout_rate and rng.random() < settings.timeout_rate:
        return FaultKind.TIMEOUT
    if settings.error_5xx_rate and rng.random() < settings.error_5xx_rate:
        return FaultKind.ERROR_5XX
    if settings.throttle_rate and rng.random() < settings.throttle_rate:
        return FaultKind.THROTTLE
    if settings.body_error_rate and rng.random() < settings.body_error_rate:
        return FaultKind.BODY_ERROR
    return None


def rejection_score(seed: int, slug: str, event_id: str) -> float:
    """Stable pseudo-random number in [0, 1) for (seed, platform, event id)."""
    digest = hashlib.blake2b(f"{seed}\x1f{slug}\x1f{event_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _U64


def is_rejected(event_id: str, rate: float, seed: int, slug: str) -> bool:
    """True when the `reject_event_rate` fault permanently rejects this event on this platform.

    Public so tests can predict which of their events the sandbox will refuse.
    """
    if rate <= 0.0:
        return False
    if rate >= 1.0:
        return True
    return rejection_score(seed, slug, event_id) < rate
