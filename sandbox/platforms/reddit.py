"""Reddit Conversions API v3 stand-in: `POST /reddit/api/v3/pixels/{pixel_id}/conversion_events`.

Written from the reference (§4): Bearer token; body `{"data": {"test_id"?, "partner"?,
"events": [...]}}` with at most 1,000 events; `event_at` epoch **milliseconds**, less than
168 h old and at most 5 min in the future; one invalid event refuses the whole request and
nothing is recorded (v3 error shape `{"error": {"code", "message", "fields": [{"field",
"message"}]}}`). Stricter than Reddit on one point, on purpose: a raw email is refused (Reddit
accepts it) so the sandbox catches unhashed personal data. No minimum identity and no currency
are required (Reddit documents neither). Events with `test_id` are validated and recorded like
any other.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from sandbox.checks import (
    hash_problem,
    is_currency,
    is_int,
    is_nonempty_str,
    is_number,
    is_url,
    looks_hashed,
)
from sandbox.platform import Endpoint, Platform, RequestContext, json_response

MAX_EVENTS = 1000
MAX_AGE_MS = 168 * 3_600_000
MAX_FUTURE_MS = 5 * 60_000
ACTION_SOURCES = frozenset({"WEBSITE", "APP", "PHYSICAL_STORE", "OTHER"})
TRACKING_TYPES = frozenset(
    {
        "PAGE_VISIT",
        "VIEW_CONTENT",
        "SEARCH",
        "ADD_TO_CART",
        "ADD_TO_WISHLIST",
        "LEAD",
        "PURCHASE",
        "SIGN_UP",
        "CUSTOM",
    }
)
ITEM_COUNT_TYPES = frozenset({"PURCHASE", "ADD_TO_CART", "ADD_TO_WISHLIST", "CUSTOM"})
VALUE_TYPES = frozenset({"PURCHASE", "ADD_TO_CART", "ADD_TO_WISHLIST", "LEAD", "SIGN_UP", "CUSTOM"})
HASHED_USER_KEYS = ("email", "phone_number", "external_id", "ip_address", "idfa", "aaid")


def reddit_error(
    status: int,
    code: str,
    message: str,
    fields: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """Reddit v3 error body."""
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return json_response({"error": error}, status, headers)


class Problem(Exception):
    """One validation failure: the JSON path and what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class RedditConversionEvents(Endpoint):
    """The v3 conversion events endpoint of one pixel."""

    path = "/api/v3/pixels/{pixel_id}/conversion_events"

    def authenticate(self, request: web.Request, ctx: RequestContext) -> web.Response | None:
        """Bearer conversion access token; anything else is 401 UNAUTHORIZED."""
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and auth[7:].strip() in ctx.tokens:
            return None
        return json_response(
            {"success": False, "error": {"reason": "UNAUTHORIZED", "explanation": "Authorization Required"}},
            401,
        )

    async def handle(self, request: web.Request, ctx: RequestContext) -> web.Response:
        """Validate all events; accept all or none."""
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            ctx.reject_request(0)
            return reddit_error(400, "INVALID_JSON", "request body is not valid JSON")
        data = body.get("data") if type(body) is dict else None
        events = data.get("events") if type(data) is dict else None
        n = len(events) if type(events) is list else 0
        try:
            _check_envelope(data, events)
            assert type(events) is list
            for i, event in enumerate(events):
                _check_event(event, f"data.events[{i}]", ctx.now_ms)
        except Problem as bad:
            ctx.reject_request(n)
            return reddit_error(
                400,
                "INVALID_ARGUMENT",
                f"invalid request: {bad}",
                [{"field": bad.field, "message": bad.message}],
            )
        keys = [_key(e, ctx.now_ms, i) for i, e in enumerate(events)]
        if ctx.settings.reject_event_rate:
            refused = [i for i, k in enumerate(keys) if ctx.fault_rejects(k)]
            if refused:
                ctx.reject_request(n)
                fields = [{"field": f"data.events[{i}]", "message": "event rejected"} for i in refused]
                return reddit_error(400, "INVALID_ARGUMENT", "invalid request: event rejected", fields)
        for event, key in zip(events, keys, strict=True):
            ctx.accept(key, event["event_at"])
        return json_response({"data": {"message": f"Successfully processed {n} conversion events."}})

    def server_error(self, status: int) -> web.Response:
        """Reddit-style error body with the requested 5xx status."""
        return reddit_error(status, "INTERNAL", "internal error, please retry")

    def throttled(self, retry_after_s: int) -> web.Response:
        """HTTP 429; Reddit documents no Retry-After, so none is sent."""
        return reddit_error(429, "RESOURCE_EXHAUSTED", "too many requests")


def _check_envelope(data: Any, events: Any) -> None:
    if type(data) is not dict:
        raise Problem("data", "required object")
    if type(events) is not list or not events:
        raise Problem("data.events", "required non-empty list")
    if len(events) > MAX_EVENTS:
        raise Problem("data.events", f"at most {MAX_EVENTS} events per request, got {len(events)}")
    for key in ("test_id", "partner"):
        if key in data and not is_nonempty_str(data[key]):
            raise Problem(f"data.{key}", "must be a non-empty string")


