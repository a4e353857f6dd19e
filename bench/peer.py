"""(e) The peer: what a team would run instead of capi-relay for one platform — Meta's own
Business SDK (``facebook-business``) sending the same events in batches of 1,000 with its
``EventRequest``, to the sandbox's Meta endpoint.

Why in the same run: the SDK's throughput on a shared machine moves with the machine's load as
much as the relay's does; measured minutes apart, the ratio of the two would mostly measure the
load. Timed like (c): the same pre-produced topics under its own consumer group, from the first
message consumed to the last batch answered — consume, decode, build the SDK's objects (the SDK
normalises and hashes the personal data itself, as its users rely on) and send, one request at a
time, as the SDK does. ``sdk_seconds`` is the part spent in the SDK alone (building ``Event``
objects and ``EventRequest.execute``), so its own rate can be read without Kafka.

The SDK is a benchmark-only dependency (``pip install -e '.[bench]'``); without it the phase
is skipped and says why.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer

from consumer.codec import Codec
from consumer.demo_settings import SANDBOX_TOKEN, sandbox_platform_settings

try:
    from facebook_business.adobjects.serverside.action_source import ActionSource
    from facebook_business.adobjects.serverside.content import Content
    from facebook_business.adobjects.serverside.custom_data import CustomData
    from facebook_business.adobjects.serverside.event import Event
    from facebook_business.adobjects.serverside.event_request import EventRequest
    from facebook_business.adobjects.serverside.gender import Gender
    from facebook_business.adobjects.serverside.user_data import UserData
    from facebook_business.api import FacebookAdsApi, FacebookSession
    from facebook_business.exceptions import FacebookRequestError

    SDK_MISSING: str | None = None
except ImportError as exc:  # the bench extra is not installed
    SDK_MISSING = f"the facebook-business SDK is not installed ({exc}); pip install -e '.[bench]'"

BATCH = 1000  # the Conversions API's own maximum per request
API_VERSION = "v24.0"
_NAMES = {"purchase": "Purchase", "lead": "Lead", "qualified": "QualifiedLead"}
_GENDERS = {"f": "f", "female": "f", "m": "m", "male": "m"}


@dataclass
class PeerResult:
    """Events the SDK sent (accepted), over how many seconds, and the SDK's own share of them."""

    events: int
    seconds: float
    failed: int = 0
    requests: int = 0
    sdk_seconds: float = 0.0
    first_error: str | None = None

    @property
    def eps(self) -> float:
        """Events per second, consume to answer (0 for an empty run)."""
        return self.events / self.seconds if self.seconds > 0 else 0.0

    @property
    def sdk_eps(self) -> float:
        """Events per second counting only the SDK's own time (object building and requests)."""
        return self.events / self.sdk_seconds if self.sdk_seconds > 0 else 0.0


def init_sdk(sandbox_url: str) -> str:
    """Point the SDK's default API at the sandbox and return the pixel id to send to.

    The SDK builds every Graph URL from ``FacebookSession.GRAPH`` (see ``FacebookAdsApi.call``),
    so a session whose ``GRAPH`` is the sandbox's ``/meta`` prefix sends the real requests,
    form-encoded as the SDK always does, to the local stand-in."""
    if SDK_MISSING is not None:
        raise RuntimeError(SDK_MISSING)
    settings = sandbox_platform_settings("meta", sandbox_url)
    session = FacebookSession(access_token=SANDBOX_TOKEN, timeout=60)
    session.GRAPH = settings["base_url"]
    FacebookAdsApi.set_default_api(FacebookAdsApi(session, API_VERSION))
    return str(settings["pixel_id"])


