"""The checks every connector makes before mapping an event: consent, and the platform's time
window in both directions. One implementation, so "consent denied" and "outside the window" mean
the same thing (and carry the same reject codes) on every platform."""

from __future__ import annotations

from connectors.base import Event, Reject

CONSENT_DENIED = Reject("consent denied (ad_user_data=DENIED)", code="consent_denied")


def admission_reject(
    event: Event,
    now_ms: int,
    *,
    window_ms: float,
    future_ms: int,
    too_old: str,
    too_new: str = "event_time is in the future",
    inclusive: bool = False,
) -> Reject | None:
    """A Reject when the person denied ad_user_data consent, or the event is older than
    ``window_ms`` (``inclusive``: at the limit counts as too old; ``math.inf`` where the platform
    documents no maximum age) or more than ``future_ms``
    ahead of ``now_ms``; None when the event may be mapped."""
    if event["consent"].get("ad_user_data") == "DENIED":
        return CONSENT_DENIED
    age = now_ms - event["event_time"]
    if age > window_ms or (inclusive and age == window_ms):
        return Reject(too_old, code="outside_window")
    if -age > future_ms:
        return Reject(too_new, code="outside_window")
    return None
