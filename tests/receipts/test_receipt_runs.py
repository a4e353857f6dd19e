"""A request's delivered receipts joined from shared byte runs are, byte for byte, the receipts
`build_receipt` + `ReceiptCodec.encode` make one by one — for any message, unit and answer,
with the message's runs shared across its platforms and with the registry's framing."""

from __future__ import annotations

from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import Item, ItemOutcome, OutcomeKind
from consumer.delivery.dispatcher import Unit
from consumer.messages import MessageRef, PartitionRun, Replayed
from consumer.receipts.build import build_receipt
from consumer.receipts.codec import ReceiptCodec
from consumer.receipts.segments import DeliveredReceipts

NOW_S = 1_765_000_000.123

texts = st.text(max_size=12)
opt_texts = st.none() | texts
millis = st.integers(0, 4_102_444_800_000)
replays = st.none() | st.builds(
    Replayed, texts, st.integers(0, 2**31 - 1), st.integers(0, 2**63 - 1), texts, st.integers(0, 50)
)


@st.composite
def refs(draw: st.DrawFn) -> MessageRef:
    return MessageRef(
        topic=draw(texts),
        partition=draw(st.integers(0, 2**31 - 1)),
        offset=draw(st.integers(0, 2**63 - 1)),
        key=None,
        value=b"",
        headers=[],
        size=1,
        run=PartitionRun(),
        event_id=draw(opt_texts),
        event_type=draw(st.none() | st.sampled_from(["purchase", "lead", "qualified"]) | texts),
        event_time_ms=draw(st.none() | millis),
        enriched=tuple(draw(st.lists(st.sampled_from(["fbc", "gclid", "ttclid"]) | texts, max_size=3))),
        replay=draw(replays),
    )


@st.composite
def deliveries(draw: st.DrawFn, ref: MessageRef) -> tuple[Unit, ItemOutcome]:
    keys = tuple(draw(st.lists(st.sampled_from(["em", "ph", "fbc", "external_id"]) | texts, max_size=4)))
    item = Item(ref.event_id or "x", ref.event_type or "purchase", 0, {}, match_keys=keys)
    unit = Unit(
        ref=ref,
        item=item,
        size=1,
        platform="meta",
        attempts=draw(st.integers(0, 30)),
        first_attempt_ms=draw(st.sampled_from([0, 1_765_000_000_000]) | millis),
        last_attempt_ms=draw(st.sampled_from([0, 1_765_000_000_000]) | millis),
        last_status=draw(st.none() | st.sampled_from([200, 207]) | st.integers(100, 599)),
    )
    outcome = ItemOutcome(
        OutcomeKind.DELIVERED,
        reason=draw(st.sampled_from(["", "accepted, no click matched"]) | texts),
        code=draw(st.none() | st.sampled_from(["CLICK_NOT_FOUND"]) | texts),
        platform_ref=draw(opt_texts),
        duplicate=draw(st.booleans()),
    )
    return unit, outcome


class _Registry:
    """The one call the codec makes of a Schema Registry client to frame receipts."""

    def register_schema(self, subject: str, schema: object) -> int:
        return 4242


def _one_by_one(codec: ReceiptCodec, platform: str, pairs: list[tuple[Unit, ItemOutcome]]) -> list[bytes]:
    built = [build_receipt(u.ref, platform, "delivered", "deliver", unit=u, result=o) for u, o in pairs]
    return [codec.encode(receipt) for receipt in built]


@settings(max_examples=150, deadline=None)
@given(data=st.data(), messages=st.lists(refs(), min_size=1, max_size=4), wire=st.booleans())
def test_joined_runs_equal_whole_receipts(
    data: st.DataObject, messages: list[MessageRef], wire: bool
) -> None:
    codec = ReceiptCodec(_Registry() if wire else None)
    runs = DeliveredReceipts.create(codec.framing(), codec.encode)
    assert runs is not None
    with mock.patch("time.time", return_value=NOW_S):
        for platform in ("meta", "google", "tiktok"):  # the messages' own runs are shared
            per_message = data.draw(st.integers(1, 2))
            pairs = [data.draw(deliveries(ref)) for ref in messages for _ in range(per_message)]
            units, outcomes = [p[0] for p in pairs], [p[1] for p in pairs]
            assert list(runs.encode(platform, units, outcomes)) == _one_by_one(codec, platform, pairs)


def test_a_value_the_fast_encoder_refuses_is_encoded_whole() -> None:
    """A partition beyond Avro's int range does not fit the generated encoder: that receipt is
    encoded whole by fastavro, as it would be one by one."""
    ref = MessageRef("t", 2**40, 1, None, b"", [], 1, PartitionRun(), event_id="e")
    unit = Unit(ref=ref, item=Item("e", "purchase", 0, {}), size=1, platform="meta")
    codec = ReceiptCodec()
    runs = DeliveredReceipts.create(codec.framing(), codec.encode)
    assert runs is not None
    outcome = ItemOutcome(OutcomeKind.DELIVERED)
    with mock.patch("time.time", return_value=NOW_S):
        assert list(runs.encode("meta", [unit], [outcome])) == _one_by_one(codec, "meta", [(unit, outcome)])