def sdk_event(event: Mapping[str, Any]) -> Event:
    """One decoded event as the SDK's ``Event``: raw personal data in, the SDK hashes it."""
    user = event["user"]
    context = event["context"]
    click_ids = event["click_ids"]
    dob = user.get("date_of_birth")
    gender = _GENDERS.get((user.get("gender") or "").strip().lower())
    user_data = UserData(
        email=user.get("email"),
        phone=user.get("phone"),
        first_name=user.get("first_name"),
        last_name=user.get("last_name"),
        date_of_birth=dob.replace("-", "") if dob else None,
        gender=Gender(gender) if gender else None,
        city=user.get("city"),
        state=user.get("state"),
        zip_code=user.get("postal_code"),
        country_code=user.get("country"),
        external_id=_sha256(user.get("external_id")),
        client_ip_address=context.get("ip_address"),
        client_user_agent=context.get("user_agent"),
        fbc=click_ids.get("fbc"),
        fbp=click_ids.get("fbp"),
    )
    custom: CustomData | None = None
    if event["type"] == "purchase":
        contents = [
            Content(product_id=item["id"], quantity=item.get("quantity", 1), item_price=item.get("price"))
            for item in event.get("items") or ()
        ]
        custom = CustomData(
            value=event["value"],
            currency=event["currency"].lower(),
            order_id=event["order_id"],
            contents=contents or None,
        )
    elif event["type"] == "qualified":
        custom = CustomData(custom_properties={"event_source": "crm", "lead_event_source": "capi-bench"})
    return Event(
        event_name=_NAMES[event["type"]],
        event_time=event["event_time"] // 1000,
        event_id=event["event_id"],
        event_source_url=context.get("page_url"),
        action_source=_action_source(event),
        user_data=user_data,
        custom_data=custom,
    )


def _action_source(event: Mapping[str, Any]) -> ActionSource:
    """As the relay's Meta mapping: CRM-qualified leads are system generated, others keep the
    event's own source (every event of the bench's pool has the fields Meta asks for)."""
    if event["type"] == "qualified":
        return ActionSource.SYSTEM_GENERATED
    return ActionSource((event["context"].get("action_source") or "OTHER").lower())


def _sha256(value: str | None) -> str | None:
    """Meta recommends hashing ``external_id``, which the SDK passes through as given (unlike
    the contact fields it hashes itself), so its users hash it; the sandbox insists on it."""
    return hashlib.sha256(value.strip().encode()).hexdigest() if value else None


def measure_peer(
    bootstrap: str,
    topics: Mapping[str, str],
    sandbox_url: str,
    max_events: int,
    max_seconds: float,
    batch: int = BATCH,
    group: str = "bench-peer",
) -> PeerResult:
    """(e) Consume and decode the same events, send them with the SDK ``batch`` at a time;
    time-boxed to ``max_seconds`` or ``max_events``, whichever comes first."""
    pixel_id = init_sdk(sandbox_url)
    codec = Codec(None, topics)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": True,
            "fetch.wait.max.ms": 100,
        }
    )
    consumer.subscribe(list(topics))
    result = PeerResult(0, 0.0)
    pending: list[dict[str, Any]] = []
    first: float | None = None
    try:
        while result.events + result.failed + len(pending) < max_events:
            if first is not None and time.monotonic() - first >= max_seconds:
                break
            for msg in consumer.consume(min(batch, max_events - result.events - len(pending)), 0.2):
                if msg.error() is not None:
                    continue
                if first is None:
                    first = time.monotonic()
                pending.append(codec.decode(msg.topic() or "", msg.value()))
            if len(pending) >= batch:
                _send(pending, pixel_id, result)
                pending = []
        if pending:
            _send(pending, pixel_id, result)
        result.seconds = time.monotonic() - (first or time.monotonic())
        return result
    finally:
        consumer.close()


def _send(events: list[dict[str, Any]], pixel_id: str, result: PeerResult) -> None:
    """One ``EventRequest`` of the given events; a refused request counts its events failed."""
    started = time.monotonic()
    try:
        response = EventRequest(pixel_id=pixel_id, events=[sdk_event(e) for e in events]).execute()
        received = int(response.events_received or 0)
    except Exception as exc:  # FacebookRequestError (the sandbox refused) or an SDK validation error
        received = 0
        result.first_error = result.first_error or _describe(exc)
    result.sdk_seconds += time.monotonic() - started
    result.requests += 1
    result.events += received
    result.failed += len(events) - received


def _describe(exc: Exception) -> str:
    """The SDK's error with the body the endpoint answered (a refused request's reason)."""
    body = exc.body() if isinstance(exc, FacebookRequestError) else None
    return f"{type(exc).__name__}: {body or exc}"[:500]
