"""``capi-relay preview --send``: send one event through the real connector, credentials and
endpoint, in the platform's test mode where it has one, and show what happened.

Teams going live want what Meta's Test Events tool or Segment's Event Tester give them: send one
event, see the platform's answer. This runs the relay's own code path — contract completion,
``map_event``, the credentials provider, ``build_request``, the HTTP sender and ``classify`` —
for a single event and prints the redacted request, the answer and the classified outcome.

A request that is not marked as a test is refused unless ``--live`` is given: a stray
conversion in a production pixel cannot be taken back. How each platform marks a test differs,
and is documented in its page under ``docs/platforms/``: a test event code that routes the
event to the test view (Meta ``test_event_code``, TikTok ``test_event_code``, Reddit
``test_id``), or a test mode the connector applies (Google ``validateOnly``, Snap's
``/events/validate``, Pinterest's ``?test=true``, LinkedIn's test conversion rules). Microsoft
Advertising has none, so every request to it is live.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from connectors.base import Credentials, HttpResponse, Reject
from connectors.registry import connector_class
from consumer.config import Settings
from consumer.config_errors import validation_lines
from consumer.contract import ContractError, complete_event
from consumer.delivery.credentials import CredentialsError, CredentialsProvider, CredentialsSettings
from consumer.delivery.http import HttpSender
from consumer.preview import REDACTED, InvalidEventError, decode_body, redact_headers, redact_url

Marker = tuple[Literal["code", "mode"], str]

TEST_MARKERS: dict[str, Marker] = {
    "meta": ("code", "test_event_code"),
    "tiktok": ("code", "test_event_code"),
    "reddit": ("code", "test_id"),
    "google": ("mode", "test_mode"),
    "snap": ("mode", "test_mode"),
    "pinterest": ("mode", "test_mode"),
    "linkedin": ("mode", "test_mode"),
}
"""How each platform marks a test request (a settings key); a platform absent has no test mode."""


class SendRefused(ValueError):
    """The event cannot be sent as asked; one line per problem in ``lines``."""

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


@dataclass
class SendPlan:
    """The platform's settings block for this send and whether the request is a test."""

    settings: dict[str, Any]
    test: bool


def plan(platform: str, block: dict[str, Any], test_event_code: str | None, live: bool) -> SendPlan:
    """Apply the platform's test marker (``--test-event-code``, or its test mode unless
    ``--live``), and refuse a live request without ``--live``."""
    marker = TEST_MARKERS.get(platform)
    settings = dict(block)
    if marker is None:
        if test_event_code:
            raise SendRefused(f"--test-event-code: {platform} has no test event code")
        if not live:
            raise SendRefused(
                f"{platform} has no test mode: the request would be live; add --live to send it"
            )
        return SendPlan(settings, False)
    kind, key = marker
    if kind == "code":
        if test_event_code:
            settings[key] = test_event_code
        test = bool(settings.get(key))
        if not test and not live:
            raise SendRefused(
                f"{platform}: no {key} configured, the request would be live; give --test-event-code "
                "CODE (from the platform's test events view) or --live"
            )
        return SendPlan(settings, test)
    if test_event_code:
        raise SendRefused(f"--test-event-code: {platform} has no test event code (its test mode is used)")
    if not live:
        settings[key] = True
    return SendPlan(settings, bool(settings.get(key) or settings.get("validate_only")))


async def send_event(
    settings: Settings,
    platform: str,
    event: dict[str, Any],
    *,
    test_event_code: str | None = None,
    live: bool = False,
    now_ms: int | None = None,
) -> dict[str, Any]:
    """Send ``event`` to ``platform`` as configured; the report ``{"test", "request",
    "response", "outcome"}``. Raises `SendRefused` (config, refusal) or `InvalidEventError`."""
    pcfg = settings.platforms.get(platform)
    if pcfg is None:
        raise SendRefused(
            f"platforms.{platform}: not configured (its ids and credentials are needed to send)"
        )
    cls = connector_class(platform)
    chosen = plan(platform, dict(pcfg.settings), test_event_code, live)
    if "default_phone_region" in cls.settings_model.model_fields:
        chosen.settings.setdefault("default_phone_region", settings.default_phone_region)
    try:
        connector = cls(cls.settings_model.model_validate(chosen.settings))
        creds_settings = CredentialsSettings.model_validate(pcfg.credentials)
    except ValidationError as exc:
        raise SendRefused(*validation_lines(exc, ("platforms", platform))) from None
    try:
        completed = complete_event(dict(event))
    except ContractError as exc:
        raise InvalidEventError(str(exc)) from None
    item = connector.map_event(completed, int(time.time() * 1000) if now_ms is None else now_ms)
    if isinstance(item, Reject):
        raise InvalidEventError(f"{platform} refuses this event: {item.reason}", code=item.code)
    try:
        credentials = await CredentialsProvider({platform: creds_settings}).get(platform, item.route)
    except CredentialsError as exc:
        raise SendRefused(f"platforms.{platform}.credentials: {exc}") from None
    sender = HttpSender()
    sender.configure(platform, 1, pcfg.timeout_s)
    try:
        response, seconds = await sender.send(platform, connector.build_request([item], credentials))
    finally:
        await sender.close()
    outcome = connector.classify(response, [item])[0]
    shown = connector.build_request([item], Credentials(REDACTED, {k: REDACTED for k in credentials.extra}))
    return {
        "platform": platform,
        "test": chosen.test,
        "request": {
            "method": shown.method,
            "url": redact_url(shown.url),
            "headers": redact_headers(shown.headers),
            "body": decode_body(shown),
        },
        "response": _response(response, seconds),
        "outcome": {
            "kind": outcome.kind.value,
            "code": outcome.code,
            "reason": outcome.reason,
            "duplicate": outcome.duplicate,
        },
    }


def _response(response: HttpResponse, seconds: float) -> dict[str, Any]:
    text = response.body.decode("utf-8", errors="replace")
    try:
        body: Any = json.loads(text) if text else None
    except ValueError:
        body = text
    return {"status": response.status, "error": response.error, "seconds": round(seconds, 3), "body": body}


def send_from_cli(settings: Settings, platform: str, event: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """`send_event` on a fresh event loop (the CLI is synchronous)."""
    return asyncio.run(send_event(settings, platform, event, **kwargs))
