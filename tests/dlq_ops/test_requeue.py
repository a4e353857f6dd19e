"""The replay's failure policy without a broker: a failure goes back to the dead-letter topic it
came from with replays + 1 and the attempts of every pass, keeps the record's own target when it
no longer decodes, is reported (not written) when capped, expired or in a dry run."""

from __future__ import annotations

from consumer.dlq_ops.options import ReplayOptions
from consumer.dlq_ops.requeue import Requeue
from consumer.dlq_ops.summary import ReplaySummary
from consumer.kafka.dlq import DECODE_PLATFORM, DeadLetter
from consumer.messages import MessageRef, PartitionRun, Replayed

DLQ = "capi.dlq"


class FakeWriter:
    """Acknowledges at once; keeps what it was given."""

    topic = DLQ

    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    async def write(self, letter: DeadLetter, partition: int | None = None) -> tuple[int, int]:
        self.letters.append(letter)
        return (0, 100 + len(self.letters))


def _policy(**options: object) -> tuple[Requeue, FakeWriter]:
    opts = ReplayOptions(**options)  # type: ignore[arg-type]
    policy = Requeue(opts, ReplaySummary(DLQ, "g", "all", opts.dry_run), DLQ)
    writer = FakeWriter()
    policy.writer = writer  # type: ignore[assignment]
    return policy, writer


def _ref(platform: str = "meta", replays: int = 0) -> MessageRef:
    replay = Replayed(DLQ, 0, 3, platform, replays, attempts=4, first_failure_ms=1_000)
    return MessageRef(
        "events.purchase",
        0,
        7,
        b"k",
        b"v",
        [],
        10,
        PartitionRun(),
        event_id="E1",
        at=(DLQ, 0, 3),
        replay=replay,
    )


def _letter(ref: MessageRef, **kw: object) -> DeadLetter:
    fields: dict[str, object] = {
        "stage": "deliver",
        "platform": "meta",
        "outcome": "exhausted",
        "reason": "503",
    }
    fields.update(kw)
    return ref.dead_letter(attempts=2, **fields)  # type: ignore[arg-type]


async def test_a_failure_is_requeued_with_replays_and_attempts_added() -> None:
    policy, writer = _policy()
    ref = _ref(replays=1)
    failed = await policy.fail(ref, _letter(ref))
    (again,) = writer.letters
    assert (again.replays, again.attempts, again.first_failure_ms) == (2, 6, 1_000)
    assert (again.topic, again.offset, again.platform) == ("events.purchase", 7, "meta")
    assert failed is not None and failed.dlq == (DLQ, 0, 101)
    assert policy.summary.totals() == {"requeued": 1}


async def test_an_undecodable_record_keeps_its_own_target() -> None:
    policy, writer = _policy()
    ref = _ref(platform="tiktok")
    await policy.fail(ref, _letter(ref, stage="decode", platform=DECODE_PLATFORM, outcome="rejected"))
    assert [(w.platform, w.stage) for w in writer.letters] == [("tiktok", "decode")]


async def test_capped_expired_and_dry_run_write_nothing() -> None:
    policy, writer = _policy(max_replays=2)
    ref = _ref(replays=1)
    capped = await policy.fail(ref, _letter(ref))
    expired = await policy.fail(
        ref, _letter(ref, stage="map", outcome="rejected", error_code="outside_window")
    )
    assert capped is not None and capped.dlq == (DLQ, 0, 3)  # the replayed record stays the last one
    assert expired is not None and expired.dlq == (DLQ, 0, 3)
    dry, dry_writer = _policy(dry_run=True)
    assert await dry.fail(ref, _letter(ref)) is None
    assert writer.letters == [] and dry_writer.letters == []
    assert policy.summary.totals() == {"capped": 1, "expired": 1} and dry.summary.totals() == {
        "would_fail": 1
    }
    assert [r.kind for r in policy.summary.reported] == ["capped", "expired"]
