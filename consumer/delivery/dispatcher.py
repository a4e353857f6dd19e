"""One platform's delivery loop: batch, send, classify, retry, and report one terminal outcome per
unit. It knows nothing about Kafka: the engine hands it units and gets outcomes back.

Batches are formed per route (pixel/account) by size, bytes or linger. A platform that throttles
or whose circuit is open waits on its own; the other platforms' dispatchers are unaffected.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import structlog

from connectors.base import BatchLimits, Connector, Item, ItemOutcome, OutcomeKind
from consumer.delivery.circuit import CircuitBreaker
from consumer.delivery.credentials_api import CredentialsSource
from consumer.delivery.http import HttpSender
from consumer.delivery.pausing import PauseSwitch, drain, give_back_held_time, paused_outcome
from consumer.delivery.platform_state import PlatformState
from consumer.delivery.retry import RetryPolicy
from consumer.messages import MessageRef
from consumer.observability import metrics

log = structlog.get_logger("capi_relay.delivery")


@dataclass(slots=True)
class Unit:
    """One (message, platform) pair on its way to a terminal outcome."""

    ref: MessageRef  # the message it belongs to (source, retry or replayed record)
    item: Item
    size: int
    platform: str = ""
    created: float = field(default_factory=time.monotonic)
    attempts: int = 0
    auth_retried: bool = False
    first_attempt_ms: int = 0
    last_attempt_ms: int = 0
    last_status: int | None = None
    split_depth: int = 0

    def alive(self) -> bool:
        """False once the message's partition was revoked (the work is dropped, not finished)."""
        return self.ref.alive


# Called with (terminal kind: "delivered" | "rejected" | "exhausted" | "auth" | "hold" (a paused
# platform's unit, when `park_paused` is set), units that reached it together, their outcomes in
# the same order). One call per request and terminal kind, not per unit: whoever routes outcomes
# (ledger, receipts, metrics) does its per-batch work once.
OutcomeCallback = Callable[[str, Sequence[Unit], Sequence[ItemOutcome]], None]