def _check_event(event: Any, where: str, now_ms: int) -> None:
    if type(event) is not dict:
        raise Problem(where, "must be an object")
    at: Any = event.get("event_at")
    if not is_int(at):
        raise Problem(f"{where}.event_at", "required integer epoch milliseconds")
    if at < 10**12:
        raise Problem(f"{where}.event_at", "must be epoch milliseconds")
    if now_ms - at >= MAX_AGE_MS:
        raise Problem(f"{where}.event_at", "event_at timestamp must be less than 168h0m0s old")
    if at - now_ms > MAX_FUTURE_MS:
        raise Problem(f"{where}.event_at", "event_at timestamp must not be more than 5m0s in the future")
    source = event.get("action_source")
    if source not in ACTION_SOURCES:
        raise Problem(f"{where}.action_source", f"must be one of {sorted(ACTION_SOURCES)}")
    if source == "WEBSITE" and not is_url(event.get("event_source_url")):
        raise Problem(f"{where}.event_source_url", "required absolute URL for WEBSITE events")
    tracking = _check_type(event.get("type"), f"{where}.type")
    click_id = event.get("click_id")
    if click_id is not None and (not is_nonempty_str(click_id) or looks_hashed(click_id)):
        raise Problem(f"{where}.click_id", "must be the raw rdt_cid value")
    # No minimum identity: Reddit's v3 documentation lists the match keys, none required.
    _check_user(event.get("user"), f"{where}.user")
    _check_metadata(event.get("metadata"), f"{where}.metadata", tracking)


def _check_type(value: Any, where: str) -> str:
    if type(value) is not dict or value.get("tracking_type") not in TRACKING_TYPES:
        raise Problem(f"{where}.tracking_type", f"must be one of {sorted(TRACKING_TYPES)}")
    tracking: str = value["tracking_type"]
    name: Any = value.get("custom_event_name")
    if tracking == "CUSTOM":
        if not is_nonempty_str(name) or len(name) > 64:
            raise Problem(f"{where}.custom_event_name", "required for CUSTOM, at most 64 characters")
    elif name is not None:
        raise Problem(f"{where}.custom_event_name", "only allowed with CUSTOM")
    return tracking


def _check_user(user: Any, where: str) -> None:
    """Validate the `user` keys present."""
    if user is None:
        return
    if type(user) is not dict:
        raise Problem(where, "must be an object")
    for key in HASHED_USER_KEYS:
        value = user.get(key)
        if value is not None:
            why = hash_problem(value)
            if why is not None:
                raise Problem(f"{where}.{key}", f"must be SHA-256 hashed ({why})")
    ua = user.get("user_agent")
    if ua is not None and (not is_nonempty_str(ua) or looks_hashed(ua)):
        raise Problem(f"{where}.user_agent", "must be the raw user agent")
    uuid = user.get("uuid")
    if uuid is not None and (not is_nonempty_str(uuid) or looks_hashed(uuid)):
        raise Problem(f"{where}.uuid", "must be the raw _rdt_uuid value")
    _check_ldu(user.get("data_processing_options"), f"{where}.data_processing_options")
    screen = user.get("screen_dimensions")
    if screen is not None and not (
        type(screen) is dict
        and all(is_int(screen.get(k)) and 0 < screen[k] < 32768 for k in ("width", "height"))
    ):
        raise Problem(f"{where}.screen_dimensions", "width and height must be integers in (0, 32768)")


def _check_ldu(value: Any, where: str) -> None:
    if value is None:
        return
    if type(value) is not dict or value.get("modes") != ["LDU"]:
        raise Problem(f"{where}.modes", 'must be ["LDU"]')
    country = value.get("country")
    if country is not None and not (type(country) is str and len(country) == 2 and country.isupper()):
        raise Problem(f"{where}.country", "must be an ISO 3166-1 alpha-2 code")
    region = value.get("region")
    if region is not None and not is_nonempty_str(region):
        raise Problem(f"{where}.region", "must be a region code such as US-CA")


def _check_metadata(meta: Any, where: str, tracking: str) -> None:
    if meta is None:
        return
    if type(meta) is not dict:
        raise Problem(where, "must be an object")
    conversion_id = meta.get("conversion_id")
    if conversion_id is not None and not is_nonempty_str(conversion_id):
        raise Problem(f"{where}.conversion_id", "must be a non-empty string")
    if ("value" in meta or "currency" in meta) and tracking not in VALUE_TYPES:
        raise Problem(f"{where}.value", f"value and currency are not accepted on {tracking}")
    if "value" in meta and not is_number(meta["value"]):
        raise Problem(f"{where}.value", "must be a number")
    if "currency" in meta and not is_currency(meta["currency"]):
        raise Problem(f"{where}.currency", "must be an ISO 4217 code")
    if "item_count" in meta:
        if tracking not in ITEM_COUNT_TYPES:
            raise Problem(f"{where}.item_count", f"not accepted on {tracking}")
        if not is_int(meta["item_count"]) or meta["item_count"] < 0:
            raise Problem(f"{where}.item_count", "must be a non-negative integer")
    products = meta.get("products")
    if products is not None and not (
        type(products) is list and all(type(p) is dict and is_nonempty_str(p.get("id")) for p in products)
    ):
        raise Problem(f"{where}.products", "must be a list of objects with an id")


def _key(event: dict[str, Any], now_ms: int, index: int) -> str:
    """Recording key: metadata.conversion_id; events without one are each unique."""
    meta = event.get("metadata")
    if type(meta) is dict and meta.get("conversion_id"):
        return str(meta["conversion_id"])
    return f"~noid:{now_ms}:{index}:{id(event)}"


PLATFORM = Platform(
    slug="reddit", endpoints=(RedditConversionEvents(),), description="Reddit Conversions API v3"
)
