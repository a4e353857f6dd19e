"""Pinterest Conversions API v5 stand-in: `POST /pinterest/v5/ad_accounts/{ad_account_id}/events`.

Written from the reference (§3, Pinterest's OpenAPI): Bearer token; body `{"data": [...]}` with
1-1,000 events and no other top-level key; per event `event_name` (OpenAPI list),
`action_source`, `event_time` epoch **seconds** (no maximum age: the spec sets none; at most
5 min ahead), `event_id`
and `user_data` required; hashed `user_data` keys are **arrays** of 64-lowercase-hex, IP/UA/
`click_id`/`partner_id` plain strings; identity = em, hashed_maids, or IP with UA;
`custom_data` allows only its documented keys, with `value`/`item_price` as decimal strings.
Per-event answers: all processed -> HTTP 200; any failed -> HTTP 422 `{code: 953, details:
{events: [...]}}` with the processed ones recorded. `?test=true` validates and records nothing.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from aiohttp import web

from sandbox.checks import hash_problem, is_currency, is_int, is_ip, is_nonempty_str, is_url, looks_hashed
from sandbox.platform import Endpoint, Platform, RequestContext, json_response

MAX_EVENTS = 1000
MAX_FUTURE_S = 300
_DECIMAL = re.compile(r"-?\d+(?:\.\d+)?")
EVENT_NAMES = frozenset(
    {
        "add_payment_info",
        "add_to_cart",
        "add_to_wishlist",
        "app_install",
        "checkout",
        "custom",
        "initiate_checkout",
        "lead",
        "page_visit",
        "search",
        "signup",
        "subscribe",
        "view_category",
        "view_content",
        "watch_video",
    }
)
ACTION_SOURCES = frozenset({"app_android", "app_ios", "web", "offline"})
HASHED_KEYS = ("em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "country", "external_id", "hashed_maids")
PLAIN_KEYS = ("client_user_agent", "click_id", "partner_id")
CUSTOM_KEYS = frozenset(
    {
        "currency",
        "value",
        "content_ids",
        "contents",
        "num_items",
        "order_id",
        "search_string",
        "opt_out_type",
        "content_name",
        "content_category",
        "content_brand",
        "predicted_ltv",
        "np",
        "external_measurement_id",
        "_vendor_id",
    }
)
CONTENT_KEYS = frozenset({"id", "item_price", "quantity", "item_name", "item_category", "item_brand"})


def pin_error(status: int, code: int, message: str, details: Any = None) -> web.Response:
    """Pinterest error body `{code, message[, details]}`."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return json_response(body, status)


class PinterestEvents(Endpoint):
    """The ad account's conversion events endpoint."""

    path = "/v5/ad_accounts/{ad_account_id}/events"

    def authenticate(self, request: web.Request, ctx: RequestContext) -> web.Response | None:
        """Bearer conversion token; anything else is 401 code 2."""
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and auth[7:].strip() in ctx.tokens:
            return None
        return pin_error(401, 2, "Authentication failed.")

    async def handle(self, request: web.Request, ctx: RequestContext) -> web.Response:
        """Validate per event; record the processed ones unless `?test=true`."""
        if not request.match_info["ad_account_id"].isdigit():
            ctx.reject_request(0)
            return pin_error(403, 29, "You are not permitted to access that resource.")
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            ctx.reject_request(0)
            return pin_error(400, 4196, "The request was invalid. Body is not valid JSON.")
        data = body.get("data") if type(body) is dict else None
        if type(data) is not list or not 1 <= len(data) <= MAX_EVENTS or set(body) != {"data"}:
            ctx.reject_request(len(data) if type(data) is list else 0)
            return pin_error(
                400,
                4196,
                f"The request was invalid. data must hold 1 to {MAX_EVENTS} "
                "events and no other top-level property is allowed.",
            )
        test = request.query.get("test", "").lower() == "true"
        results: list[dict[str, str]] = []
        accepted: list[tuple[str, int]] = []
        for event in data:
            problem = _check_event(event, ctx.now_s)
            if problem is None and ctx.settings.reject_event_rate and ctx.fault_rejects(event["event_id"]):
                problem = "Event rejected."
            if problem is None:
                accepted.append((event["event_id"], event["event_time"] * 1000))
                results.append({"status": "processed", "error_message": "", "warning_message": ""})
            else:
                results.append({"status": "failed", "error_message": problem, "warning_message": ""})
        if not test:
            for key, event_ms in accepted:
                ctx.accept(key, event_ms)
        summary = {"num_events_received": len(data), "num_events_processed": len(accepted), "events": results}
        failed = len(data) - len(accepted)
        if not failed:
            return json_response(summary)
        if accepted:
            ctx.reject_rows(failed)
        else:
            ctx.reject_request(failed)
        return pin_error(
            422,
            953,
            "The action could not be processed properly due to some or all data provided being invalid.",
            summary,
        )

    def server_error(self, status: int) -> web.Response:
        """Pinterest error body; 503 is 'endpoint ramped down' (code 4197)."""
        if status == 503:
            return pin_error(503, 4197, "The endpoint has been ramped down. Please try again later.")
        return pin_error(status, 1, "Internal error. Please try again later.")

    def throttled(self, retry_after_s: int) -> web.Response:
        """HTTP 429 code 8 (no Retry-After is documented)."""
        return pin_error(429, 8, "Rate limit exceeded. Please try again later.")


