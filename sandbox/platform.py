"""The contract between the shared core and one platform module.

A platform is a slug plus a few endpoints. An endpoint knows its path, how the platform
authenticates, how it validates and answers a body, and what its failures look like
(server error, throttling, body-level error). The core does everything else: faults,
counting, recording. Adding a platform = one module exposing `PLATFORM` + one line in
`sandbox/platforms/__init__.py`.
"""

from __future__ import annotations

import abc
import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from sandbox.config import FaultSettings
from sandbox.faults import is_rejected
from sandbox.recorder import PlatformRecorder

_ids = itertools.count(1)


def next_request_id() -> str:
    """A unique, cheap request id for response bodies (platforms echo one for support)."""
    return f"sbx{time.time_ns() // 1_000_000:x}{next(_ids):08x}"


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON response serialised with orjson (fast path for the benchmark)."""
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", headers=headers
    )


@dataclass(slots=True)
class RequestContext:
    """What an endpoint needs while handling one request: credentials, clock, fault settings
    and the recorder, behind helpers that keep the counters consistent across platforms."""

    slug: str
    recorder: PlatformRecorder
    settings: FaultSettings
    seed: int
    now_ms: int
    tokens: tuple[str, ...]
    developer_tokens: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def now_s(self) -> float:
        """Request arrival time, epoch seconds."""
        return self.now_ms / 1000.0

    def fault_rejects(self, event_id: str) -> bool:
        """True when the deterministic `reject_event_rate` fault refuses this event (and counts it)."""
        if is_rejected(event_id, self.settings.reject_event_rate, self.seed, self.slug):
            self.recorder.note_fault("reject_event")
            return True
        return False

    def accept(self, event_id: str, event_time_ms: int) -> bool:
        """Record an accepted event; True when it repeats an earlier one."""
        return self.recorder.accept(event_id, event_time_ms, self.now_ms)

    def reject_request(self, n_events: int) -> None:
        """Count a refused request and the events it carried."""
        self.recorder.rejected_requests += 1
        self.recorder.rejected_events += n_events

    def reject_rows(self, n_events: int) -> None:
        """Count events refused individually inside an otherwise successful request."""
        self.recorder.rejected_events += n_events


class Endpoint(abc.ABC):
    """One route of a platform (path relative to `/<slug>`)."""

    method: str = "POST"
    path: str = ""

    @abc.abstractmethod
    def authenticate(self, request: web.Request, ctx: RequestContext) -> web.Response | None:
        """Return the platform's auth error response, or None when the credentials are accepted."""

    @abc.abstractmethod
    async def handle(self, request: web.Request, ctx: RequestContext) -> web.Response:
        """Parse, validate, record and answer an authenticated request."""

    @abc.abstractmethod
    def server_error(self, status: int) -> web.Response:
        """The platform's answer for an internal error with HTTP `status` (5xx)."""

    @abc.abstractmethod
    def throttled(self, retry_after_s: int) -> web.Response:
        """The platform's own throttling answer."""

    def body_error(self, code: int) -> web.Response:
        """A body-level error (platforms that signal errors inside a 200); default: a 500."""
        return self.server_error(500)

    def outage(self, status: int, retry_after_s: int | None) -> web.Response:
        """Answer during an outage: throttling shape for 429, server-error shape otherwise."""
        if status == 429:
            return self.throttled(retry_after_s or 1)
        response = self.server_error(status)
        if retry_after_s is not None and status == 503:
            response.headers["Retry-After"] = str(retry_after_s)
        return response


@dataclass(frozen=True, slots=True)
class Platform:
    """A platform stand-in: its slug (URL prefix and stats key) and its endpoints."""

    slug: str
    endpoints: tuple[Endpoint, ...]
    description: str = ""


EndpointFactory = Callable[[], Endpoint]
