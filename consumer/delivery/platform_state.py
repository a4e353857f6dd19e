"""What an operator wants to know about one platform right now, and the log lines that tell it.

The dispatcher owns one `PlatformState` and reports each classified response to it; the
circuit breaker reports its transitions. From those it keeps the last success and the last
error (the platform's code and a scrubbed reason: no personal data) for ``/status``, and it
writes the lines an operator needs in the log stream, not only in metrics: a warning when the
circuit opens, an info when it closes, an error when the platform refuses our credentials.
Terminal-outcome counts are not kept here (they are `EngineStats`'), nor is the pause state
(`consumer.control`): one source per number.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from connectors.base import ItemOutcome, OutcomeKind
from consumer.delivery.circuit import CircuitState
from consumer.observability.redact import scrub_text

log = structlog.get_logger("capi_relay.delivery")

_REASON_CHARS = 200


@dataclass(frozen=True, slots=True)
class LastError:
    """The last failed answer: when, the platform's code, HTTP status and a scrubbed reason."""

    at_ms: int
    kind: str
    code: str | None
    http_status: int | None
    reason: str

    def as_dict(self) -> dict[str, object]:
        """For ``/status``."""
        return {
            "at": _iso(self.at_ms),
            "kind": self.kind,
            "code": self.code,
            "http_status": self.http_status,
            "reason": self.reason,
        }


class PlatformState:
    """Last success, last error and circuit transitions of one platform."""

    def __init__(self, slug: str) -> None:
        self.slug = slug
        self.last_success_ms: int | None = None
        self.last_error: LastError | None = None

    def observe(self, outcomes: Sequence[ItemOutcome], http_status: int | None) -> None:
        """One classified response: note success or the first failure; log AUTH as an error."""
        now_ms = int(time.time() * 1000)
        failure: ItemOutcome | None = None
        for outcome in outcomes:
            if outcome.kind is OutcomeKind.DELIVERED:
                self.last_success_ms = now_ms
            elif failure is None or outcome.kind is OutcomeKind.AUTH:
                failure = outcome
        if failure is None:
            return
        self.failed(failure, http_status, now_ms)

    def failed(self, outcome: ItemOutcome, http_status: int | None, now_ms: int | None = None) -> None:
        """A failed attempt that produced no classified response (e.g. credentials missing)."""
        reason = scrub_text(outcome.reason or outcome.kind.value)[:_REASON_CHARS]
        self.last_error = LastError(
            now_ms or int(time.time() * 1000), outcome.kind.value, outcome.code, http_status or None, reason
        )
        if outcome.kind is OutcomeKind.AUTH:
            log.error(
                "platform_auth_failed",
                platform=self.slug,
                code=outcome.code,
                http_status=http_status or None,
                reason=reason,
            )

    def circuit_changed(self, old: CircuitState, new: CircuitState, reason: str) -> None:
        """The circuit breaker's listener: warn when it opens, tell when it closes."""
        if new is CircuitState.OPEN and old is CircuitState.CLOSED:
            error = self.last_error
            log.warning(
                "circuit_opened",
                platform=self.slug,
                reason=reason,
                code=error.code if error else None,
                last_error=error.reason if error else None,
            )
        elif new is CircuitState.CLOSED and old is not CircuitState.CLOSED:
            log.info("circuit_closed", platform=self.slug)

    def as_dict(self) -> dict[str, object]:
        """For ``/status``."""
        return {
            "last_success": _iso(self.last_success_ms) if self.last_success_ms else None,
            "last_error": self.last_error.as_dict() if self.last_error else None,
        }


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"
