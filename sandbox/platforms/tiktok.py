"""TikTok Events API 2.0 stand-in: `POST /tiktok/open_api/v1.3/event/track/`.

TikTok answers almost everything with HTTP 200 and a `code` in the body (0 = OK), and fails
the whole request when any row is bad (reference §3.8, §3.10). Written from TikTok's own
material only: its Business API SDK makes every `user` key and `properties.value`/`currency`
optional, and neither the SDK nor TikTok's Events API pages set a maximum event age, so the
stand-in refuses no old event, no event without identifiers and no purchase without currency.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from sandbox.checks import (
    as_list,
    hash_problem,
    is_click_id,
    is_currency,
    is_int,
    is_ip,
    is_nonempty_str,
    is_number,
    looks_hashed,
)
from sandbox.platform import Endpoint, Platform, RequestContext, json_response, next_request_id

MAX_EVENTS = 1000
MAX_FUTURE_S = 60
EVENT_SOURCES = frozenset({"web", "app", "offline", "crm"})
CODE_OK = 0
CODE_NO_PERMISSION = 40001
CODE_INVALID_PARAM = 40002
CODE_RATE_LIMIT = 40100
CODE_BAD_TOKEN = 40105
CODE_SYSTEM = 50000
_MESSAGES = {
    CODE_RATE_LIMIT: "Too many requests. Rate limit exceeded, please retry later.",
    CODE_SYSTEM: "System error, please retry later.",
    50002: "Service is temporarily unavailable, please retry later.",
}
_HASHED_USER_KEYS = ("email", "phone", "external_id")


def tiktok_body(
    code: int, message: str, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """TikTok's universal envelope `{code, message, request_id, data}`."""
    body = {"code": code, "message": message, "request_id": next_request_id(), "data": {}}
    return json_response(body, status, headers)


class TikTokTrack(Endpoint):
    """The Events API 2.0 track endpoint (web, app, offline and CRM events)."""

    path = "/open_api/v1.3/event/track/"

    def authenticate(self, request: web.Request, ctx: RequestContext) -> web.Response | None:
        """`Access-Token` header; a wrong or missing one is code 40105 inside an HTTP 200."""
        token = request.headers.get("Access-Token")
        if token and token in ctx.tokens:
            return None
        if not token:
            return tiktok_body(CODE_BAD_TOKEN, "Access token is empty. Set the Access-Token header.")
        return tiktok_body(CODE_BAD_TOKEN, "The access token is invalid or has been revoked.")

    async def handle(self, request: web.Request, ctx: RequestContext) -> web.Response:
        """Validate the whole request; any bad row fails it with code 40002."""
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            ctx.reject_request(0)
            return tiktok_body(CODE_INVALID_PARAM, "Invalid JSON body.")
        if type(body) is not dict:
            ctx.reject_request(0)
            return tiktok_body(CODE_INVALID_PARAM, "Request body must be a JSON object.")
        data: Any = body.get("data")
        n = len(data) if type(data) is list else 0
        problem = _check_envelope(body, data)
        if problem is None:
            problem = _check_events(data, ctx.now_s)
        if problem is not None:
            ctx.reject_request(n)
            return tiktok_body(CODE_INVALID_PARAM, problem)
        keys = [_event_key(e, ctx.now_ms, i) for i, e in enumerate(data)]
        if ctx.settings.reject_event_rate:
            refused = [(i, k) for i, k in enumerate(keys) if ctx.fault_rejects(k)]
            if refused:
                i, key = refused[0]
                ctx.reject_request(n)
                return tiktok_body(
                    CODE_INVALID_PARAM, f"Invalid value for data[{i}] (event_id {key}): rejected."
                )
        for event, key in zip(data, keys, strict=True):
            ctx.accept(key, event["event_time"] * 1000)
        return tiktok_body(CODE_OK, "OK")

    def server_error(self, status: int) -> web.Response:
        """Gateway-style failure with TikTok's system-error body."""
        return tiktok_body(CODE_SYSTEM, _MESSAGES[CODE_SYSTEM], status=status)

    def throttled(self, retry_after_s: int) -> web.Response:
        """HTTP 429 with Retry-After and the 40100 rate-limit body."""
        return tiktok_body(
            CODE_RATE_LIMIT,
            _MESSAGES[CODE_RATE_LIMIT],
            status=429,
            headers={"Retry-After": str(retry_after_s)},
        )

    def body_error(self, code: int) -> web.Response:
        """TikTok's own style: HTTP 200 with a non-zero code (40100 throttle, 50000 system error)."""
        return tiktok_body(code, _MESSAGES.get(code, "Request failed."))


