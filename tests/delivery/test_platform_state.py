"""Logs that tell: circuit opened (warning) / closed (info), auth failures (error, with the
platform's code), last success and last error for /status, and the dead-letter summary."""

from __future__ import annotations

from collections import deque

from structlog.testing import capture_logs

from connectors.base import BatchLimits, Item, ItemOutcome, OutcomeKind
from consumer.delivery.circuit import CircuitBreaker
from consumer.delivery.dispatcher import PlatformDispatcher, Unit
from consumer.delivery.http import HttpSender
from consumer.delivery.platform_state import PlatformState
from consumer.delivery.retry import RetryPolicy
from consumer.observability.dlq_summary import DeadLetterSummary


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _wired() -> tuple[CircuitBreaker, PlatformState, Clock]:
    clock = Clock()
    circuit = CircuitBreaker(failure_threshold=2, cooldown_s=1.0, clock=clock)
    state = PlatformState("tiktok")
    circuit.on_change = state.circuit_changed
    return circuit, state, clock


def test_circuit_open_warns_once_and_close_informs() -> None:
    circuit, state, clock = _wired()
    with capture_logs() as logs:
        state.observe([ItemOutcome(OutcomeKind.RETRY, reason="HTTP 503", code="503")], 503)
        circuit.record_failure()
        circuit.record_failure()
        clock.now += 2
        assert circuit.allow()  # half-open probe
        circuit.record_failure()  # probe failed: open again, no second warning
        clock.now += 5
        assert circuit.allow()
        circuit.record_success()
    events = [(e["event"], e["log_level"]) for e in logs]
    assert events == [("circuit_opened", "warning"), ("circuit_closed", "info")]
    assert logs[0]["platform"] == "tiktok" and logs[0]["code"] == "503"


def test_auth_failure_is_an_error_with_the_platform_code() -> None:
    circuit, state, _ = _wired()
    with capture_logs() as logs:
        state.observe(
            [ItemOutcome(OutcomeKind.AUTH, reason="Access token is invalid", code="40105")] * 3, 200
        )
        circuit.record_failure("auth", immediate=True)
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("platform_auth_failed", "error"),
        ("circuit_opened", "warning"),
    ]
    assert logs[0]["code"] == "40105" and logs[1]["reason"] == "auth"
    assert state.last_error is not None and state.last_error.code == "40105"


def test_last_success_and_scrubbed_last_error() -> None:
    _, state, _ = _wired()
    assert state.as_dict() == {"last_success": None, "last_error": None}
    state.observe([ItemOutcome(OutcomeKind.DELIVERED)], 200)
    state.observe([ItemOutcome(OutcomeKind.REJECTED, reason="bad email jane@example.com", code="100")], 400)
    doc = state.as_dict()
    assert doc["last_success"] is not None
    error = doc["last_error"]
    assert isinstance(error, dict)
    assert error["code"] == "100" and error["http_status"] == 400
    assert "jane@example.com" not in str(error["reason"])


def test_dead_letter_summary_counts_per_platform_and_reason_per_window() -> None:
    clock = Clock()
    summary = DeadLetterSummary(60.0, clock)
    with capture_logs() as logs:
        for _ in range(3):
            summary.add("meta", "exhausted")
        summary.add("tiktok", "40105")
        clock.now += 59
        summary.maybe_flush()
        assert logs == []
        clock.now += 1
        summary.add("meta", "exhausted")
        clock.now += 600
        summary.maybe_flush()  # nothing new: no line
    assert len(logs) == 1
    assert logs[0]["event"] == "dead_letters_written" and logs[0]["log_level"] == "warning"
    assert logs[0]["counts"] == {"meta": {"exhausted": 4}, "tiktok": {"40105": 1}}
    assert logs[0]["total"] == 5


class _Switch:
    def __init__(self) -> None:
        self.paused: set[str] = set()

    def is_paused(self, slug: str) -> bool:
        return slug in self.paused


class _Connector:
    slug = "tiktok"
    limits = BatchLimits(max_events=10, max_bytes=10_000)


def test_a_held_platform_gives_its_units_the_held_time_back() -> None:
    """Being paused is not a delivery failure: on resume each queued unit's budget clock moves
    on by the time it spent held (no more), so a long pause cannot exhaust it."""
    switch = _Switch()
    dispatcher = PlatformDispatcher(
        _Connector(),  # type: ignore[arg-type]
        HttpSender(),
        None,  # type: ignore[arg-type]
        lambda *_: None,
        RetryPolicy(),
        CircuitBreaker(),
    )
    dispatcher.control = switch
    item = Item(event_id="e1", event_type="purchase", event_time_ms=0, payload={}, route="r")
    early = Unit(ref=None, item=item, size=1, created=100.0)
    switch.paused.add("tiktok")
    assert dispatcher._held(150.0)
    late = Unit(ref=None, item=item, size=1, created=400.0)
    dispatcher._queues["r"] = deque([early, late])
    assert dispatcher._held(500.0)
    switch.paused.clear()
    assert not dispatcher._held(1000.0)
    assert early.created == 100.0 + 850.0  # held from 150 to 1000
    assert late.created == 400.0 + 600.0  # held from its arrival at 400


class _Ref:
    alive = True


class _ReasonSwitch(_Switch):
    def pause_reason(self, slug: str) -> str | None:
        return "token rotation" if slug in self.paused else None


def test_with_a_retry_topic_a_paused_platform_hands_its_units_back_as_hold() -> None:
    """Parked, not held in memory: units queued before the pause and units submitted during it
    end as "hold" with a reason naming the pause; the resume is reported (the retry gate then
    releases the parked units at once)."""
    switch = _ReasonSwitch()
    ended: list[tuple[str, str, str | None, str | None]] = []
    resumed: list[str] = []
    dispatcher = PlatformDispatcher(
        _Connector(),  # type: ignore[arg-type]
        HttpSender(),
        None,  # type: ignore[arg-type]
        lambda terminal, units, outcomes: ended.extend(
            (unit.item.event_id, terminal, outcome.code, outcome.reason)
            for unit, outcome in zip(units, outcomes, strict=True)
        ),
        RetryPolicy(),
        CircuitBreaker(),
    )
    dispatcher.control, dispatcher.park_paused, dispatcher.on_resume = switch, True, resumed.append

    def unit(event_id: str) -> Unit:
        item = Item(event_id=event_id, event_type="purchase", event_time_ms=0, payload={}, route="r")
        return Unit(ref=_Ref(), item=item, size=1)

    dispatcher._queues["r"] = deque([unit("queued")])
    dispatcher._queued = 1
    switch.paused.add("tiktok")
    assert dispatcher._held(10.0)
    dispatcher.submit(unit("new"))
    reason = "tiktok is paused (token rotation)"
    assert ended == [("queued", "hold", "paused", reason), ("new", "hold", "paused", reason)]
    assert dispatcher.in_flight == 0 and resumed == []
    switch.paused.clear()
    assert not dispatcher._held(20.0) and resumed == ["tiktok"]
    dispatcher.submit(unit("after"))
    assert len(ended) == 2 and dispatcher.in_flight == 1  # queued for delivery again
