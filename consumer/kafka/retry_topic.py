"""The retry topic's record format: what a delayed retry says about itself, in headers.

A retry record is a dead-letter record (original key, value and headers, Kafka Connect's
context headers naming the *original* source position) written with outcome ``retry_later`` to
the retry topic instead of the dead-letter topic, plus the headers below. So `dlq inspect
--topic capi.retry` reads it like any dead letter, and the relay re-reads it like a source
record of the original topic.

Partitions are delay tiers (see `tier_partition`): tier *i* holds only records whose pause time
is their write time plus the tier's delay, so within one partition those times grow with the
offset and the relay can pause a partition until its head is due without holding up a record
that is due earlier.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass

H_RETRY_PLATFORM = "capi.retry.platform"
H_RETRY_ATTEMPT = "capi.retry.attempt"
H_RETRY_NOT_BEFORE = "capi.retry.not_before_ms"
H_RETRY_DUE = "capi.retry.due_ms"
H_RETRY_FIRST_FAILURE = "capi.retry.first_failure_ms"
H_RETRY_REASON = "capi.retry.reason"
H_RETRY_DEADLINE = "capi.retry.deadline_ms"

RETRY_HEADERS = frozenset(
    {
        H_RETRY_PLATFORM,
        H_RETRY_ATTEMPT,
        H_RETRY_NOT_BEFORE,
        H_RETRY_DUE,
        H_RETRY_FIRST_FAILURE,
        H_RETRY_REASON,
        H_RETRY_DEADLINE,
    }
)


@dataclass(frozen=True, slots=True)
class RetryInfo:
    """One waiting (event, platform): which delayed attempt comes next and when.

    ``due_ms`` is when its tier partition may hand it out (write time + tier delay, monotone
    per partition); ``not_before_ms`` is when it may really be sent (the backoff or the
    platform's hint). A record read at ``due_ms`` but before ``not_before_ms`` is written again
    to a shorter tier (re-parked), not sent."""

    platform: str
    attempt: int
    not_before_ms: int
    due_ms: int
    first_failure_ms: int
    deadline_ms: int
    reason: str

    def headers(self) -> dict[str, str]:
        """Our header values (strings), added to the dead-letter context headers."""
        return {
            H_RETRY_PLATFORM: self.platform,
            H_RETRY_ATTEMPT: str(self.attempt),
            H_RETRY_NOT_BEFORE: str(self.not_before_ms),
            H_RETRY_DUE: str(self.due_ms),
            H_RETRY_FIRST_FAILURE: str(self.first_failure_ms),
            H_RETRY_DEADLINE: str(self.deadline_ms),
            H_RETRY_REASON: self.reason[:500],
        }

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RetryInfo | None:
        """Parse a retry record's headers; None if they are missing or malformed."""
        try:
            return cls(
                platform=headers[H_RETRY_PLATFORM],
                attempt=int(headers[H_RETRY_ATTEMPT]),
                not_before_ms=int(headers[H_RETRY_NOT_BEFORE]),
                due_ms=int(headers[H_RETRY_DUE]),
                first_failure_ms=int(headers[H_RETRY_FIRST_FAILURE]),
                deadline_ms=int(headers.get(H_RETRY_DEADLINE, "0")),
                reason=headers.get(H_RETRY_REASON, ""),
            )
        except (KeyError, ValueError):
            return None


def tier_partition(tier: int, tiers: int, partitions: int, key: bytes | None) -> int:
    """The partition of a record in ``tier``: partitions ``p`` with ``p % tiers == tier``,
    spread by the key's hash when the topic has several per tier. A topic with fewer partitions
    than tiers shares partitions between tiers (records then wait behind longer ones; the
    relay creates the topic with one partition per tier, and warns otherwise)."""
    if partitions <= tiers:
        return tier % max(1, partitions)
    per_tier = len(range(tier, partitions, tiers))
    spread = zlib.crc32(key or b"") % max(1, per_tier)
    return tier + spread * tiers
