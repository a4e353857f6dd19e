"""The benchmark's traffic: topics, a pool of realistic events stamped with unique ids, bulk and
paced producing, and the click-ID captures pre-loaded into the SQLite store.

Why a pool: `SampleGenerator` builds believable events but costs ~100 µs each; a million-event
backlog would take minutes to generate. Re-stamping a pool of a few thousand generated events
with fresh ids keeps the traffic realistic (names, phones, emails, click IDs) and cheap.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from consumer.codec import Codec
from consumer.enrich.capture import prepare_capture
from consumer.enrich.sqlite_store import SqliteClickIdStore
from consumer.sample import SampleGenerator

EVENT_TYPES = ("purchase", "lead", "qualified")
POOL_SIZE = 4000
SEED = 11


@dataclass(frozen=True)
class TopicSet:
    """The event topics (topic -> type) of one benchmark phase, plus its DLQ and capture topic."""

    events: dict[str, str]
    dlq: str
    click_ids: str

    @classmethod
    def named(cls, prefix: str) -> TopicSet:
        """``<prefix>.purchase`` etc."""
        return cls({f"{prefix}.{t}": t for t in EVENT_TYPES}, f"{prefix}.dlq", f"{prefix}.click-ids")

    def all(self) -> list[str]:
        """Every topic name of the set."""
        return [*self.events, self.dlq, self.click_ids]


def create_topics(bootstrap: str, topics: TopicSet, partitions: int) -> None:
    """Create the set's topics (idempotent for re-runs against an external broker)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    wanted = [NewTopic(t, partitions if t in topics.events else 1, 1) for t in topics.all()]
    for future in admin.create_topics(wanted).values():
        try:
            future.result()
        except Exception as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise


class EventPool:
    """Generated events re-stamped with unique ids (and optionally the current time)."""

    def __init__(self, size: int = POOL_SIZE, seed: int = SEED, now_ms: int | None = None) -> None:
        self.generator = SampleGenerator(seed=seed)
        self.events = list(self.generator.events(size, now_ms or int(time.time() * 1000)))

    def event(self, n: int, run: str, event_time_ms: int | None = None) -> dict[str, Any]:
        """Event number ``n`` of run ``run``: a pool event with ids unique to (run, n).

        Personal identifiers (email, phone, external and anonymous ids) are made unique per
        event too, so the pool's repetition cannot flatter a cache of normalised or hashed
        values: only pooled user ids (the enrichment keys) repeat, as they would in real life."""
        base = self.events[n % len(self.events)]
        event = dict(base)
        event["user"] = user = dict(base["user"])
        _uniquify_user(user, n)
        event_id = f"{run}-{n}"
        event["event_id"] = event_id
        if event["type"] == "purchase":
            event["order_id"] = event_id
        elif event["type"] == "lead":
            event["lead_id"] = event_id
        if event_time_ms is not None:
            event["event_time"] = event_time_ms
            if event["type"] == "qualified":
                event["lead_created_time"] = min(event["lead_created_time"], event_time_ms - 1)
        return event


def _uniquify_user(user: dict[str, Any], n: int) -> None:
    """Make the hashed identifiers of one event distinct from every other event's."""
    email = user.get("email")
    if email and "@" in email:
        local, _, domain = email.partition("@")
        user["email"] = f"{local}.{n}@{domain}"
    phone = user.get("phone")
    if phone:
        # replace the last 7 digits, keeping the first of them in 2-9 (a valid exchange/subscriber)
        digits = f"{2 + n % 8}{(n // 8) % 1_000_000:06d}"
        chars = list(phone)
        positions = [i for i, c in enumerate(chars) if c.isdigit()][-7:]
        for pos, digit in zip(positions, digits[-len(positions) :], strict=True):
            chars[pos] = digit
        user["phone"] = "".join(chars)
    if str(user.get("external_id", "")).startswith("anon-"):
        user["external_id"] = f"{user['external_id']}-{n}"
    if user.get("anonymous_id"):
        user["anonymous_id"] = f"{user['anonymous_id'][:-8]}{n % 100_000_000:08d}"


class EventProducer:
    """Encodes and produces pool events onto a topic set."""

    def __init__(self, bootstrap: str, topics: TopicSet, pool: EventPool) -> None:
        self.codec = Codec(None, topics.events)
        self.topic_for = {t: name for name, t in topics.events.items()}
        self.pool = pool
        self.producer = Producer(
            {"bootstrap.servers": bootstrap, "linger.ms": 20, "compression.type": "lz4", "acks": "all"}
        )

    def produce(self, n: int, run: str, event_time_ms: int | None = None) -> str:
        """Produce event ``n`` of ``run``; returns its event id."""
        event = self.pool.event(n, run, event_time_ms)
        value = self.codec.encode(event)
        event_id: str = event["event_id"]
        while True:
            try:
                self.producer.produce(self.topic_for[event["type"]], value, event_id.encode())
                return event_id
            except BufferError:
                self.producer.poll(0.05)

    def produce_many(self, count: int, run: str, progress: Callable[[int], None] | None = None) -> None:
        """Produce ``count`` events and wait until the broker acknowledged all of them."""
        for n in range(count):
            self.produce(n, run)
            if n % 10_000 == 0:
                self.producer.poll(0)
                if progress is not None and n:
                    progress(n)
        self.flush()

    def produce_paced(
        self, rate: float, seconds: float, run: str, sent: dict[str, int] | None = None
    ) -> int:
        """Produce at ``rate`` events/s for ``seconds``, each stamped with its produce time (ms)
        as event_time, so the sandbox measures event time -> acceptance. Returns the count;
        ``sent`` (if given) receives event id -> produce time in ms."""
        total = int(rate * seconds)
        started = time.monotonic()
        for n in range(total):
            due = started + n / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            now_ms = int(time.time() * 1000)
            event_id = self.produce(n, run, now_ms)
            if sent is not None:
                sent[event_id] = now_ms
            if n % 500 == 0:
                self.producer.poll(0)
        self.flush()
        return total

    def flush(self) -> None:
        """Wait for every produced message to be acknowledged."""
        remaining = self.producer.flush(120)
        if remaining:
            raise RuntimeError(f"{remaining} messages were not acknowledged by the broker")


def preload_captures(path: str, pool: EventPool) -> int:
    """Write a click-ID capture for every pooled user into the SQLite store at ``path``, so
    events of known users (about 30% of them) find click IDs during enrichment."""
    gen = pool.generator
    now_ms = int(time.time() * 1000)
    records = []
    for n in range(gen.user_pool):
        prepared = prepare_capture(gen.capture_for_user(n, now_ms))
        if prepared is not None:
            records.append(prepared)

    async def load() -> None:
        store = SqliteClickIdStore(path)
        try:
            await store.upsert_many(records)
        finally:
            await store.close()

    asyncio.run(load())
    return len(records)


def type_counts(pool: EventPool, count: int) -> Mapping[str, int]:
    """How many of the first ``count`` events are of each type."""
    out = dict.fromkeys(EVENT_TYPES, 0)
    size = len(pool.events)
    for i, event in enumerate(pool.events):
        out[event["type"]] += count // size + (1 if i < count % size else 0)
    return out
