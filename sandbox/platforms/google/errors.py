"""Google API error shapes shared by the Ads API and Data Manager stand-ins.

Both follow the google.rpc.Status JSON form `{"error": {code, message, status, details}}`;
the Ads API puts a `GoogleAdsFailure` in `details`, Data Manager standard `BadRequest` /
`ErrorInfo` messages. Faults (5xx, 429, timeouts) look the same for both.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.platform import Endpoint, json_response, next_request_id

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_SERVER_MESSAGES = {
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
    504: "Deadline exceeded.",
}
_HTML_502 = (
    "<!DOCTYPE html>\n<html lang=en><meta charset=utf-8><title>Error 502 (Server Error)!!1</title>"
    "<p><b>502.</b> <ins>That's an error.</ins><p>The server encountered a temporary error and could "
    "not complete your request.<p>Please try again in 30 seconds. <ins>That's all we know.</ins></html>"
)

PathElements = list[tuple[str, int | None]]


def google_error(
    status: int,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """A google.rpc.Status error body with HTTP `status`."""
    error: dict[str, Any] = {
        "code": status,
        "message": message,
        "status": STATUS_NAMES.get(status, "UNKNOWN"),
    }
    if details:
        error["details"] = details
    return json_response({"error": error}, status, headers)


def location(path: PathElements) -> dict[str, Any]:
    """`location.fieldPathElements` for a GoogleAdsError."""
    elements: list[dict[str, Any]] = []
    for name, index in path:
        element: dict[str, Any] = {"fieldName": name}
        if index is not None:
            element["index"] = index
        elements.append(element)
    return {"fieldPathElements": elements}


def ads_error(category: str, code: str, message: str, path: PathElements | None = None) -> dict[str, Any]:
    """One GoogleAdsError, e.g. `ads_error("conversionUploadError", "EXPIRED_EVENT", ...)`."""
    error: dict[str, Any] = {"errorCode": {category: code}, "message": message}
    if path:
        error["location"] = location(path)
    return error


def ads_failure(version: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    """A GoogleAdsFailure detail of the given API version (`v22`, ...)."""
    return {
        "@type": f"type.googleapis.com/google.ads.googleads.{version}.errors.GoogleAdsFailure",
        "errors": errors,
        "requestId": next_request_id(),
    }


def bad_request(violations: list[tuple[str, str]]) -> dict[str, Any]:
    """A google.rpc.BadRequest detail listing `(field, description)` violations."""
    return {
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [{"field": f, "description": d} for f, d in violations],
    }


def unknown_field_error(name: str, where: str) -> web.Response:
    """What Google's JSON front end says about a field the proto does not have."""
    message = f"Invalid JSON payload received. Unknown name \"{name}\" at '{where}': Cannot find field."
    return google_error(400, message, [bad_request([(where or name, message)])])


class GoogleFaults(Endpoint):
    """Fault answers shared by every Google endpoint (front-end 5xx, 429 quota, deadline)."""

    def server_error(self, status: int) -> web.Response:
        """JSON Status for 500/503/504; the front end's HTML page for 502."""
        if status == 502:
            return web.Response(text=_HTML_502, status=502, content_type="text/html")
        return google_error(status, _SERVER_MESSAGES.get(status, "Internal error encountered."))

    def throttled(self, retry_after_s: int) -> web.Response:
        """HTTP 429 RESOURCE_EXHAUSTED with a Retry-After header."""
        return google_error(
            429,
            "Resource has been exhausted (e.g. check quota).",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.RetryInfo",
                    "retryDelay": f"{retry_after_s}s",
                }
            ],
            headers={"Retry-After": str(retry_after_s)},
        )

    def body_error(self, code: int) -> web.Response:
        """Google has no errors-in-200 beyond partial failure; a transient INTERNAL is closest."""
        return google_error(500, "Internal error encountered. TRANSIENT_ERROR: please retry.")


def bearer_token(request: web.Request) -> str | None:
    """The OAuth token from `Authorization: Bearer ...`, or None."""
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer "):
        return None
    return auth[7:].strip() or None


def known_fields(*camel: str) -> frozenset[str]:
    """Field names Google's JSON parser accepts: lowerCamelCase and the proto's snake_case."""
    names = set(camel)
    for name in camel:
        names.add("".join("_" + c.lower() if c.isupper() else c for c in name))
    return frozenset(names)
