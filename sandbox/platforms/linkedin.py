"""LinkedIn Conversions API stand-in: `POST /linkedin/rest/conversionEvents`.

Written from the reference (§1): Bearer token; `LinkedIn-Version: YYYYMM` (missing -> 400, a
version more than 12 months old or from the future -> 426) and `X-Restli-Protocol-Version:
2.0.0` required. With `X-RestLi-Method: BATCH_CREATE` the body is `{"elements": [...]}` (at
most 5,000) and success is HTTP 200 `{"elements": [{"status": 201}, ...]}`; without it the body
is one element and success is HTTP 201. One invalid element fails the whole batch with HTTP 422
and `Index: N, ERROR :: /path :: message` lines; nothing is recorded.

Per element: `conversion` = `urn:lla:llaPartnerConversion:{id}`, `conversionHappenedAt` epoch
**milliseconds** within 90 days (and at most 5 min ahead), `conversionValue` with
`currencyCode` and a decimal-string `amount`, `user.userIds[]` with a known `idType`
(`SHA256_EMAIL` 64-lowercase-hex, the others plain), `userInfo` with both names in plain text,
at most one plain `externalIds` value, and an identity: a userId, or userInfo with both names
(LinkedIn's own rule as reported; Segment and RudderStack insist on a userId).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from sandbox.checks import hash_problem, is_currency, is_int, is_nonempty_str, looks_hashed
from sandbox.platform import Endpoint, Platform, RequestContext, json_response

MAX_ELEMENTS = 5000
MAX_AGE_MS = 90 * 86_400_000
MAX_FUTURE_MS = 5 * 60_000
_URN = re.compile(r"urn:lla:llaPartnerConversion:\d+")
_VERSION = re.compile(r"(\d{4})(\d{2})")
_AMOUNT = re.compile(r"-?\d+(?:\.\d+)?")
ID_TYPES = frozenset(
    {"SHA256_EMAIL", "LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID", "ACXIOM_ID", "ORACLE_MOAT_ID"}
)


def li_error(status: int, code: str, message: str, service_code: int | None = None) -> web.Response:
    """LinkedIn's error body `{status, serviceErrorCode?, code, message}`."""
    body: dict[str, Any] = {"status": status}
    if service_code is not None:
        body["serviceErrorCode"] = service_code
    body.update(code=code, message=message)
    return json_response(body, status)


def _months(yyyymm: str) -> int | None:
    match = _VERSION.fullmatch(yyyymm)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        return None
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


class LinkedInConversionEvents(Endpoint):
    """The conversion events endpoint (single create and BATCH_CREATE)."""

    path = "/rest/conversionEvents"

    def authenticate(self, request: web.Request, ctx: RequestContext) -> web.Response | None:
        """Bearer member token; anything else is 401 INVALID_ACCESS_TOKEN (65600)."""
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and auth[7:].strip() in ctx.tokens:
            return None
        return li_error(401, "INVALID_ACCESS_TOKEN", "Invalid access token", 65600)

    async def handle(self, request: web.Request, ctx: RequestContext) -> web.Response:
        """Check the headers, then every element; all or nothing."""
        denied = self._check_headers(request, ctx.now_ms)
        if denied is not None:
            ctx.reject_request(0)
            return denied
        batch = request.headers.get("X-RestLi-Method", "").upper() == "BATCH_CREATE"
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            ctx.reject_request(0)
            return li_error(400, "BAD_REQUEST", "Request body is not valid JSON")
        if batch:
            elements = body.get("elements") if type(body) is dict else None
            if type(elements) is not list or not elements:
                ctx.reject_request(0)
                return li_error(400, "BAD_REQUEST", "elements must be a non-empty array")
            if len(elements) > MAX_ELEMENTS:
                ctx.reject_request(len(elements))
                return li_error(400, "BAD_REQUEST", f"at most {MAX_ELEMENTS} elements per batch")
        else:
            elements = [body]
        n = len(elements)
        lines = []
        for i, element in enumerate(elements):
            problem = _check_element(element, ctx.now_ms)
            if problem is not None:
                lines.append(f"Index: {i}, ERROR :: {problem[0]} :: {problem[1]}\n")
        keys = [_key(e, ctx.now_ms, i) for i, e in enumerate(elements)]
        if not lines and ctx.settings.reject_event_rate:
            lines = [
                f"Index: {i}, ERROR :: /eventId :: event rejected\n"
                for i, k in enumerate(keys)
                if ctx.fault_rejects(k)
            ]
        if lines:
            ctx.reject_request(n)
            return li_error(422, "UNPROCESSABLE_ENTITY", "".join(lines))
        for element, key in zip(elements, keys, strict=True):
            ctx.accept(key, element["conversionHappenedAt"])
        if not batch:
            return web.Response(status=201, headers={"x-restli-id": keys[0]})
        return json_response({"elements": [{"status": 201} for _ in elements]})

    @staticmethod
    def _check_headers(request: web.Request, now_ms: int) -> web.Response | None:
        version = request.headers.get("LinkedIn-Version", "")
        if not version:
            return li_error(
                400,
                "VERSION_MISSING",
                "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
            )
        months = _months(version)
        now = datetime.fromtimestamp(now_ms / 1000, UTC)
        current = now.year * 12 + now.month - 1
        if months is None or months > current or current - months > 12:
            return li_error(426, "NONEXISTENT_VERSION", f"Requested version {version} is not active")
        if request.headers.get("X-Restli-Protocol-Version") != "2.0.0":
            return li_error(400, "BAD_REQUEST", "X-Restli-Protocol-Version: 2.0.0 is required")
        return None

    def server_error(self, status: int) -> web.Response:
        """LinkedIn error body with the requested 5xx status."""
        return li_error(status, "INTERNAL_SERVER_ERROR", "Internal Server Error")

    def throttled(self, retry_after_s: int) -> web.Response:
        """HTTP 429 without Retry-After: LinkedIn sends no rate-limit headers."""
        return li_error(429, "TOO_MANY_REQUESTS", "Resource level throttle limit reached")


