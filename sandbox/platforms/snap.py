"""Snap Conversions API v3 stand-in: `POST /snap/v3/{asset_id}/events` and `.../events/validate`.

Written from the reference (§2): token as the `access_token` query parameter or a Bearer header;
body `{"data": [...]}` with at most 2,000 events; `event_name` a standard name (any case),
`event_time` epoch seconds (milliseconds also accepted) at most 37 days old and 5 min ahead,
`action_source` WEB / MOBILE_APP / OFFLINE (any case; `website`/`app` accepted as seen), WEB
needing `event_source_url` and `client_user_agent`; hashed `user_data` keys 64-lowercase-hex
(string or list), `madid` hashed or a lowercase ad id, IP/UA/click ids plain; identity = em, ph,
madid, or IP with UA. Per-event partial semantics are unconfirmed, so the sandbox is
all-or-nothing: HTTP 400 `{"status": "INVALID", "reason", "event": i, "errors": {...}}`.
`/events/validate` answers Snap's ValidateResponse and records nothing.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from sandbox.checks import (
    as_list,
    hash_problem,
    is_currency,
    is_int,
    is_ip,
    is_nonempty_str,
    is_number,
    is_url,
    looks_hashed,
)
from sandbox.platform import Endpoint, Platform, RequestContext, json_response

MAX_EVENTS = 2000
MAX_AGE_S = 37 * 86_400
MAX_FUTURE_S = 300
EVENT_NAMES = frozenset(
    {
        "PURCHASE",
        "SIGN_UP",
        "SUBSCRIBE",
        "START_TRIAL",
        "ADD_CART",
        "ADD_TO_WISHLIST",
        "START_CHECKOUT",
        "ADD_BILLING",
        "VIEW_CONTENT",
        "PAGE_VIEW",
        "LIST_VIEW",
        "SEARCH",
        "SAVE",
        "SHARE",
        "INVITE",
        "LOGIN",
        "RESERVE",
        "RATE",
        "AD_CLICK",
        "AD_VIEW",
        "COMPLETE_TUTORIAL",
        "LEVEL_COMPLETE",
        "ACHIEVEMENT_UNLOCKED",
        "SPENT_CREDITS",
        "APP_INSTALL",
        "APP_OPEN",
        "CUSTOM_EVENT_1",
        "CUSTOM_EVENT_2",
        "CUSTOM_EVENT_3",
        "CUSTOM_EVENT_4",
        "CUSTOM_EVENT_5",
    }
)
SOURCES = {
    "WEB": "WEB",
    "WEBSITE": "WEB",
    "MOBILE_APP": "MOBILE_APP",
    "APP": "MOBILE_APP",
    "OFFLINE": "OFFLINE",
}
HASHED_KEYS = ("em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "country", "external_id")
PLAIN_KEYS = ("sc_click_id", "sc_cookie1", "idfv", "subscription_id")


class Problem(Exception):
    """One invalid event: its index and what is wrong."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.message = message


def snap_invalid(reason: str, status: int = 400, index: int | None = None) -> web.Response:
    """Snap's EventResponse for a refused request."""
    body: dict[str, Any] = {"status": "INVALID", "reason": reason}
    if index is not None:
        body["event"] = index
        body["errors"] = {"codes": ["INVALID_EVENT"], "error_msgs": [reason]}
    return json_response(body, status)


def _authenticate(request: web.Request, ctx: RequestContext) -> web.Response | None:
    token = request.query.get("access_token")
    if token is None:
        auth = request.headers.get("Authorization", "")
        token = auth[7:].strip() if auth.startswith("Bearer ") else None
    if token and token in ctx.tokens:
        return None
    return snap_invalid("Unauthorized: missing or invalid access token", 401)


async def _parse(request: web.Request) -> list[Any] | str:
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return "request body is not valid JSON"
    data = body.get("data") if type(body) is dict else None
    if type(data) is not list or not data:
        return "data must be a non-empty array of events"
    if len(data) > MAX_EVENTS:
        return f"at most {MAX_EVENTS} events per request, got {len(data)}"
    return data


class SnapEvents(Endpoint):
    """`/v3/{asset_id}/events`: records valid batches."""

    path = "/v3/{asset_id}/events"

    def authenticate(self, request: web.Request, ctx: RequestContext) -> web.Response | None:
        """`access_token` query parameter or Bearer header."""
        return _authenticate(request, ctx)

    async def handle(self, request: web.Request, ctx: RequestContext) -> web.Response:
        """Validate every event; record all or nothing."""
        data = await _parse(request)
        if isinstance(data, str):
            ctx.reject_request(0)
            return snap_invalid(data)
        n = len(data)
        try:
            for i, event in enumerate(data):
                _check_event(event, i, ctx.now_s)
        except Problem as bad:
            ctx.reject_request(n)
            return snap_invalid(bad.message, index=bad.index)
        keys = [_key(e, ctx.now_ms, i) for i, e in enumerate(data)]
        if ctx.settings.reject_event_rate:
            refused = [i for i, k in enumerate(keys) if ctx.fault_rejects(k)]
            if refused:
                ctx.reject_request(n)
                return snap_invalid(f"event {refused[0]} rejected", index=refused[0])
        for event, key in zip(data, keys, strict=True):
            ctx.accept(key, _event_ms(event["event_time"]))
        return json_response({"status": "VALID", "reason": f"{n} events received"})

    def server_error(self, status: int) -> web.Response:
        """Snap-style body with the requested 5xx status."""
        return snap_invalid("Internal server error, please retry", status)

    def throttled(self, retry_after_s: int) -> web.Response:
        """HTTP 429 with no headers (Snap's documented behaviour)."""
        return snap_invalid("Rate limit exceeded", 429)


