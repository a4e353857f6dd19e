"""A delivered event can carry the platform's note (Google CLICK_NOT_FOUND: accepted, no click
matched): the receipt keeps it as ``reason`` and ``code`` without marking a duplicate, and it
round-trips through the receipt schema."""

from __future__ import annotations

from types import SimpleNamespace

from connectors.base import Item, ItemOutcome, OutcomeKind
from connectors.google.errors import GoogleError, row_outcome
from consumer.receipts.build import build_receipt
from consumer.receipts.codec import ReceiptCodec


def test_click_not_found_receipt_is_delivered_with_the_note() -> None:
    outcome = row_outcome(GoogleError("CLICK_NOT_FOUND", "conversionUploadError", "no click"), 21600.0)
    assert outcome.kind is OutcomeKind.DELIVERED and not outcome.duplicate
    ref = SimpleNamespace(
        event_id="LEAD-1",
        event_type="lead",
        event_time_ms=1_700_000_000_000,
        topic="events.lead",
        partition=0,
        offset=7,
        enriched=(),
        replay=None,
    )
    item = Item("LEAD-1", "lead", 1_700_000_000_000, {}, match_keys=("email",))
    unit = SimpleNamespace(item=item, attempts=1, first_attempt_ms=1, last_attempt_ms=1, last_status=200)
    receipt = build_receipt(ref, "google", "delivered", "deliver", unit=unit, result=outcome)
    assert receipt["outcome"] == "delivered" and receipt["duplicate"] is False
    assert receipt["code"] == "CLICK_NOT_FOUND"
    assert receipt["reason"].startswith("accepted, no click matched")
    codec = ReceiptCodec()
    assert codec.decode(codec.encode(receipt))["reason"] == receipt["reason"]


def test_a_plain_delivery_has_no_note() -> None:
    outcome = ItemOutcome(OutcomeKind.DELIVERED)
    ref = SimpleNamespace(
        event_id="ORD-1",
        event_type="purchase",
        event_time_ms=None,
        topic="events.purchase",
        partition=0,
        offset=1,
        enriched=(),
        replay=None,
    )
    receipt = build_receipt(ref, "meta", "delivered", "deliver", result=outcome)
    assert receipt["reason"] is None and receipt["code"] is None