def _check_element(element: Any, now_ms: int) -> tuple[str, str] | None:
    """(json path, message) of the first problem of one element, or None."""
    if type(element) is not dict:
        return "/", "element must be an object"
    if not (type(element.get("conversion")) is str and _URN.fullmatch(element["conversion"])):
        return "/conversion", "field is required and must be urn:lla:llaPartnerConversion:{id}"
    at: Any = element.get("conversionHappenedAt")
    if not is_int(at) or at < 10**12:
        return "/conversionHappenedAt", "field is required, epoch milliseconds"
    if now_ms - at > MAX_AGE_MS:
        return "/conversionHappenedAt", "conversion must have happened within the last 90 days"
    if at - now_ms > MAX_FUTURE_MS:
        return "/conversionHappenedAt", "conversion time is in the future"
    value = element.get("conversionValue")
    if value is not None:
        if type(value) is not dict or not is_currency(value.get("currencyCode")):
            return "/conversionValue/currencyCode", "field is required (ISO 4217)"
        amount = value.get("amount")
        if type(amount) is not str or _AMOUNT.fullmatch(amount) is None:
            return "/conversionValue/amount", "field is required, a decimal string"
    if "eventId" in element and not is_nonempty_str(element["eventId"]):
        return "/eventId", "must be a non-empty string"
    return _check_user(element.get("user"))


def _check_user(user: Any) -> tuple[str, str] | None:
    if type(user) is not dict:
        return "/user", "field is required"
    ids = user.get("userIds")
    if type(ids) is not list:
        return "/user/userIds", "field is required"
    for j, entry in enumerate(ids):
        where = f"/user/userIds/{j}"
        if type(entry) is not dict or entry.get("idType") not in ID_TYPES:
            return f"{where}/idType", f"must be one of {sorted(ID_TYPES)}"
        id_value = entry.get("idValue")
        if entry["idType"] == "SHA256_EMAIL":
            why = hash_problem(id_value)
            if why is not None:
                return f"{where}/idValue", f"must be SHA-256 hashed ({why})"
        elif not is_nonempty_str(id_value) or looks_hashed(id_value):
            return f"{where}/idValue", "must be the plain identifier"
    info = user.get("userInfo")
    if info is not None:
        if type(info) is not dict:
            return "/user/userInfo", "must be an object"
        for key in ("firstName", "lastName"):
            if not is_nonempty_str(info.get(key)) or looks_hashed(info[key]):
                return f"/user/userInfo/{key}", "field is required in plain text"
        country = info.get("countryCode")
        if country is not None and not (type(country) is str and len(country) == 2 and country.isalpha()):
            return "/user/userInfo/countryCode", "must be ISO 3166-1 alpha-2"
    external = user.get("externalIds")
    if external is not None:
        if type(external) is not list or len(external) > 1:
            return "/user/externalIds", "at most 1 value allowed"
        if external and (not is_nonempty_str(external[0]) or looks_hashed(external[0])):
            return "/user/externalIds/0", "must be the plain advertiser id"
    if not ids and info is None:
        return "/user/userIds", "at least one user id (or userInfo with firstName and lastName) is required"
    return None


def _key(element: Any, now_ms: int, index: int) -> str:
    """Recording key: eventId; elements without one are each unique."""
    if type(element) is dict and element.get("eventId"):
        return str(element["eventId"])
    return f"~noid:{now_ms}:{index}:{id(element)}"


PLATFORM = Platform(
    slug="linkedin", endpoints=(LinkedInConversionEvents(),), description="LinkedIn Conversions API"
)