class PlatformDispatcher:
    """Batching, sending and retrying for one platform."""

    def __init__(
        self,
        connector: Connector,
        sender: HttpSender,
        credentials: CredentialsSource,
        on_outcome: OutcomeCallback,
        retry: RetryPolicy,
        circuit: CircuitBreaker,
        limits: BatchLimits | None = None,
        seed: int | None = None,
    ) -> None:
        self.connector = connector
        self.slug = connector.slug
        self.limits = limits or connector.limits
        self._sender = sender
        self._credentials = credentials
        self._on_outcome = on_outcome
        self._retry = retry
        self.circuit = circuit
        self.state = PlatformState(self.slug)  # last success / last error, circuit logs
        circuit.on_change = self.state.circuit_changed
        self._rng = random.Random(seed)
        self._queues: dict[str, deque[Unit]] = {}
        self._queued = 0
        self._waiting_retry = 0
        self._sending = 0
        self._not_before = 0.0  # throttle gate (monotonic)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight_tasks: set[asyncio.Task[None]] = set()
        self._max_concurrency = 8
        self.retries = 0
        self.control: PauseSwitch | None = None  # consulted on submit and before each batch
        self.park_paused = False  # paused units end as "hold" (parked) instead of waiting here
        self.on_resume: Callable[[str], None] | None = None  # told when the pause is lifted
        self._held_since: float | None = None

    # -- intake ----------------------------------------------------------------------------------

    def submit(self, unit: Unit) -> None:
        """Queue a unit for its first or next attempt."""
        if self.park_paused and self.control is not None and self.control.is_paused(self.slug):
            self._held_since = self._held_since or time.monotonic()  # so that resume is seen
            self._finish(unit, "hold", paused_outcome(self.slug, self.control))
            return
        queue = self._queues.get(unit.item.route)
        if queue is None:
            queue = self._queues[unit.item.route] = deque()
        queue.append(unit)
        self._queued += 1
        if self._queued >= self.limits.max_events or len(queue) == 1:
            self._wake.set()

    @property
    def max_concurrency(self) -> int:
        """Batches this dispatcher may have in flight at once."""
        return self._max_concurrency

    @property
    def waiting_retry(self) -> int:
        """Units waiting for their backoff to elapse before the next attempt."""
        return self._waiting_retry

    @property
    def in_flight(self) -> int:
        """Units queued for a batch or being sent."""
        return self._queued + self._sending

    @property
    def pending(self) -> int:
        """Units queued, waiting to retry or being sent."""
        return self._queued + self._waiting_retry + self._sending

    def start(self, max_concurrency: int) -> None:
        """Run the batching loop on the current event loop."""
        self._max_concurrency = max_concurrency
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"dispatch-{self.slug}")

    async def stop(self) -> None:
        """Stop the loop and cancel requests in flight (their units stay unfinished)."""
        if self._task is not None:
            self._task.cancel()
            for task in list(self._inflight_tasks):
                task.cancel()
            await asyncio.gather(self._task, *self._inflight_tasks, return_exceptions=True)
            self._task = None

    # -- the loop ----------------------------------------------------------------------------------

    async def _run(self) -> None:
        linger = self.limits.linger_ms / 1000.0
        oldest: dict[str, float] = {}
        while True:
            now = time.monotonic()
            self._expire_waiting(now)
            wait = 1.0
            sent_any = False
            held = self._held(now)
            for route, queue in list(self._queues.items()):
                if not queue:
                    oldest.pop(route, None)
                    continue
                if held:  # paused: hold like an open circuit, nothing sent, nothing dropped
                    wait = min(wait, 0.2)
                    break
                first_seen = oldest.setdefault(route, now)
                full = len(queue) >= self.limits.max_events
                due = now - first_seen >= linger
                if not (full or due):
                    wait = min(wait, linger - (now - first_seen))
                    continue
                gate = self._gate_wait(now)
                if gate > 0:
                    wait = min(wait, gate)
                    break
                if len(self._inflight_tasks) >= self._max_concurrency:
                    wait = min(wait, 0.01)
                    break
                if not self.circuit.allow():
                    wait = min(wait, max(0.05, self.circuit.seconds_until_probe()))
                    break
                batch = self._take_batch(queue)
                oldest.pop(route, None) if not queue else oldest.__setitem__(route, now)
                if batch:
                    self._spawn(batch)
                    sent_any = True
            if sent_any:
                await asyncio.sleep(0)
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.001, wait))

    def _held(self, now: float) -> bool:
        """Whether the platform is paused; with a retry topic its queued units end as "hold" (the
        router parks them). On resume, the held time is given back to the queued units' retry
        budget (being paused is not a delivery failure) and `on_resume` is told."""
        paused = self.control is not None and self.control.is_paused(self.slug)
        if paused and self.park_paused and self.control is not None:
            for unit in drain(self._queues.values()):
                self._queued -= 1
                self._finish(unit, "hold", paused_outcome(self.slug, self.control))
        if paused and self._held_since is None:
            self._held_since = now
        elif not paused and self._held_since is not None:
            since, self._held_since = self._held_since, None
            give_back_held_time(self._queues.values(), since, now)
            if self.on_resume is not None:
                self.on_resume(self.slug)
        return paused

    def _gate_wait(self, now: float) -> float:
        return max(0.0, self._not_before - now)

    def _take_batch(self, queue: deque[Unit]) -> list[Unit]:
        batch: list[Unit] = []
        size = 0
        while queue and len(batch) < self.limits.max_events:
            unit = queue[0]
            if batch and size + unit.size > self.limits.max_bytes:
                break
            queue.popleft()
            self._queued -= 1
            if not unit.alive():
                continue
            batch.append(unit)
            size += unit.size
        return batch

    def _spawn(self, batch: list[Unit]) -> None:
        self._sending += len(batch)
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._inflight_tasks.add(task)
        task.add_done_callback(self._inflight_tasks.discard)

    def _expire_waiting(self, now: float) -> None:
        """While the circuit is open for an outage, units out of budget become EXHAUSTED."""
        if (
            self.circuit.state == 0
            or (self.circuit.holds_budget and self._retry.hold_auth)
            or self._held_since is not None
        ):
            return
        for queue in self._queues.values():
            keep: deque[Unit] = deque()
            while queue:
                unit = queue.popleft()
                if self._retry.exhausted(unit.attempts, now - unit.created):
                    self._queued -= 1
                    self._finish(
                        unit,
                        "exhausted",
                        ItemOutcome(
                            OutcomeKind.RETRY,
                            reason=f"retry budget exhausted while {self.slug} was unavailable"
                            f" ({self.circuit.reason})",
                            code="circuit_open",
                        ),
                    )
                else:
                    keep.append(unit)
            queue.extend(keep)

    # -- one request -----------------------------------------------------------------------------

    async def _send(self, batch: list[Unit]) -> None:
        try:
            await self._send_inner(batch)
        finally:
            self._sending -= len(batch)

    async def _send_inner(self, batch: list[Unit]) -> None:
        items = [u.item for u in batch]
        route = items[0].route
        now_ms = int(time.time() * 1000)
        for unit in batch:
            unit.attempts += 1
            unit.first_attempt_ms = unit.first_attempt_ms or now_ms
            unit.last_attempt_ms = now_ms
        try:
            creds = await self._credentials.get(self.slug, route)
        except Exception as exc:  # credentials provider down: treat like an outage
            log.warning("credentials_unavailable", platform=self.slug, error=str(exc))
            failed = ItemOutcome(OutcomeKind.RETRY, reason="credentials unavailable", code="credentials")
            self.state.failed(failed, None)
            self.circuit.record_failure("credentials")
            for unit in batch:
                self._retry_later(unit, failed)
            return
        request = self.connector.build_request(items, creds)
        response, seconds = await self._sender.send(self.slug, request)
        metrics.REQUEST_SECONDS.labels(self.slug).observe(seconds)
        outcomes = self.connector.classify(response, items)
        self.state.observe(outcomes, response.status)
        for unit in batch:
            unit.last_status = response.status or None
        self._handle(batch, outcomes, response.status)

    def _handle(self, batch: list[Unit], outcomes: list[ItemOutcome], status: int) -> None:
        kinds = {o.kind for o in outcomes}
        if kinds <= {OutcomeKind.RETRY} or kinds <= {OutcomeKind.THROTTLED}:
            self.circuit.record_failure("outage")
        elif OutcomeKind.AUTH in kinds:
            pass
        else:
            self.circuit.record_success()
        if len(batch) > 1 and all(o.kind is OutcomeKind.REJECTED and o.batch_rejected for o in outcomes):
            metrics.SPLITS.labels(self.slug).inc()
            half = len(batch) // 2
            for part in (batch[:half], batch[half:]):
                for unit in part:
                    unit.attempts -= 1  # a split is not the unit's fault
                    unit.split_depth += 1
                self._sending += len(part)
                self._spawn_split(part)
            return
        delivered: tuple[list[Unit], list[ItemOutcome]] = ([], [])
        rejected: tuple[list[Unit], list[ItemOutcome]] = ([], [])
        for unit, outcome in zip(batch, outcomes, strict=True):
            kind = outcome.kind
            if kind is OutcomeKind.DELIVERED or kind is OutcomeKind.REJECTED:
                if unit.alive():
                    done = delivered if kind is OutcomeKind.DELIVERED else rejected
                    done[0].append(unit)
                    done[1].append(outcome)
            elif kind is OutcomeKind.AUTH:
                self._on_auth(unit, outcome)
            else:
                if kind is OutcomeKind.THROTTLED:
                    metrics.THROTTLES.labels(self.slug).inc()
                    gate = time.monotonic() + (outcome.retry_after or self._retry.base_delay_s)
                    self._not_before = max(self._not_before, gate)
                self._retry_later(unit, outcome)
        if delivered[0]:
            self._on_outcome("delivered", *delivered)
        if rejected[0]:
            self._on_outcome("rejected", *rejected)

    def _spawn_split(self, part: list[Unit]) -> None:
        async def run() -> None:
            try:
                await self._send_inner(part)
            finally:
                self._sending -= len(part)

        task = asyncio.get_running_loop().create_task(run())
        self._inflight_tasks.add(task)
        task.add_done_callback(self._inflight_tasks.discard)

    def _on_auth(self, unit: Unit, outcome: ItemOutcome) -> None:
        if not unit.auth_retried:
            unit.auth_retried = True
            unit.attempts -= 1
            self._credentials.invalidate_nowait(self.slug, unit.item.route)
            self._schedule(unit, 0.0)
            return
        if not self.circuit.holds_budget:
            # One line per hold (not per event): credentials or access were refused, the
            # platform now waits behind its auth circuit until an operator fixes them.
            log.error(
                "platform_access_refused",
                platform=self.slug,
                code=outcome.code,
                reason=outcome.reason,
                action="holding the platform behind its auth circuit; fix its token or permissions",
            )
        self.circuit.record_failure("auth", immediate=True)
        self._finish(unit, "auth", outcome)

    def _retry_later(self, unit: Unit, outcome: ItemOutcome) -> None:
        age = time.monotonic() - unit.created
        delay = self._retry.delay(unit.attempts, outcome.retry_after, self._rng)
        if self._retry.exhausted(unit.attempts, age, delay):
            self._finish(unit, "exhausted", outcome)
            return
        metrics.RETRIES.labels(self.slug, outcome.kind.value).inc()
        self.retries += 1
        self._schedule(unit, delay)

    def _schedule(self, unit: Unit, delay: float) -> None:
        self._waiting_retry += 1

        def requeue() -> None:
            self._waiting_retry -= 1
            if unit.alive():
                self.submit(unit)

        asyncio.get_running_loop().call_later(delay, requeue)

    def _finish(self, unit: Unit, terminal: str, outcome: ItemOutcome) -> None:
        if unit.alive():
            self._on_outcome(terminal, (unit,), (outcome,))
