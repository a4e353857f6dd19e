"""Google Ads API stand-in: `POST /google/v{N}/customers/{cid}:uploadClickConversions`.

Request-level problems (auth, JSON, `partialFailure` not true, too many rows) fail the
request; row problems come back in `partialFailureError` of an HTTP 200 with an empty
`results[i]`, exactly as reference §2.8 describes. `validateOnly` validates and records nothing.
"""

from __future__ import annotations

import itertools
from typing import Any

import orjson
from aiohttp import web

from sandbox.platform import RequestContext, json_response
from sandbox.platforms.google.ads_rules import (
    CONVERSION_FIELDS,
    IDENTIFIER_FIELDS,
    MAX_CONVERSIONS,
    REQUEST_FIELDS,
    RowResult,
    check_conversion,
)
from sandbox.platforms.google.errors import (
    GoogleFaults,
    ads_error,
    ads_failure,
    bearer_token,
    google_error,
    unknown_field_error,
)

_job_ids = itertools.count(1_000_001)
_RESULT_FIELDS = ("gclid", "gbraid", "wbraid", "conversionAction", "conversionDateTime", "userIdentifiers")


class GoogleAdsUpload(GoogleFaults):
    """ConversionUploadService.UploadClickConversions over REST."""

    path = "/{version:v\\d+}/customers/{customer_id:\\d+}:uploadClickConversions"

    def authenticate(self, request: web.Request, ctx: RequestContext) -> web.Response | None:
        """Bearer OAuth token plus `developer-token`; `login-customer-id` digits when present."""
        version = request.match_info["version"]
        token = bearer_token(request)
        if token is None or token not in ctx.tokens:
            code = "OAUTH_TOKEN_HEADER_INVALID" if token is None else "OAUTH_TOKEN_INVALID"
            return _ads_request_error(
                401,
                version,
                "Request is missing required authentication credential or it is invalid.",
                [ads_error("authenticationError", code, "Authentication of the request failed.")],
            )
        dev = request.headers.get("developer-token")
        if dev is None or dev not in ctx.developer_tokens:
            return _ads_request_error(
                401,
                version,
                "The developer token is not valid.",
                [
                    ads_error(
                        "authenticationError", "DEVELOPER_TOKEN_INVALID", "The developer token is not valid."
                    )
                ],
            )
        login = request.headers.get("login-customer-id")
        if login is not None and not (login.isdigit() and len(login) == 10):
            return _ads_request_error(
                400,
                version,
                "Request contains an invalid argument.",
                [
                    ads_error(
                        "authenticationError",
                        "CLIENT_CUSTOMER_ID_INVALID",
                        "login-customer-id must be 10 digits without hyphens.",
                    )
                ],
            )
        return None

    async def handle(self, request: web.Request, ctx: RequestContext) -> web.Response:
        """Validate the envelope, then every row; record accepted rows unless validateOnly."""
        version = request.match_info["version"]
        customer_id = request.match_info["customer_id"]
        if len(customer_id) != 10:
            ctx.reject_request(0)
            return _ads_request_error(
                400,
                version,
                "Request contains an invalid argument.",
                [ads_error("requestError", "INVALID_CUSTOMER_ID", "Invalid customer ID.")],
            )
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            ctx.reject_request(0)
            return google_error(400, "Invalid JSON payload received.")
        if type(body) is not dict:
            ctx.reject_request(0)
            return google_error(400, "Invalid JSON payload received. Expected an object.")
        problem = _check_envelope(body, version)
        if problem is not None:
            ctx.reject_request(len(body["conversions"]) if type(body.get("conversions")) is list else 0)
            return problem
        return self._process(body, version, ctx)

    def _process(self, body: dict[str, Any], version: str, ctx: RequestContext) -> web.Response:
        conversions: list[Any] = body["conversions"]
        validate_only = bool(body.get("validateOnly", body.get("validate_only", False)))
        now_s = ctx.now_s
        errors: list[dict[str, Any]] = []
        results: list[dict[str, Any]] = []
        keys_in_request: set[str] = set()
        for i, conv in enumerate(conversions):
            row = check_conversion(conv, i, now_s)
            if row.error is None:
                row = _dedupe(row, i, keys_in_request, ctx, validate_only)
            if row.error is not None:
                errors.append(row.error)
                results.append({})
                continue
            if not validate_only:
                ctx.accept(row.key, row.event_time_ms)
            results.append({k: conv[k] for k in _RESULT_FIELDS if k in conv})
        if errors and not validate_only:
            ctx.reject_rows(len(errors))
        out: dict[str, Any] = {}
        if errors:
            first = errors[0]["message"]
            out["partialFailureError"] = {
                "code": 3,
                "message": f"{first}, at conversions[{_row_of(errors[0])}]"
                + (f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""),
                "details": [ads_failure(version, errors)],
            }
        if validate_only:
            return json_response(out)
        out["results"] = results
        job = body.get("jobId", body.get("job_id"))
        out["jobId"] = str(job if job is not None else next(_job_ids))
        return json_response(out)


