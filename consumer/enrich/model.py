"""Identity keys and the stored form of a click-ID capture.

A landing-page hit (``ClickIdCapture``) and a later business event meet only through identity
keys: strings ``"<kind>:<value>"`` that both sides can derive independently. The capture is
stored once under each of its keys; the event looks up all of its keys and picks one capture.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

IDENTITY_KINDS: tuple[str, ...] = ("external_id", "lead_id", "anonymous_id", "session_id", "email_sha256")
"""Every identity kind, strongest first; also the default lookup priority."""

DEFAULT_KEY_ORDER: tuple[str, ...] = IDENTITY_KINDS

CLICK_ID_KINDS: tuple[str, ...] = (
    "fbclid",
    "fbc",
    "fbp",
    "gclid",
    "gbraid",
    "wbraid",
    "ttclid",
    "ttp",
    "li_fat_id",
    "sc_click_id",
    "sc_cookie1",
    "epik",
    "rdt_cid",
    "rdt_uuid",
    "msclkid",
)
"""The fields of the ``ClickIds`` record, i.e. what enrichment can fill."""

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


def validate_key_order(order: Sequence[str]) -> tuple[str, ...]:
    """Reject unknown or repeated kinds early, so a typo in settings fails at start, not silently."""
    unknown = [k for k in order if k not in IDENTITY_KINDS]
    if unknown:
        raise ValueError(f"unknown identity kind(s) {unknown}; known: {list(IDENTITY_KINDS)}")
    if len(set(order)) != len(order):
        raise ValueError(f"identity kinds repeated in key order {list(order)}")
    return tuple(order)


def make_key(kind: str, value: str) -> str:
    """Build one identity key; the single place that fixes the ``kind:value`` spelling."""
    return f"{kind}:{value}"


def email_sha256(email: str) -> str:
    """Hash an email for use as an identity key (pass 64-hex through, lower-cased).

    The landing page only ever publishes the hash, so the event's raw email must be turned into
    the same hash: SHA-256 of the trimmed, lower-cased address.
    """
    value = email.strip()
    if _HEX64.match(value):
        return value.lower()
    return hashlib.sha256(value.lower().encode("utf-8")).hexdigest()


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _capture_values(capture: Mapping[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for kind in IDENTITY_KINDS:
        value = _clean(capture.get(kind))
        if value is None:
            continue
        values[kind] = value.lower() if kind == "email_sha256" else value
    return values


def identity_keys_for_capture(capture: Mapping[str, Any]) -> list[str]:
    """All identity keys a capture is stored under, strongest first."""
    return [make_key(kind, value) for kind, value in _capture_values(capture).items()]


def identity_keys_for_event(event: Mapping[str, Any], order: Sequence[str] = DEFAULT_KEY_ORDER) -> list[str]:
    """The keys to look an event up by, in the configured priority order.

    Kinds missing from ``order`` are not used at all (a deployment may distrust session ids).
    """
    user = event.get("user") or {}
    values: dict[str, str | None] = {
        "external_id": _clean(user.get("external_id")),
        "lead_id": _clean(event.get("lead_id")),
        "anonymous_id": _clean(user.get("anonymous_id")),
        "session_id": _clean(user.get("session_id")),
        "email_sha256": None,
    }
    email = _clean(user.get("email"))
    if email is not None:
        values["email_sha256"] = email_sha256(email)
    keys: list[str] = []
    for kind in order:
        value = values.get(kind)
        if value is not None:
            keys.append(make_key(kind, value))
    return keys


@dataclass(frozen=True, slots=True)
class StoredCapture:
    """What the store keeps of one capture: only what enrichment needs, no IP/UA or URLs.

    ``click_ids`` holds only non-null ids, with ``fbc`` already built at capture time.
    ``visitor_key`` is the capture's own strongest identity key; it tells two visitors apart in
    tests and traces without exposing more than the key itself.
    """

    capture_id: str
    capture_time_ms: int
    click_ids: dict[str, str] = field(default_factory=dict)
    visitor_key: str = ""

    def is_newer_than(self, other: StoredCapture) -> bool:
        """The "newer wins" order used by every backend: capture time, then capture id.

        Breaking ties on the id makes the outcome independent of the order captures are applied
        in, so a replay of the compacted topic converges to the same state.
        """
        return (self.capture_time_ms, self.capture_id) > (other.capture_time_ms, other.capture_id)

    def to_json_obj(self) -> dict[str, Any]:
        """Compact serialisable form shared by the SQLite and Redis backends."""
        return {"id": self.capture_id, "t": self.capture_time_ms, "c": self.click_ids, "v": self.visitor_key}

    @classmethod
    def from_json_obj(cls, obj: Mapping[str, Any]) -> StoredCapture:
        """Inverse of :meth:`to_json_obj`."""
        return cls(
            capture_id=str(obj["id"]),
            capture_time_ms=int(obj["t"]),
            click_ids={str(k): str(v) for k, v in (obj.get("c") or {}).items()},
            visitor_key=str(obj.get("v") or ""),
        )
