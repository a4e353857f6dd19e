"""Helpers for engine acceptance tests: topics, sample traffic, relay subprocesses, and the
"0 missing" check (every routed (event, platform) pair accepted by the sandbox or dead-lettered).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from consumer.codec import Codec
from consumer.demo_settings import SANDBOX_DEVELOPER_TOKEN, SANDBOX_TOKEN, sandbox_platforms
from consumer.kafka.dlq import H_EVENT_ID, H_PLATFORM, H_REASON, H_STAGE, headers_dict
from consumer.sample import SampleGenerator

EVENT_TYPES = ("purchase", "lead", "qualified")


@dataclass
class Scenario:
    """Topics and group of one test run, and what was produced."""

    bootstrap: str
    prefix: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:8]}")
    partitions: int = 3
    produced: dict[str, str] = field(default_factory=dict)  # event_id -> type
    poison: int = 0

    @property
    def topics(self) -> dict[str, str]:
        return {f"{self.prefix}.{t}": t for t in EVENT_TYPES}

    @property
    def dlq(self) -> str:
        return f"{self.prefix}.dlq"

    @property
    def retry(self) -> str:
        return f"{self.prefix}.retry"

    @property
    def group(self) -> str:
        return f"{self.prefix}-relay"

    def create_topics(self, dlq_config: dict[str, str] | None = None) -> None:
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        specs = [NewTopic(t, self.partitions, 1) for t in self.topics]
        specs.append(NewTopic(self.dlq, 1, 1, config=dlq_config or {}))
        for future in admin.create_topics(specs).values():
            future.result(timeout=30)

    def produce(self, count: int, *, poison_every: int = 0, seed: int = 1, fresh: bool = False) -> None:
        """Produce ``count`` good events (plain Avro), plus one undecodable message after every
        ``poison_every`` good ones; ``fresh`` dates every event now (not up to an hour ago)."""
        codec = Codec(None, self.topics)
        topic_for = {t: name for name, t in self.topics.items()}
        producer = Producer(
            {"bootstrap.servers": self.bootstrap, "linger.ms": 20, "enable.idempotence": True}
        )
        now = int(time.time() * 1000)
        for i, event in enumerate(SampleGenerator(seed=seed).events(count, now)):
            self.produced[event["event_id"]] = event["type"]
            if fresh:
                event["event_time"] = now
            _produce(producer, topic_for[event["type"]], event["event_id"].encode(), codec.encode(event))
            if poison_every and (i + 1) % poison_every == 0:
                _produce(
                    producer, topic_for[event["type"]], b"poison", b"\x00not avro at all " + os.urandom(8)
                )
                self.poison += 1
        assert producer.flush(60) == 0

    def config(self, sandbox_url: str, slugs: list[str], /, **overrides: Any) -> dict[str, Any]:
        """A relay config for this scenario against the sandbox."""
        config: dict[str, Any] = {
            "kafka": {"bootstrap_servers": self.bootstrap, "group_id": self.group},
            "topics": {
                "events": self.topics,
                "dlq": self.dlq,
                "retry": self.retry,
                "click_ids": f"{self.prefix}.click-ids",
            },
            "store": {"backend": "none"},
            "routing": {t: slugs for t in EVENT_TYPES},
            "platforms": sandbox_platforms(sandbox_url, slugs),
            "observability": {"http_port": None, "log_format": "json"},
            "consumer": {"drain_deadline_s": 15, "commit_interval_ms": 500},
        }
        for slug in slugs:
            config["platforms"][slug]["credentials"] = {"token_env": "CAPI_SANDBOX_TOKEN"}
        if "google" in slugs:
            config["platforms"]["google"]["credentials"]["extra_env"] = {
                "developer-token": "CAPI_SANDBOX_DEV_TOKEN"
            }
        _deep_update(config, overrides)
        return config

    def end_offsets(self) -> dict[tuple[str, int], int]:
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": f"{self.prefix}-probe"})
        out = {}
        for topic in self.topics:
            for p in range(self.partitions):
                _, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
                out[(topic, p)] = high
        consumer.close()
        return out

    def committed(self) -> dict[tuple[str, int], int]:
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": self.group})
        tps = [TopicPartition(t, p) for t in self.topics for p in range(self.partitions)]
        out = {(tp.topic, tp.partition): tp.offset for tp in consumer.committed(tps, timeout=10)}
        consumer.close()
        return out

    def fully_committed(self) -> bool:
        try:
            ends = self.end_offsets()
            committed = self.committed()
        except KafkaException:  # e.g. NOT_COORDINATOR on a broker that just started
            return False
        return all(end == 0 or committed.get(tp, -1) >= end for tp, end in ends.items())

    def dlq_records(self) -> list[dict[str, str]]:
        consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": f"{self.prefix}-dlq-{uuid.uuid4().hex[:4]}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        _, high = consumer.get_watermark_offsets(TopicPartition(self.dlq, 0), timeout=10)
        consumer.assign([TopicPartition(self.dlq, 0, 0)])
        records: list[dict[str, str]] = []
        deadline = time.monotonic() + 60
        while len(records) < high and time.monotonic() < deadline:
            for msg in consumer.consume(500, 1.0):
                if msg.error() is None:
                    records.append(headers_dict(msg.headers()))
        consumer.close()
        return records


@dataclass
class Verdict:
    """The outcome of the 0-missing check."""

    missing: list[tuple[str, str]]
    duplicates: int
    accepted: dict[str, int]
    dead_lettered: dict[str, int]
    decode_records: int
    reasons: Counter[str]


def verify(
    scenario: Scenario, platforms: Iterable[str], events_by_platform: Mapping[str, list[dict[str, Any]]]
) -> Verdict:
    """Every produced event on every platform: accepted by the sandbox or in the DLQ with a reason."""
    records = scenario.dlq_records()
    dead = {(r.get(H_EVENT_ID, ""), r.get(H_PLATFORM, "")) for r in records if r.get(H_STAGE) != "decode"}
    reasons: Counter[str] = Counter(r.get(H_REASON, "")[:60] for r in records)
    missing: list[tuple[str, str]] = []
    duplicates = 0
    accepted: dict[str, int] = {}
    dead_count: dict[str, int] = {}
    for slug in platforms:
        seen = {e["event_id"]: e["count"] for e in events_by_platform[slug]}
        duplicates += sum(c - 1 for c in seen.values())
        accepted[slug] = sum(1 for e in scenario.produced if e in seen)
        dead_count[slug] = sum(1 for e in scenario.produced if (e, slug) in dead)
        for event_id in scenario.produced:
            if event_id not in seen and (event_id, slug) not in dead:
                missing.append((event_id, slug))
    decode = sum(1 for r in records if r.get(H_STAGE) == "decode")
    return Verdict(missing, duplicates, accepted, dead_count, decode, reasons)


class RelayProcess:
    """`capi-relay run --config FILE` as a child process."""

    def __init__(self, config: dict[str, Any], workdir: Path, name: str = "relay") -> None:
        self.path = workdir / f"{name}.yaml"
        self.path.write_text(yaml.safe_dump(config))
        self.log = workdir / f"{name}.log"
        env = dict(
            os.environ, CAPI_SANDBOX_TOKEN=SANDBOX_TOKEN, CAPI_SANDBOX_DEV_TOKEN=SANDBOX_DEVELOPER_TOKEN
        )
        self._out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "consumer.cli", "run", "--config", str(self.path)],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env=env,
        )

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._out.close()

    def wait_started(self, timeout: float = 60) -> bool:
        """Until the relay has logged `relay_starting` (its stop handlers are in place by then:
        a SIGTERM during interpreter start-up, before any of our code runs, is outside our
        control) or has exited."""
        return wait_until(
            lambda: not self.alive() or b"relay_starting" in self.log.read_bytes(), timeout, 0.01
        )

    def terminate(self, timeout: float = 60) -> tuple[int, float]:
        self.wait_started()
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        self._out.close()
        return code, time.monotonic() - started

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop_quietly(self) -> None:
        if self.alive():
            self.proc.kill()
            self.proc.wait(10)
        if not self._out.closed:
            self._out.close()


def wait_until(predicate: Any, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def _produce(producer: Producer, topic: str, key: bytes, value: bytes) -> None:
    while True:
        try:
            producer.produce(topic, value=value, key=key)
            return
        except BufferError:
            producer.poll(0.1)


def _deep_update(base: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _deep_update(base[key], value)
        else:
            base[key] = value
