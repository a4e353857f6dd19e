"""The retry gate holds a partition at its head until the head is due — no polling meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from consumer.kafka.dlq import DeadLetter
from consumer.kafka.offsets import TopicPartition as TP
from consumer.kafka.retry_topic import RetryInfo
from consumer.retry.gate import RetryGate

TP0 = ("capi.retry", 0)


class FakeSource:
    """Records the gate's calls (a real consumer's pause/seek/resume)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, TP, int | None]] = []

    def pause(self, tps: Sequence[TP]) -> None:
        self.calls += [("pause", tp, None) for tp in tps]

    def resume(self, tps: Sequence[TP]) -> None:
        self.calls += [("resume", tp, None) for tp in tps]

    def seek(self, tp: TP, offset: int) -> None:
        self.calls.append(("seek", tp, offset))


class FakeMessage:
    def __init__(self, headers: list[tuple[str, bytes | None]]) -> None:
        self._headers = headers

    def headers(self) -> list[tuple[str, bytes | None]]:
        return self._headers


def _info(due_ms: int) -> RetryInfo:
    return RetryInfo("meta", 1, due_ms, due_ms, 1, 10**13, "503: HTTP 503")


async def test_not_due_head_pauses_seeks_back_and_resumes_when_due() -> None:
    source = FakeSource()
    gate = RetryGate("capi.retry", source, may_resume=lambda tp: True)
    now_ms = 1_000_000
    assert gate.due(TP0, 41, _info(now_ms), now_ms)  # due: taken, nothing held
    assert not gate.due(TP0, 42, _info(now_ms + 50), now_ms)
    assert source.calls == [("pause", TP0, None), ("seek", TP0, 42)]
    assert gate.held == {TP0}
    await asyncio.sleep(0)
    assert ("resume", TP0, None) not in source.calls  # one timer, not a poll
    for _ in range(200):
        if gate.held == frozenset():
            break
        await asyncio.sleep(0.01)
    assert source.calls[-1] == ("resume", TP0, None) and gate.held == frozenset()


async def test_a_revoked_or_stopping_partition_is_not_resumed() -> None:
    source = FakeSource()
    gate = RetryGate("capi.retry", source, may_resume=lambda tp: False)
    gate.due(TP0, 7, _info(20), 0)
    await asyncio.sleep(0.04)
    assert ("resume", TP0, None) not in source.calls
    gate.due(TP0, 7, _info(10_000), 0)
    gate.forget([TP0])
    assert gate.held == frozenset()


def test_parse_reads_the_original_position_and_strips_our_headers() -> None:
    info = _info(5)
    letter = DeadLetter(
        topic="events.purchase",
        partition=2,
        offset=17,
        key=b"k",
        value=b"v",
        headers=[("traceparent", b"00-abc")],
        stage="deliver",
        platform="meta",
        outcome="retry_later",
        reason="503",
        event_id="ORD-1",
        event_type="purchase",
        extra=info.headers(),
    )
    headers = [(k, v if isinstance(v, bytes) or v is None else v.encode()) for k, v in letter.kafka_headers()]
    record = RetryGate("capi.retry", FakeSource(), lambda tp: True).parse(FakeMessage(headers))
    assert record is not None
    assert record.origin == ("events.purchase", 2, 17) and record.info == info
    assert (record.event_id, record.event_type) == ("ORD-1", "purchase")
    assert record.headers == [("traceparent", b"00-abc")]
    assert RetryGate("capi.retry", FakeSource(), lambda tp: True).parse(FakeMessage([])) is None


async def test_a_resumed_platform_takes_its_parked_units_before_their_tier_is_due() -> None:
    """A paused platform's parked unit (``not_before`` passed, tier not yet due) is held while
    the platform is paused and taken at once after `wake` once it is resumed; a record still
    in its backoff (``not_before`` ahead) waits for its tier either way."""
    source = FakeSource()
    gate = RetryGate("capi.retry", source, may_resume=lambda tp: True)
    paused = {"meta"}
    gate.ready = lambda slug: slug not in paused
    now_ms = 1_000_000
    parked = RetryInfo("meta", 0, now_ms - 10, now_ms + 60_000, 1, 10**13, "paused: meta is paused")
    assert not gate.due(TP0, 7, parked, now_ms) and gate.held == {TP0}
    paused.clear()
    gate.wake()
    assert gate.held == frozenset() and source.calls[-1] == ("resume", TP0, None)
    assert gate.due(TP0, 7, parked, now_ms)
    backoff = RetryInfo("meta", 2, now_ms + 5_000, now_ms + 5_000, 1, 10**13, "503")
    assert not gate.due(TP0, 8, backoff, now_ms)
    gate.close()
