"""The local broker behaves like Kafka and never leaks a JVM.

Why: every integration test in the project trusts ``kafka_bootstrap``; if the broker were
flaky or left Java processes behind, failures would show up far from their cause.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

from consumer.devtools import procs
from consumer.devtools.kafka_local import LocalKafka
from tests.conftest import NewTopicFactory

pytestmark = pytest.mark.integration


def test_broker_is_up(kafka_admin: AdminClient) -> None:
    """A single broker answers metadata requests."""
    assert len(kafka_admin.list_topics(timeout=10).brokers) == 1


def test_round_trip_100_messages_on_6_partitions(kafka_bootstrap: str, new_topic: NewTopicFactory) -> None:
    """Keyed messages spread over partitions and come back complete and in per-key order."""
    topic = new_topic(partitions=6)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "linger.ms": 5})
    sent = [(f"key-{i % 10}".encode(), f"value-{i}".encode()) for i in range(100)]
    for key, value in sent:
        producer.produce(topic, key=key, value=value)
    assert producer.flush(30) == 0

    consumer = Consumer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "group.id": f"{topic}-group",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    received: list[tuple[bytes, bytes, int]] = []
    deadline = time.monotonic() + 30
    try:
        while len(received) < len(sent) and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            assert msg.error() is None, msg.error()
            msg_key, msg_value, partition = msg.key(), msg.value(), msg.partition()
            assert isinstance(msg_key, bytes) and isinstance(msg_value, bytes) and partition is not None
            received.append((msg_key, msg_value, partition))
    finally:
        consumer.close()

    assert sorted((k, v) for k, v, _ in received) == sorted(sent)
    assert len({p for _, _, p in received}) > 1, "10 keys should land on several of 6 partitions"
    per_key: dict[bytes, list[bytes]] = defaultdict(list)
    for key, value, _ in received:
        per_key[key].append(value)
    for key, values in per_key.items():
        assert values == [v for k, v in sent if k == key]


def test_stop_leaves_no_java_process() -> None:
    """After stop() nothing runs with our data dir on its command line, and the dir is gone."""
    kafka = LocalKafka(heap="256m")
    kafka.start()
    try:
        data_dir = str(kafka.data_dir)
        assert kafka.pid in procs.pids_with_arg(data_dir)
    finally:
        kafka.stop()
    assert procs.pids_with_arg(data_dir) == []
    assert not Path(data_dir).exists()


_CHILD = """
import sys, time
from consumer.devtools.kafka_local import LocalKafka
k = LocalKafka(heap="256m").start()
print(k.pid, k.data_dir, flush=True)
time.sleep(600)
"""


@pytest.mark.slow
def test_broker_dies_when_owner_is_killed() -> None:
    """SIGKILL of the owning Python process (no atexit possible) still takes the JVM down."""
    child = subprocess.Popen([sys.executable, "-c", _CHILD], stdout=subprocess.PIPE, text=True)
    java_pid = None
    data_dir = None
    try:
        assert child.stdout is not None
        java_pid_text, data_dir = child.stdout.readline().split()
        java_pid = int(java_pid_text)
        assert procs.pid_alive(java_pid)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        deadline = time.monotonic() + 15
        while procs.pids_with_arg(data_dir) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert procs.pids_with_arg(data_dir) == []
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if java_pid is not None and procs.pid_alive(java_pid):
            os.kill(java_pid, signal.SIGKILL)
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)
