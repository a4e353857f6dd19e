"""The local Schema Registry serves the Confluent-compatible API on loopback and never leaks a JVM.

Why: every registry test trusts ``schema_registry_url``; a registry left running (or reachable
from the network) would break the next run or expose a test service.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from consumer.devtools import procs
from consumer.devtools.apicurio_local import LocalApicurio

pytestmark = pytest.mark.integration


def test_registry_registers_and_serves_a_schema(schema_registry_url: str) -> None:
    """Register, then read back by id — the two calls every producer and the relay make."""
    client = SchemaRegistryClient({"url": schema_registry_url})
    subject = f"smoke-{time.monotonic_ns()}-value"
    schema_id = client.register_schema(
        subject, Schema('{"type":"record","name":"Smoke","fields":[{"name":"a","type":"long"}]}', "AVRO")
    )
    assert "Smoke" in client.get_schema(schema_id).schema_str
    assert subject in client.get_subjects()


def _listening_addresses(pid: int) -> set[str]:
    """Local addresses of the TCP sockets ``pid`` listens on (from /proc, no tools needed)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    addresses = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            parts = line.split()
            if parts[3] == "0A" and parts[9] in inodes:  # 0A = LISTEN
                addresses.add(parts[1].rsplit(":", 1)[0])
    return addresses


_LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}

_CHILD = """
import sys, time
from consumer.devtools.apicurio_local import LocalApicurio
registry = LocalApicurio().start()
print(registry.pid, registry.work_dir, flush=True)
time.sleep(600)
"""


def test_listens_on_loopback_only_and_dies_with_its_owner() -> None:
    """Every listening socket (HTTP and management) is 127.0.0.1; SIGKILL of the owning Python
    process (no atexit possible) still takes the JVM down."""
    child = subprocess.Popen([sys.executable, "-c", _CHILD], stdout=subprocess.PIPE, text=True)
    java_pid = None
    try:
        assert child.stdout is not None
        java_pid_text, work_dir = child.stdout.readline().split()
        java_pid = int(java_pid_text)
        addresses = _listening_addresses(java_pid)
        assert len(addresses) >= 1 and addresses <= _LOOPBACK, addresses
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        deadline = time.monotonic() + 15
        while procs.pids_with_arg(work_dir) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not procs.pids_with_arg(work_dir)
    finally:
        if child.poll() is None:
            child.kill()
        if java_pid is not None and procs.pid_alive(java_pid):
            os.kill(java_pid, signal.SIGKILL)


def test_stop_leaves_no_process_and_no_work_dir() -> None:
    """After stop() nothing runs with the work dir on its command line, and the dir is gone."""
    registry = LocalApicurio().start()
    work_dir = str(registry.work_dir)
    registry.stop()
    assert not procs.pids_with_arg(work_dir)
    assert not Path(work_dir).exists()
