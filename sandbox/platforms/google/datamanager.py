"""Google Data Manager stand-in: `POST /google/v1/events:ingest`.

Fast-fail like the real API (reference §2.14): any invalid field rejects the whole request
with HTTP 400 and a BadRequest listing every violation; success is `{"requestId": ...}`.
Data Manager deduplicates on `transactionId` silently, so repeats are accepted (and counted
as duplicates), never answered with an error.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from sandbox.platform import RequestContext, json_response, next_request_id
from sandbox.platforms.google.datamanager_rules import (
    MAX_EVENTS,
    REQUEST_FIELDS,
    Violations,
    check_consent,
    check_destinations,
    check_event,
)
from sandbox.platforms.google.errors import (
    GoogleFaults,
    bad_request,
    bearer_token,
    google_error,
    unknown_field_error,
)

_REASON = {
    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
    "reason": "INVALID_ARGUMENT",
    "domain": "datamanager.googleapis.com",
}


class DataManagerIngest(GoogleFaults):
    """IngestionService.IngestEvents over REST."""

    path = "/v1/events:ingest"

    def authenticate(self, request: web.Request, ctx: RequestContext) -> web.Response | None:
        """Bearer OAuth token only (destinations replace the Ads API's extra headers)."""
        token = bearer_token(request)
        if token is not None and token in ctx.tokens:
            return None
        return google_error(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
            "or other valid authentication credential.",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "ACCESS_TOKEN_TYPE_UNSUPPORTED" if token is None else "ACCESS_TOKEN_EXPIRED",
                    "domain": "googleapis.com",
                }
            ],
            headers={
                "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
            },
        )

    async def handle(self, request: web.Request, ctx: RequestContext) -> web.Response:
        """Validate everything, apply the reject fault, then record all events (or none)."""
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            ctx.reject_request(0)
            return google_error(400, "Invalid JSON payload received.")
        if type(body) is not dict:
            ctx.reject_request(0)
            return google_error(400, "Invalid JSON payload received. Expected an object.")
        events = body.get("events")
        n = len(events) if type(events) is list else 0
        for name in body:
            if name not in REQUEST_FIELDS:
                ctx.reject_request(n)
                return unknown_field_error(name, "")
        violations: Violations = []
        accepted = _validate(body, events, ctx.now_s, violations)
        if not violations and not body.get("validateOnly") and ctx.settings.reject_event_rate:
            for i, (key, _) in enumerate(accepted):
                if ctx.fault_rejects(key):
                    violations.append(
                        (f"events[{i}]", f"Event {key} was rejected (sandbox reject_event fault).")
                    )
        if violations:
            ctx.reject_request(n)
            return google_error(
                400,
                violations[0][1]
                if len(violations) == 1
                else f"{violations[0][0]}: {violations[0][1]} (and {len(violations) - 1} more)",
                [bad_request(violations), _REASON],
            )
        if not body.get("validateOnly"):
            for key, event_ms in accepted:
                ctx.accept(key, event_ms)
        return json_response({"requestId": next_request_id()})


def _validate(body: dict[str, Any], events: Any, now_s: float, out: Violations) -> list[tuple[str, int]]:
    """Collect every violation; return (key, event ms) of each event when all are valid."""
    check_destinations(body.get("destinations"), out)
    check_consent(body.get("consent"), "consent", out)
    validate_only = body.get("validateOnly")
    if validate_only is not None and type(validate_only) is not bool:
        out.append(("validateOnly", "Must be a boolean."))
    if type(events) is not list or not events:
        out.append(("events", "At least one event is required."))
        return []
    if len(events) > MAX_EVENTS:
        out.append(("events", f"At most {MAX_EVENTS} events per request, got {len(events)}."))
        return []
    encoding = body.get("encoding")
    accepted: list[tuple[str, int]] = []
    for i, event in enumerate(events):
        result = check_event(event, i, encoding, now_s, out)
        if result is not None:
            accepted.append(result)
    # a missing encoding is reported by every event that has userData; keep one copy
    deduped: Violations = []
    for item in out:
        if item not in deduped:
            deduped.append(item)
    out[:] = deduped
    return accepted
