"""``capi-relay preview``: show the exact request a platform would receive for one event.

Runs the same connector code as the engine (completion with schema defaults, ``map_event``,
``build_request``) but never sends anything and never shows a secret: tokens in the URL query
and in auth headers are replaced by ``<redacted>``. Useful to check a producer's event, a
settings block, or an event-name mapping before going live.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from connectors.base import ConnectorSettings, Credentials, HttpRequest, Reject
from connectors.registry import connector_class
from consumer.contract import ContractError, complete_event

REDACTED = "<redacted>"
_SECRET_WORDS = ("token", "secret", "password", "proof", "api-key", "api_key", "apikey", "authorization")


class InvalidEventError(ValueError):
    """The event does not fit the contract, or the platform's connector refused it; the message
    says why in one sentence (the reject code is in ``code``)."""

    def __init__(self, message: str, code: str = "invalid_event") -> None:
        super().__init__(message)
        self.code = code


def _is_secret(name: str) -> bool:
    """Whether a query parameter or header name looks like it carries a credential."""
    lowered = name.lower()
    return lowered == "key" or any(word in lowered for word in _SECRET_WORDS)


def placeholder_settings(model: type[ConnectorSettings]) -> dict[str, str]:
    """A value for every required settings field, named after it (``pixel_id`` -> ``PIXEL_ID``),
    so a connector can be built without real account ids."""
    return {
        name: name.upper() for name, field in model.model_fields.items() if field.is_required()
    }


def redact_url(url: str) -> str:
    """``url`` with the values of secret-looking query parameters replaced by ``<redacted>``."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [(k, REDACTED if _is_secret(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    query = urlencode(pairs, safe="<>")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with credentials (Authorization, Access-Token, developer-token, …) redacted."""
    return {k: REDACTED if _is_secret(k) else v for k, v in headers.items()}


def decode_body(request: HttpRequest) -> Any:
    """The body as data: parsed JSON, or form fields with JSON values parsed, or text."""
    content_type = next((v for k, v in request.headers.items() if k.lower() == "content-type"), "")
    text = request.body.decode("utf-8", errors="replace")
    if "x-www-form-urlencoded" in content_type:
        fields: dict[str, Any] = {}
        for key, value in parse_qsl(text, keep_blank_values=True):
            try:
                fields[key] = REDACTED if _is_secret(key) else json.loads(value)
            except ValueError:
                fields[key] = value
        return fields
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def preview_request(
    platform: str,
    event: dict[str, Any],
    settings: dict[str, Any] | None = None,
    now_ms: int | None = None,
) -> dict[str, Any]:
    """The request ``platform`` would receive for ``event``: ``{"method", "url", "headers",
    "body"}`` with secrets redacted.

    ``event`` may be partial (missing optional fields get schema defaults; it needs ``type``).
    ``settings`` is the platform's settings block; required ids it lacks get placeholders such
    as ``PIXEL_ID``. Raises InvalidEventError for a malformed or refused event, UnknownPlatformError
    for an unknown platform, and pydantic's ValidationError for bad settings.
    """
    cls = connector_class(platform)
    model: type[ConnectorSettings] = cls.settings_model
    merged = {**placeholder_settings(model), **(settings or {})}
    connector = cls(model.model_validate(merged))
    try:
        completed = complete_event(dict(event))
    except ContractError as exc:
        raise InvalidEventError(str(exc)) from None
    now = int(time.time() * 1000) if now_ms is None else now_ms
    result = connector.map_event(completed, now)
    if isinstance(result, Reject):
        raise InvalidEventError(f"{platform} refuses this event: {result.reason}", code=result.code)
    request: HttpRequest = connector.build_request([result], Credentials(access_token=REDACTED))
    return {
        "method": request.method,
        "url": redact_url(request.url),
        "headers": redact_headers(request.headers),
        "body": decode_body(request),
    }
