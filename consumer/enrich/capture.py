"""Turn a decoded ``ClickIdCapture`` into what the store keeps.

This is the one function the capture ingester calls per record; keeping it pure (no I/O) makes
the capture path testable without Kafka and keeps fbc building in exactly one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from consumer.enrich.fbc import capture_fbc, capture_fbclid, is_valid_fbp
from consumer.enrich.model import CLICK_ID_KINDS, StoredCapture, identity_keys_for_capture


def prepare_capture(capture: Mapping[str, Any]) -> tuple[list[str], StoredCapture] | None:
    """Identity keys and stored form of one capture, or ``None`` if there is nothing to store.

    Nothing is stored when the capture has no identity key (no later event could find it) or
    no click ID at all (an organic visit must not shadow an earlier ad click of the same
    visitor, because the newest capture per key wins as a whole).
    """
    keys = identity_keys_for_capture(capture)
    if not keys:
        return None
    raw = capture.get("click_ids") or {}
    click_ids: dict[str, str] = {}
    for kind in CLICK_ID_KINDS:
        value = raw.get(kind)
        if isinstance(value, str) and value:
            click_ids[kind] = value
    fbclid = capture_fbclid(capture)
    if fbclid is not None:
        click_ids["fbclid"] = fbclid
    fbc = capture_fbc(capture)
    if fbc is None:
        click_ids.pop("fbc", None)  # an invalid cookie is dropped, never forwarded
    else:
        click_ids["fbc"] = fbc
    if "fbp" in click_ids and not is_valid_fbp(click_ids["fbp"]):
        del click_ids["fbp"]
    if not click_ids:
        return None
    stored = StoredCapture(
        capture_id=str(capture["capture_id"]),
        capture_time_ms=int(capture["capture_time"]),
        click_ids=click_ids,
        visitor_key=keys[0],
    )
    return keys, stored
