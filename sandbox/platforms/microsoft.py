"""Microsoft UET Conversions API stand-in: `POST /microsoft/v1/{uetTagId}/events`.

Written from the reference (§5A): Bearer token; body `{"data": [...], "dataProvider"?,
"continueOnValidationError"?}` with at most 1,000 events (the flag is also accepted on each
event, since sources disagree on its place). `eventTime` epoch **seconds**, of any age
(Microsoft publishes no maximum) and not more than 5 minutes ahead; `eventType` `pageLoad`
(needs `eventSourceUrl`) or `custom` (needs `eventName`); `adStorageConsent` `G`/`D`;
`userData.em`/`ph` 64-lowercase-hex, the other ids plain, `msclkid` a GUID (32-36 of
`[0-9a-f-]`); no minimum identity and no required currency (Microsoft's material names neither).

With `continueOnValidationError` true the answer is HTTP 200: valid events are recorded, the
invalid ones are listed in `error.details[]` by index. Without it any invalid event makes an HTTP
400 with the same details and nothing is recorded.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from aiohttp import web

from sandbox.checks import (
    hash_problem,
    is_currency,
    is_int,
    is_ip,
    is_nonempty_str,
    is_number,
    is_url,
    looks_hashed,
)
from sandbox.platform import Endpoint, Platform, RequestContext, json_response, next_request_id

MAX_EVENTS = 1000
MAX_FUTURE_S = 300
_MSCLKID = re.compile(r"[0-9a-f-]{32,36}")
PAGE_TYPES = frozenset({"home", "product", "category", "searchresults", "cart", "purchase", "other"})
PLAIN_IDS = ("externalId", "anonymousId", "idfa", "gaid")


def ms_body(
    status: int,
    received: int,
    code: str | None = None,
    message: str = "",
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """UET CAPI answer: eventsReceived, optional error with details, traceId."""
    body: dict[str, Any] = {"eventsReceived": received}
    if code is not None:
        body["error"] = {"code": code, "message": message, "details": details or []}
    body["traceId"] = next_request_id()
    return json_response(body, status, headers)


class MicrosoftEvents(Endpoint):
    """The UET CAPI events endpoint of one tag."""

    path = "/v1/{tag_id}/events"

    def authenticate(self, request: web.Request, ctx: RequestContext) -> web.Response | None:
        """Bearer CAPI token of the UET tag; anything else is HTTP 401."""
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and auth[7:].strip() in ctx.tokens:
            return None
        return ms_body(401, 0, "Unauthorized", "The access token is missing or invalid.")

    async def handle(self, request: web.Request, ctx: RequestContext) -> web.Response:
        """Validate every event; partial acceptance when continueOnValidationError is set."""
        if not request.match_info["tag_id"].isdigit():
            ctx.reject_request(0)
            return ms_body(400, 0, "InvalidTagId", "The UET tag id must be numeric.")
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            ctx.reject_request(0)
            return ms_body(400, 0, "BadRequest", "The request body is not valid JSON.")
        data = body.get("data") if type(body) is dict else None
        if type(data) is not list or not data:
            ctx.reject_request(0)
            return ms_body(400, 0, "BadRequest", "data must be a non-empty list.")
        n = len(data)
        if n > MAX_EVENTS:
            ctx.reject_request(n)
            return ms_body(400, 0, "BadRequest", f"At most {MAX_EVENTS} events per request, got {n}.")
        top_flag = body.get("continueOnValidationError", False)
        provider = body.get("dataProvider")
        if type(top_flag) is not bool or (provider is not None and not is_nonempty_str(provider)):
            ctx.reject_request(n)
            return ms_body(
                400, 0, "BadRequest", "continueOnValidationError must be a boolean and dataProvider a string."
            )
        details: list[dict[str, Any]] = []
        good: list[tuple[str, int]] = []
        for i, event in enumerate(data):
            problem = _check_event(event, ctx.now_s)
            if problem is None:
                key = _key(event, ctx.now_ms, i)
                if ctx.settings.reject_event_rate and ctx.fault_rejects(key):
                    problem = ("eventId", "The event was rejected.")
                else:
                    good.append((key, event["eventTime"] * 1000))
                    continue
            details.append(
                {
                    "index": i,
                    "propertyName": problem[0],
                    "errorMessage": problem[1],
                    "errorCode": "InvalidValue",
                    "isWarning": False,
                }
            )
        flag = top_flag or any(type(e) is dict and e.get("continueOnValidationError") is True for e in data)
        if details and not flag:
            ctx.reject_request(n)
            return ms_body(400, 0, "ValidationError", "One or more events are invalid.", details)
        for key, event_ms in good:
            ctx.accept(key, event_ms)
        if details:
            ctx.reject_rows(len(details))
            return ms_body(200, len(good), "ValidationError", "One or more events are invalid.", details)
        return ms_body(200, n)

    def server_error(self, status: int) -> web.Response:
        """Error body with the requested 5xx status."""
        return ms_body(status, 0, "InternalServerError", "An internal error occurred.")

    def throttled(self, retry_after_s: int) -> web.Response:
        """HTTP 429; Microsoft documents no rate-limit headers, so no Retry-After."""
        return ms_body(429, 0, "TooManyRequests", "Too many requests.")


def _check_event(event: Any, now_s: float) -> tuple[str, str] | None:
    """(propertyName, message) of the first problem of one event, or None."""
    if type(event) is not dict:
        return "", "Each event must be an object."
    kind = event.get("eventType")
    if kind not in ("pageLoad", "custom"):
        return "eventType", "eventType must be pageLoad or custom."
    t: Any = event.get("eventTime")
    if not is_int(t):
        return "eventTime", "eventTime is required, in Unix seconds."
    if t > now_s + MAX_FUTURE_S:
        return "eventTime", "eventTime is in the future (Unix seconds expected)."
    if kind == "custom" and not is_nonempty_str(event.get("eventName")):
        return "eventName", "eventName is required for custom events."
    if kind == "pageLoad" and not is_url(event.get("eventSourceUrl")):
        return "eventSourceUrl", "eventSourceUrl is required for pageLoad events."
    for key in ("eventSourceUrl", "referrerUrl"):
        if key in event and not is_url(event[key]):
            return key, f"{key} must be an absolute URL."
    if "eventId" in event and not is_nonempty_str(event["eventId"]):
        return "eventId", "eventId must be a non-empty string."
    if event.get("adStorageConsent", "G") not in ("G", "D"):
        return "adStorageConsent", "adStorageConsent must be G or D."
    flag = event.get("continueOnValidationError")
    if flag is not None and type(flag) is not bool:
        return "continueOnValidationError", "continueOnValidationError must be a boolean."
    return _check_user(event.get("userData")) or _check_custom(event.get("customData"))


def _check_user(user: Any) -> tuple[str, str] | None:
    if type(user) is not dict:
        return "userData", "userData is required."
    for key in ("em", "ph"):
        if key in user:
            why = hash_problem(user[key])
            if why is not None:
                return f"userData.{key}", f"{key} must be SHA-256 hashed ({why})."
    msclkid = user.get("msclkid")
    if msclkid is not None and (type(msclkid) is not str or _MSCLKID.fullmatch(msclkid) is None):
        return "userData.msclkid", "msclkid must be the click GUID."
    for key in PLAIN_IDS:
        if key in user and (not is_nonempty_str(user[key]) or looks_hashed(user[key])):
            return f"userData.{key}", f"{key} must be a plain, non-empty string."
    ip = user.get("clientIpAddress")
    if ip is not None and not is_ip(ip):
        return "userData.clientIpAddress", "clientIpAddress must be an unhashed IP address."
    ua = user.get("clientUserAgent")
    if ua is not None and (not is_nonempty_str(ua) or looks_hashed(ua)):
        return "userData.clientUserAgent", "clientUserAgent must be the raw user agent."
    return None


def _check_custom(custom: Any) -> tuple[str, str] | None:
    if custom is None:
        return None
    if type(custom) is not dict:
        return "customData", "customData must be an object."
    for key in ("value", "eventValue", "ecommTotalValue"):
        if key in custom and not is_number(custom[key]):
            return f"customData.{key}", f"{key} must be a number."
    if "currency" in custom and not is_currency(custom["currency"]):
        return "customData.currency", "currency must be an ISO 4217 code."
    if "pageType" in custom and custom["pageType"] not in PAGE_TYPES:
        return "customData.pageType", f"pageType must be one of {sorted(PAGE_TYPES)}."
    items = custom.get("items")
    if items is not None and not (
        type(items) is list and all(type(i) is dict and is_nonempty_str(i.get("id")) for i in items)
    ):
        return "customData.items", "items must be a list of objects with an id."
    return None


def _key(event: dict[str, Any], now_ms: int, index: int) -> str:
    """Recording key: eventId; events without one are each unique."""
    event_id = event.get("eventId")
    return str(event_id) if event_id else f"~noid:{now_ms}:{index}:{id(event)}"


PLATFORM = Platform(
    slug="microsoft", endpoints=(MicrosoftEvents(),), description="Microsoft UET Conversions API"
)
