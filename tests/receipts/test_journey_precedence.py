"""Which receipt tells a platform's fate in `trace`: a delivery wins (a replay that delivered
what had been dead-lettered included), a sent delivery beats a ledger skip, and among failures
the latest receipt wins; replay receipts say which dead letter they replayed."""

from __future__ import annotations

from typing import Any

from consumer.receipts.journey import Journey, final_receipt, replay_label

T0 = 1_700_000_000_000


def receipt(
    outcome: str, at: int, *, stage: str = "deliver", replay_of: Any = None, **kw: Any
) -> dict[str, Any]:
    """A receipt of ORD-1 on meta written ``at`` seconds after T0."""
    base: dict[str, Any] = {
        "event_id": "ORD-1",
        "event_type": "purchase",
        "platform": "meta",
        "outcome": outcome,
        "stage": stage,
        "attempts": 1,
        "source_topic": "events.purchase",
        "source_partition": 0,
        "source_offset": 5,
        "receipt_time_ms": T0 + at * 1000,
        "dlq_topic": None,
        "dlq_partition": None,
        "dlq_offset": None,
        "replay_of": replay_of,
    }
    if outcome != "delivered":
        base.update(dlq_topic="capi.dlq", dlq_partition=0, dlq_offset=kw.pop("dlq_offset", 17))
    return base | kw


OF_17 = {"topic": "capi.dlq", "partition": 0, "offset": 17, "replay": 1}
OF_40 = {"topic": "capi.dlq", "partition": 0, "offset": 40, "replay": 2}


def test_a_replay_that_delivered_wins_over_the_dead_letter() -> None:
    history = [receipt("exhausted", 0), receipt("delivered", 60, replay_of=OF_17)]
    assert final_receipt(history) is history[1]
    # receipts out of order (another partition, a clock skew) do not change that
    assert final_receipt(history[::-1]) is history[1]


def test_delivered_wins_even_when_an_older_failure_is_later() -> None:
    history = [receipt("delivered", 50), receipt("exhausted", 60, replay_of=OF_17, dlq_offset=40)]
    assert final_receipt(history)["outcome"] == "delivered"


def test_among_failures_the_latest_receipt_wins() -> None:
    first = receipt("exhausted", 0)
    again = receipt("auth", 60, replay_of=OF_17, dlq_offset=40)
    third = receipt("rejected", 120, replay_of=OF_40, dlq_offset=41)
    assert final_receipt([first, third, again]) is third
    assert final_receipt([again, first]) is again


def test_a_sent_delivery_beats_a_ledger_skip_and_the_later_of_equals_wins() -> None:
    sent = receipt("delivered", 0)
    skip = receipt("delivered", 60, stage="ledger", replay_of=OF_17)
    assert final_receipt([skip, sent]) is sent
    replayed = receipt("delivered", 90, replay_of=OF_17)
    assert final_receipt([sent, replayed, skip]) is replayed
    tie_a, tie_b = receipt("exhausted", 5), receipt("rejected", 5)
    assert final_receipt([tie_a, tie_b]) is tie_b  # same time: the receipts' order decides


def test_trace_shows_the_replay() -> None:
    journey = Journey("ORD-1", [receipt("exhausted", 0), receipt("delivered", 60, replay_of=OF_17)])
    text = journey.render()
    assert "meta       DELIVERED (replay of capi.dlq[0]@17)" in text
    assert "2 receipts: exhausted/deliver, delivered/deliver (replay)" in text
    assert "dead-lettered" not in text  # the final fate is the delivery
    meta = journey.to_json()["platforms"]["meta"]
    assert (meta["outcome"], meta["dlq"], meta["replay_of"]) == ("delivered", None, OF_17)
    assert journey.consumed == [("events.purchase", 0, 5)]  # the replay keeps the source position


def test_a_replay_that_failed_again_points_at_the_new_dead_letter() -> None:
    journey = Journey("ORD-1", [receipt("exhausted", 0), receipt("auth", 60, replay_of=OF_17, dlq_offset=40)])
    meta = journey.to_json()["platforms"]["meta"]
    assert meta["outcome"] == "auth" and meta["dlq"] == {"topic": "capi.dlq", "partition": 0, "offset": 40}
    assert "dead-lettered capi.dlq partition 0 offset 40" in journey.render()


def test_receipts_without_the_field() -> None:
    old = receipt("exhausted", 0)
    del old["replay_of"]
    assert replay_label(old) is None
    assert Journey("ORD-1", [old]).to_json()["platforms"]["meta"]["replay_of"] is None