def _dedupe(
    row: RowResult, i: int, seen_here: set[str], ctx: RequestContext, validate_only: bool
) -> RowResult:
    """In-request duplicates, the reject fault and (opt-in) "already exists" answers."""
    if row.key in seen_here:
        code = "DUPLICATE_ORDER_ID" if row.has_order_id else "DUPLICATE_CLICK_CONVERSION_IN_REQUEST"
        return RowResult(
            ads_error(
                "conversionUploadError",
                code,
                "The request contains this conversion more than once.",
                [("conversions", i)],
            )
        )
    seen_here.add(row.key)
    if validate_only:
        return row
    too_recent_ms = ctx.settings.too_recent_s * 1000
    if too_recent_ms and ctx.now_ms - ctx.recorder.first_offered_ms(row.key, ctx.now_ms) < too_recent_ms:
        ctx.recorder.note_fault("too_recent")
        return RowResult(
            ads_error(
                "conversionUploadError",
                "TOO_RECENT_EVENT",
                "The click associated with the given identifier or iOS URL parameter occurred less "
                "than 6 hours ago, please retry after 6 hours have passed (sandbox too_recent fault).",
                [("conversions", i)],
            )
        )
    if ctx.settings.reject_event_rate and ctx.fault_rejects(row.key):
        return RowResult(
            ads_error(
                "conversionUploadError",
                "EXPIRED_EVENT",
                "The click occurred before this conversion action's click-through window "
                "(sandbox reject_event fault).",
                [("conversions", i)],
            )
        )
    if ctx.settings.duplicate_answers and ctx.recorder.seen(row.key):
        ctx.recorder.note_repeat(row.key)
        code = "ORDER_ID_ALREADY_IN_USE" if row.has_order_id else "CLICK_CONVERSION_ALREADY_EXISTS"
        return RowResult(
            ads_error(
                "conversionUploadError",
                code,
                "A conversion with this identity was already uploaded.",
                [("conversions", i)],
            )
        )
    return row


def _row_of(error: dict[str, Any]) -> int:
    return int(error["location"]["fieldPathElements"][0].get("index", 0))


def _check_envelope(body: dict[str, Any], version: str) -> web.Response | None:
    """Unknown fields, partialFailure == true, 1..2000 rows, valid jobId."""
    for name in body:
        if name not in REQUEST_FIELDS:
            return unknown_field_error(name, "")
    conversions = body.get("conversions")
    if type(conversions) is not list:
        return _ads_request_error(
            400,
            version,
            "Request contains an invalid argument.",
            [ads_error("fieldError", "REQUIRED", "conversions is required.", [("conversions", None)])],
        )
    for i, conv in enumerate(conversions):
        if type(conv) is dict and not conv.keys() <= CONVERSION_FIELDS:
            name = next(k for k in conv if k not in CONVERSION_FIELDS)
            return unknown_field_error(name, f"conversions[{i}]")
        ids = conv.get("userIdentifiers") if type(conv) is dict else None
        if type(ids) is list:
            for j, entry in enumerate(ids):
                if type(entry) is dict and not entry.keys() <= IDENTIFIER_FIELDS:
                    name = next(k for k in entry if k not in IDENTIFIER_FIELDS)
                    return unknown_field_error(name, f"conversions[{i}].user_identifiers[{j}]")
    if body.get("partialFailure", body.get("partial_failure")) is not True:
        return _ads_request_error(
            400,
            version,
            "Request contains an invalid argument.",
            [
                ads_error(
                    "partialFailureError",
                    "PARTIAL_FAILURE_MODE_REQUIRED",
                    "The partial failure field was false in the request. This method requires that "
                    "field be set to true.",
                )
            ],
        )
    if not conversions:
        return _ads_request_error(
            400,
            version,
            "Request contains an invalid argument.",
            [
                ads_error(
                    "fieldError",
                    "REQUIRED_NONEMPTY_LIST",
                    "conversions must not be empty.",
                    [("conversions", None)],
                )
            ],
        )
    if len(conversions) > MAX_CONVERSIONS:
        return _ads_request_error(
            400,
            version,
            "Request contains an invalid argument.",
            [
                ads_error(
                    "conversionUploadError",
                    "TOO_MANY_CONVERSIONS_IN_REQUEST",
                    f"The request contains more than {MAX_CONVERSIONS} conversions.",
                )
            ],
        )
    job = body.get("jobId", body.get("job_id"))
    if job is not None and not (type(job) is int and 0 <= job < 2**31):
        return _ads_request_error(
            400,
            version,
            "Request contains an invalid argument.",
            [ads_error("conversionUploadError", "INVALID_JOB_ID", "The job ID must be in [0, 2^31).")],
        )
    return None


def _ads_request_error(status: int, version: str, message: str, errors: list[dict[str, Any]]) -> web.Response:
    """A request-level Google Ads error: google.rpc.Status with a GoogleAdsFailure detail."""
    return google_error(status, message, [ads_failure(version, errors)])