class SnapValidate(SnapEvents):
    """`/v3/{asset_id}/events/validate`: same checks, a per-event log, nothing recorded."""

    path = "/v3/{asset_id}/events/validate"

    async def handle(self, request: web.Request, ctx: RequestContext) -> web.Response:
        """Snap's ValidateResponse; never records."""
        data = await _parse(request)
        if isinstance(data, str):
            return json_response({"status": "INVALID", "test_event": True, "reason": data, "event_logs": []})
        logs = []
        for i, event in enumerate(data):
            try:
                _check_event(event, i, ctx.now_s)
                logs.append({"event": i, "status": "VALID", "errors": {}, "warnings": []})
            except Problem as bad:
                entry = {"codes": ["INVALID_EVENT"], "error_msgs": [bad.message]}
                logs.append({"event": i, "status": "INVALID", "errors": entry, "warnings": []})
        ok = all(log["status"] == "VALID" for log in logs)
        return json_response(
            {"status": "VALID" if ok else "INVALID", "test_event": True, "reason": "", "event_logs": logs}
        )


def _event_ms(t: int) -> int:
    return t if t >= 10**12 else t * 1000


def _check_event(event: Any, i: int, now_s: float) -> None:
    if type(event) is not dict:
        raise Problem(i, f"data[{i}] must be an object")
    name = event.get("event_name")
    if type(name) is not str or name.upper() not in EVENT_NAMES:
        raise Problem(i, f"data[{i}].event_name must be a standard Snap event name")
    t: Any = event.get("event_time")
    if not is_int(t):
        raise Problem(i, f"data[{i}].event_time is required (epoch seconds)")
    seconds = _event_ms(t) / 1000
    if seconds < now_s - MAX_AGE_S:
        raise Problem(i, f"data[{i}].event_time is older than 37 days")
    if seconds > now_s + MAX_FUTURE_S:
        raise Problem(i, f"data[{i}].event_time is in the future")
    source = SOURCES.get(str(event.get("action_source", "")).upper())
    if source is None:
        raise Problem(i, f"data[{i}].action_source must be WEB, MOBILE_APP or OFFLINE")
    if "event_id" in event and not is_nonempty_str(event["event_id"]):
        raise Problem(i, f"data[{i}].event_id must be a non-empty string")
    if source == "WEB" and not is_url(event.get("event_source_url")):
        raise Problem(i, f"data[{i}].event_source_url is required for WEB events")
    _check_user(event.get("user_data"), i, source)
    _check_custom(event.get("custom_data"), i)
    # Snap's v3 schema has data_processing_options only (no Meta-style country/state codes).
    dpo = event.get("data_processing_options")
    if dpo is not None and not (type(dpo) is list and set(dpo) <= {"LDU"}):
        raise Problem(i, f'data[{i}].data_processing_options must be ["LDU"]')


def _check_user(user: Any, i: int, source: str) -> None:
    where = f"data[{i}].user_data"
    if type(user) is not dict:
        raise Problem(i, f"{where} is required")
    for key in HASHED_KEYS:
        if key in user:
            for value in as_list(user[key]):
                why = hash_problem(value)
                if why is not None:
                    raise Problem(i, f"{where}.{key} must be SHA-256 hashed ({why})")
    madid = user.get("madid")
    if madid is not None and not (type(madid) is str and madid and madid == madid.lower()):
        raise Problem(i, f"{where}.madid must be lowercase (hashed or the raw ad id)")
    ip, ua = user.get("client_ip_address"), user.get("client_user_agent")
    if ip is not None and not is_ip(ip):
        raise Problem(i, f"{where}.client_ip_address must be an unhashed IP address")
    if ua is not None and (not is_nonempty_str(ua) or looks_hashed(ua)):
        raise Problem(i, f"{where}.client_user_agent must be the raw user agent")
    if source == "WEB" and not ua:
        raise Problem(i, f"{where}.client_user_agent is required for WEB events")
    for key in PLAIN_KEYS:
        if key in user and (not is_nonempty_str(user[key]) or looks_hashed(user[key])):
            raise Problem(i, f"{where}.{key} must be the plain value")
    lead_id = user.get("lead_id")
    if lead_id is not None and not (is_int(lead_id) or (type(lead_id) is str and lead_id.isdigit())):
        raise Problem(i, f"{where}.lead_id must be an integer")
    if not (user.get("em") or user.get("ph") or madid or (ip and ua)):
        raise Problem(i, f"{where} needs em, ph, madid, or client_ip_address with client_user_agent")


def _check_custom(custom: Any, i: int) -> None:
    if custom is None:
        return
    where = f"data[{i}].custom_data"
    if type(custom) is not dict:
        raise Problem(i, f"{where} must be an object")
    currency = custom.get("currency")
    if currency is not None and not (is_currency(currency) and currency.isupper()):
        raise Problem(i, f"{where}.currency must be an uppercase ISO 4217 code")
    if "value" in custom and not is_number(custom["value"]):
        raise Problem(i, f"{where}.value must be a number")
    if "num_items" in custom and not is_int(custom["num_items"]):
        raise Problem(i, f"{where}.num_items must be an integer")


def _key(event: dict[str, Any], now_ms: int, index: int) -> str:
    event_id = event.get("event_id")
    return str(event_id) if event_id else f"~noid:{now_ms}:{index}:{id(event)}"


PLATFORM = Platform(
    slug="snap", endpoints=(SnapEvents(), SnapValidate()), description="Snap Conversions API v3"
)
