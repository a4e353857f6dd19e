"""Meta Conversions API stand-in: `POST /meta/{version}/{pixel_id}/events`.

All-or-nothing like the real API (reference §1.8): one invalid event, or one event refused
by the reject fault, fails the whole request with a Graph error body; nothing is recorded.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

import orjson
from aiohttp import web

from sandbox.platform import Endpoint, Platform, RequestContext, json_response, next_request_id
from sandbox.platforms.meta_rules import MAX_EVENTS, SUBCODE_INVALID, check_event

_VERSION = re.compile(r"v\d+\.\d+")
_USER_LIMIT = (17, "(#17) User request limit reached")
_BUC_LIMIT = (80004, "(#80004) There have been too many calls to this ad-account. Wait a bit and try again.")
# Graph error codes the `body_error` fault can answer with, named as in Meta's error-handling
# guide (developers.facebook.com/docs/graph-api/guides/error-handling): (message, HTTP status).
_GRAPH_ERRORS: dict[int, tuple[str, int]] = {
    4: ("(#4) Application request limit reached", 400),
    10: ("(#10) Application does not have permission for this action", 403),
    17: (_USER_LIMIT[1], 400),
    200: ("(#200) Permissions error", 403),
    341: ("(#341) Application limit reached", 400),
    368: ("(#368) Temporarily blocked for policies violations", 400),
}


def meta_error(
    message: str,
    code: int,
    subcode: int | None = None,
    status: int = 400,
    *,
    transient: bool = False,
    user_msg: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """A Graph API error body (`{"error": {...}}`) with the given code and HTTP status."""
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "is_transient": transient,
        "fbtrace_id": next_request_id(),
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    if user_msg is not None:
        error["error_user_title"] = "Invalid parameter"
        error["error_user_msg"] = user_msg
    return json_response({"error": error}, status, headers)


class MetaEvents(Endpoint):
    """The CAPI events edge of a pixel/dataset."""

    path = "/{version}/{pixel_id}/events"

    def authenticate(self, request: web.Request, ctx: RequestContext) -> web.Response | None:
        """`access_token` query parameter or `Authorization: Bearer`; form-body tokens are
        checked in `handle` once the body is read."""
        token = request.query.get("access_token")
        if token is None:
            auth = request.headers.get("Authorization", "")
            if auth.startswith("Bearer "):
                token = auth[7:].strip()
        if token is None:
            if request.content_type == "application/x-www-form-urlencoded":
                ctx.extra["auth_from_form"] = True
                return None
            return meta_error("An access token is required to request this resource.", 104)
        return self._check_token(token, ctx)

    @staticmethod
    def _check_token(token: str | None, ctx: RequestContext) -> web.Response | None:
        if not token:
            return meta_error("An access token is required to request this resource.", 104)
        if token in ctx.tokens:
            return None
        return meta_error(
            "Invalid OAuth access token - Cannot parse access token",
            190,
            headers={
                "WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token" "Invalid OAuth access token"'
            },
        )

    async def handle(self, request: web.Request, ctx: RequestContext) -> web.Response:
        """Parse JSON or form body, validate every event, then accept all or nothing."""
        version = request.match_info["version"]
        pixel_id = request.match_info["pixel_id"]
        if not _VERSION.fullmatch(version):
            ctx.reject_request(0)
            return meta_error(f"Unknown path components: /{version}/{pixel_id}/events", 2500)
        raw = await request.read()
        payload, problem = _parse_body(raw, request.content_type)
        if ctx.extra.get("auth_from_form"):
            token = payload.get("access_token") if isinstance(payload, dict) else None
            denied = self._check_token(token if isinstance(token, str) else None, ctx)
            if denied is not None:
                ctx.reject_request(0)
                return denied
        if problem is not None:
            ctx.reject_request(0)
            return meta_error(f"(#100) {problem}", 100, SUBCODE_INVALID)
        if not pixel_id.isdigit():
            ctx.reject_request(0)
            return meta_error(
                f"Unsupported post request. Object with ID '{pixel_id}' does not exist, cannot be "
                "loaded due to missing permissions, or does not support this operation.",
                100,
                33,
            )
        return self._process(payload, ctx)

    def _process(self, payload: dict[str, Any], ctx: RequestContext) -> web.Response:
        data = payload.get("data")
        if type(data) is not list or not data:
            ctx.reject_request(0)
            return meta_error("(#100) The parameter data is required", 100, SUBCODE_INVALID)
        n = len(data)
        if n > MAX_EVENTS:
            ctx.reject_request(n)
            return meta_error(
                f"(#100) data: a request can contain at most {MAX_EVENTS} events, got {n}",
                100,
                SUBCODE_INVALID,
            )
        tec = payload.get("test_event_code")
        if tec is not None and type(tec) is not str:
            ctx.reject_request(n)
            return meta_error("(#100) test_event_code must be a string", 100, SUBCODE_INVALID)
        now_s = ctx.now_s
        for i, event in enumerate(data):
            bad = check_event(event, i, now_s)
            if bad is not None:
                ctx.reject_request(n)
                return meta_error(
                    f"(#100) Invalid parameter: {bad.field}: {bad.message}",
                    100,
                    bad.subcode,
                    user_msg=f"{bad.field}: {bad.message}",
                )
        keys = [_event_key(e, ctx.now_ms, i) for i, e in enumerate(data)]
        if ctx.settings.reject_event_rate:
            refused = [(i, k) for i, k in enumerate(keys) if ctx.fault_rejects(k)]
            if refused:
                i, key = refused[0]
                ctx.reject_request(n)
                return meta_error(
                    f"(#100) Invalid parameter: data[{i}] (event_id {key}) was rejected",
                    100,
                    SUBCODE_INVALID,
                    user_msg=f"data[{i}]: event {key} rejected (sandbox reject_event fault)",
                )
        for event, key in zip(data, keys, strict=True):
            ctx.accept(key, event["event_time"] * 1000)
        return json_response({"events_received": n, "messages": [], "fbtrace_id": next_request_id()})

    def server_error(self, status: int) -> web.Response:
        """Graph's transient service error (code 2 / 1) with the requested status."""
        if status == 504:
            return meta_error(
                "(#2) Service temporarily unavailable (request timed out)", 2, status=504, transient=True
            )
        if status == 500:
            return meta_error("An unknown error occurred", 1, 99, status=500, transient=True)
        return meta_error("(#2) Service temporarily unavailable", 2, status=status, transient=True)

    def body_error(self, code: int) -> web.Response:
        """A Graph error body for one of Meta's documented codes (`_GRAPH_ERRORS`); any other code
        (the fault's defaults are TikTok's) is the transient HTTP 500 of `server_error`."""
        known = _GRAPH_ERRORS.get(code)
        if known is None:
            return self.server_error(500)
        message, status = known
        return meta_error(message, code, status=status)

    def throttled(self, retry_after_s: int) -> web.Response:
        """Graph throttling is HTTP 400 (code 17 for short waits, 80004 business-use-case limit
        for waits of a minute or more) with a usage header, never a 429."""
        code, message = _USER_LIMIT if retry_after_s < 60 else _BUC_LIMIT
        minutes = max(1, (retry_after_s + 59) // 60)
        usage = orjson.dumps(
            {
                "call_count": 100,
                "total_time": 100,
                "total_cputime": 100,
                "estimated_time_to_regain_access": minutes,
            }
        ).decode()
        return meta_error(message, code, status=400, transient=True, headers={"x-app-usage": usage})


def _parse_body(raw: bytes, content_type: str) -> tuple[dict[str, Any], str | None]:
    """Decode a JSON body, or a form body whose `data` field is a JSON string."""
    if content_type == "application/x-www-form-urlencoded":
        try:
            form = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return {}, "request body is not valid UTF-8"
        payload: dict[str, Any] = {k: v[-1] for k, v in form.items()}
        if "data" in payload:
            try:
                payload["data"] = _sdk_events(orjson.loads(payload["data"]))
            except orjson.JSONDecodeError:
                return payload, "the parameter data must be a JSON array"
        return payload, None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}, "request body is not valid JSON"
    if type(body) is not dict:
        return {}, "request body must be a JSON object"
    return body, None


def _sdk_events(data: Any) -> Any:
    """Meta's own Business SDK types the form parameter ``data`` as ``list<string>``: each event
    is a JSON object encoded as a string inside the JSON array (``EventRequest.normalize``). Graph
    accepts that form, so such elements are decoded; an element that is not a JSON object stays
    as it was and fails ``check_event``."""
    if type(data) is not list:
        return data
    out: list[Any] = []
    for element in data:
        if type(element) is str:
            try:
                decoded = orjson.loads(element)
            except orjson.JSONDecodeError:
                decoded = element
            element = decoded if type(decoded) is dict else element
        out.append(element)
    return out


def _event_key(event: dict[str, Any], now_ms: int, index: int) -> str:
    """Recording key: the event_id; events without one cannot be deduplicated, so each is unique."""
    event_id = event.get("event_id")
    if event_id is not None:
        return str(event_id)
    return f"~noid:{event.get('event_name')}:{now_ms}:{index}:{id(event)}"


PLATFORM = Platform(slug="meta", endpoints=(MetaEvents(),), description="Meta Conversions API (Graph)")
