"""Identity keys: what a capture is stored under and what an event is looked up by."""

from __future__ import annotations

import hashlib

import pytest

from consumer.enrich.capture import prepare_capture
from consumer.enrich.model import (
    DEFAULT_KEY_ORDER,
    StoredCapture,
    email_sha256,
    identity_keys_for_capture,
    identity_keys_for_event,
    validate_key_order,
)
from tests.enrich.conftest import capture, purchase


def test_capture_keys_strongest_first_and_hash_lowercased() -> None:
    record = capture("c", 1, {}, session_id=" s1 ", email_sha256="AB" * 32, external_id="u1", lead_id="")
    assert identity_keys_for_capture(record) == [
        "external_id:u1",
        "session_id:s1",
        "email_sha256:" + "ab" * 32,
    ]


def test_event_keys_follow_order_and_hash_raw_email() -> None:
    event = purchase("e", 1, external_id="u1", anonymous_id="a1", session_id="s1", email=" Mary@Example.com ")
    event["lead_id"] = "L1"
    mail = hashlib.sha256(b"mary@example.com").hexdigest()
    assert identity_keys_for_event(event, DEFAULT_KEY_ORDER) == [
        "external_id:u1",
        "lead_id:L1",
        "anonymous_id:a1",
        "session_id:s1",
        "email_sha256:" + mail,
    ]
    assert identity_keys_for_event(event, ["email_sha256", "anonymous_id"]) == [
        "email_sha256:" + mail,
        "anonymous_id:a1",
    ]


def test_event_email_already_hashed_passes_through() -> None:
    hashed = "C" * 64
    assert email_sha256(hashed) == "c" * 64
    event = purchase("e", 1, email=hashed)
    assert identity_keys_for_event(event) == ["email_sha256:" + "c" * 64]


def test_event_without_identifiers_has_no_keys() -> None:
    assert identity_keys_for_event({"user": None}) == []
    assert identity_keys_for_event(purchase("e", 1, external_id="  ")) == []


def test_key_order_validation() -> None:
    with pytest.raises(ValueError, match="unknown"):
        validate_key_order(["external_id", "phone"])
    with pytest.raises(ValueError, match="repeated"):
        validate_key_order(["external_id", "external_id"])


def test_stored_capture_round_trip_and_order() -> None:
    a = StoredCapture("a", 10, {"gclid": "G"}, "external_id:u")
    assert StoredCapture.from_json_obj(a.to_json_obj()) == a
    assert StoredCapture("b", 10).is_newer_than(a) and StoredCapture("a", 11).is_newer_than(a)
    assert not a.is_newer_than(a)


def test_prepare_capture_keeps_only_click_ids_and_builds_fbc() -> None:
    record = capture(
        "c",
        1_700_000_000_000,
        {"fbclid": "AbC", "fbp": "not-a-cookie", "gclid": "G", "ttclid": None, "epik": ""},
        anonymous_id="a1",
        cookie_domain="www.example.com",
    )
    result = prepare_capture(record)
    assert result is not None
    keys, stored = result
    assert keys == ["anonymous_id:a1"]
    assert stored == StoredCapture(
        "c",
        1_700_000_000_000,
        {"fbclid": "AbC", "fbc": "fb.2.1700000000000.AbC", "gclid": "G"},
        "anonymous_id:a1",
    )


def test_prepare_capture_skips_useless_records() -> None:
    assert prepare_capture(capture("c", 1, {"gclid": "G"})) is None  # no identity key
    assert prepare_capture(capture("c", 1, {}, external_id="u")) is None  # no click id