def _check_event(event: Any, now_s: float) -> str | None:
    """Pinterest-style error_message of one event, or None."""
    if type(event) is not dict:
        return "Event must be an object."
    if event.get("event_name") not in EVENT_NAMES:
        return "Invalid event_name parameter."
    if event.get("action_source") not in ACTION_SOURCES:
        return "Invalid action_source parameter."
    t: Any = event.get("event_time")
    if not is_int(t):
        return "Invalid event_time parameter: Unix seconds expected."
    if t > now_s + MAX_FUTURE_S:
        return "Invalid event_timestamp parameter. Given timestamp is in the future."
    if not is_nonempty_str(event.get("event_id")):
        return "Missing event_id parameter."
    if "event_source_url" in event and not is_url(event["event_source_url"]):
        return "Invalid event_source_url parameter."
    if "opt_out" in event and type(event["opt_out"]) is not bool:
        return "Invalid opt_out parameter: boolean expected."
    return _check_user(event.get("user_data")) or _check_custom(event.get("custom_data"))


def _check_user(user: Any) -> str | None:
    if type(user) is not dict:
        return "Missing user_data parameter."
    for key in HASHED_KEYS:
        if key not in user:
            continue
        values = user[key]
        if type(values) is not list:
            return f"Invalid user_data.{key}: an array of SHA-256 hashes is expected."
        for value in values:
            why = hash_problem(value)
            if why is not None:
                return f"Invalid user_data.{key}: must be SHA-256 hashed ({why})."
    ip = user.get("client_ip_address")
    if ip is not None and not is_ip(ip):
        return "Invalid user_data.client_ip_address: an unhashed IP address is expected."
    for key in PLAIN_KEYS:
        if key in user and (not is_nonempty_str(user[key]) or looks_hashed(user[key])):
            return f"Invalid user_data.{key}: the plain value is expected."
    if not (user.get("em") or user.get("hashed_maids") or (ip and user.get("client_user_agent"))):
        return "user_data needs em, hashed_maids, or client_ip_address with client_user_agent."
    return None


def _check_custom(custom: Any) -> str | None:
    if custom is None:
        return None
    if type(custom) is not dict:
        return "Invalid custom_data: object expected."
    extra = set(custom) - CUSTOM_KEYS
    if extra:
        return f"Invalid custom_data: additional properties are not allowed ({sorted(extra)})."
    if "value" in custom and not (type(custom["value"]) is str and _DECIMAL.fullmatch(custom["value"])):
        return "Invalid custom_data.value: a decimal string is expected."
    if "currency" in custom and not is_currency(custom["currency"]):
        return "Invalid custom_data.currency."
    if "num_items" in custom and not is_int(custom["num_items"]):
        return "Invalid custom_data.num_items: integer expected."
    ids = custom.get("content_ids")
    if ids is not None and not (type(ids) is list and all(type(x) is str for x in ids)):
        return "Invalid custom_data.content_ids: array of strings expected."
    for line in custom.get("contents") or ():
        if type(line) is not dict or set(line) - CONTENT_KEYS:
            return "Invalid custom_data.contents: unknown property."
        price = line.get("item_price")
        if price is not None and not (type(price) is str and _DECIMAL.fullmatch(price)):
            return "Invalid custom_data.contents.item_price: a decimal string is expected."
        if "quantity" in line and not is_int(line["quantity"]):
            return "Invalid custom_data.contents.quantity: integer expected."
    return None


PLATFORM = Platform(
    slug="pinterest", endpoints=(PinterestEvents(),), description="Pinterest Conversions API v5"
)