def _check_envelope(body: dict[str, Any], data: Any) -> str | None:
    """Top-level fields: event_source, event_source_id, data (1..1000), test_event_code."""
    if body.get("event_source") not in EVENT_SOURCES:
        return f"Invalid value for event_source: must be one of {sorted(EVENT_SOURCES)}."
    if not is_nonempty_str(body.get("event_source_id")):
        return "Missing required parameter: event_source_id."
    if type(data) is not list or not data:
        return "Missing required parameter: data."
    if len(data) > MAX_EVENTS:
        return f"Invalid value for data: at most {MAX_EVENTS} events per request, got {len(data)}."
    tec = body.get("test_event_code")
    if tec is not None and type(tec) is not str:
        return "Invalid value for test_event_code: must be a string."
    return None


def _check_events(data: list[Any], now_s: float) -> str | None:
    """Validate every row; the first problem fails the request."""
    newest = now_s + MAX_FUTURE_S
    for i, event in enumerate(data):
        where = f"data[{i}]"
        if type(event) is not dict:
            return f"Invalid value for {where}: must be an object."
        if not is_nonempty_str(event.get("event")):
            return f"Missing required parameter: {where}.event."
        t: Any = event.get("event_time")
        if not is_int(t):
            return f"Invalid value for {where}.event_time: must be an integer Unix timestamp in seconds."
        if t > newest:
            return f"Invalid value for {where}.event_time: in the future."
        event_id = event.get("event_id")
        if event_id is not None and not is_nonempty_str(event_id):
            return f"Invalid value for {where}.event_id: must be a non-empty string."
        problem = _check_user(event, where)
        if problem is None:
            problem = _check_properties(event, where)
        if problem is not None:
            return problem
        ldu = event.get("limited_data_use")
        if ldu is not None and type(ldu) is not bool:
            return f"Invalid value for {where}.limited_data_use: must be a boolean."
    return None


def _check_user(event: dict[str, Any], where: str) -> str | None:
    """email/phone/external_id hashed, ip/user_agent in clear; no minimum identity (TikTok
    documents none)."""
    user = event.get("user")
    if type(user) is not dict:
        return f"Missing required parameter: {where}.user."
    for key in _HASHED_USER_KEYS:
        value = user.get(key)
        if value is None:
            continue
        for j, item in enumerate(as_list(value)):
            why = hash_problem(item)
            if why is not None:
                return f"Invalid value for {where}.user.{key}[{j}]: must be SHA-256 hashed ({why})."
    ip = user.get("ip")
    if ip is not None and not is_ip(ip):
        return f"Invalid value for {where}.user.ip: must be an unhashed IPv4/IPv6 address."
    ua = user.get("user_agent")
    if ua is not None and (not is_nonempty_str(ua) or looks_hashed(ua)):
        return f"Invalid value for {where}.user.user_agent: must be the raw user agent."
    ttclid = user.get("ttclid")
    if ttclid is not None and not is_click_id(ttclid):
        return f"Invalid value for {where}.user.ttclid."
    return None


def _check_properties(event: dict[str, Any], where: str) -> str | None:
    """Money fields, when present, must be well-formed."""
    props = event.get("properties")
    if props is None:
        return None
    if type(props) is not dict:
        return f"Invalid value for {where}.properties: must be an object."
    value = props.get("value")
    if value is not None and not is_number(value):
        return f"Invalid value for {where}.properties.value: must be a number."
    currency = props.get("currency")
    if currency is not None and not is_currency(currency):
        return f"Invalid value for {where}.properties.currency: must be an ISO-4217 code."
    return None


def _event_key(event: dict[str, Any], now_ms: int, index: int) -> str:
    """Recording key: event_id; rows without one are each unique."""
    event_id = event.get("event_id")
    if event_id is not None:
        return str(event_id)
    return f"~noid:{event.get('event')}:{now_ms}:{index}:{id(event)}"


PLATFORM = Platform(slug="tiktok", endpoints=(TikTokTrack(),), description="TikTok Events API 2.0")
