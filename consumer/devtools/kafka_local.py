"""A real single-node Apache Kafka broker (KRaft mode) for tests and demos, without Docker.

Why: the relay's consumer semantics (commits, rebalances, partitions) are only trustworthy
when exercised against a genuine broker, and the machines we run on have Java and Maven
but no Docker. :class:`LocalKafka` formats a throwaway data directory, starts
``kafka.Kafka`` on free loopback ports and guarantees the JVM does not outlive its owner.

Typical use::

    with LocalKafka() as kafka:
        consumer = Consumer({"bootstrap.servers": kafka.bootstrap_servers, ...})
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from confluent_kafka.admin import AdminClient

from consumer.devtools import procs
from consumer.devtools.jars import (
    DEFAULT_CACHE_DIR,
    KAFKA_VERSION,
    LOG4J_CONFIG,
    KafkaSetupError,
    ensure_jars,
)

__all__ = ["KAFKA_VERSION", "KafkaSetupError", "LocalKafka", "ensure_jars", "random_cluster_id"]


DEFAULT_JVM_ARGS: tuple[str, ...] = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
"""Start-up over peak speed: C1-only JIT and the serial GC roughly halve the CPU a broker
burns while booting, which is what dominates on a busy 2-core CI machine."""


def random_cluster_id() -> str:
    """Return a KRaft cluster id (22-char URL-safe base64 of a random UUID, like Kafka's own)."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):  # Kafka avoids ids that look like CLI flags
            return cid


class LocalKafka:
    """Own one local broker process from ``start()`` to ``stop()`` (also a context manager).

    Ports are picked free on 127.0.0.1 unless given. With ``die_with_parent`` (the default)
    the JVM is killed by the kernel if this Python process dies; the CLI's detached mode
    turns that off and calls :meth:`detach` so the broker survives the CLI.
    """

    def __init__(
        self,
        port: int | None = None,
        controller_port: int | None = None,
        data_dir: Path | str | None = None,
        version: str = KAFKA_VERSION,
        cache_dir: Path | str = DEFAULT_CACHE_DIR,
        heap: str = "512m",
        startup_timeout: float = 60.0,
        die_with_parent: bool = True,
        extra_properties: dict[str, str] | None = None,
        jvm_args: Sequence[str] = DEFAULT_JVM_ARGS,
    ) -> None:
        self.version = version
        self.cache_dir = Path(cache_dir)
        self.heap = heap
        self.startup_timeout = startup_timeout
        self.die_with_parent = die_with_parent
        self.extra_properties = dict(extra_properties or {})
        self.jvm_args = list(jvm_args)
        self._fixed_port = port
        self._fixed_controller_port = controller_port
        self.port = port or 0
        self.controller_port = controller_port or 0
        self._given_data_dir = Path(data_dir).resolve() if data_dir is not None else None
        self.data_dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._jvm: list[str] = []

    # -- public API -------------------------------------------------------------------
    @property
    def bootstrap_servers(self) -> str:
        """The ``host:port`` clients connect to; valid once :meth:`start` has returned."""
        if self._proc is None:
            raise KafkaSetupError("broker not started")
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """PID of the broker JVM (also its process-group id), or None when not running."""
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path | None:
        """The broker's log4j file (WARN and above, plus the 'started' line)."""
        return self.data_dir / "logs" / "server.log" if self.data_dir else None

    def ensure_jars(self) -> Path:
        """Resolve this broker version's jars with Maven unless cached; return the libs dir."""
        return ensure_jars(self.version, self.cache_dir)

    def start(self) -> LocalKafka:
        """Format storage, launch the JVM and block until an AdminClient sees the broker.

        Raises :class:`KafkaSetupError` (with the broker log's tail) if it is not ready
        within ``startup_timeout`` seconds. Retries once when a port turned out to be taken
        (another process can grab a "free" port between our probe and the JVM's bind).
        """
        if self._proc is not None:
            return self
        libs = self.ensure_jars()
        for attempt in (1, 2):
            try:
                self._launch(libs)
                self._wait_ready()
                return self
            except KafkaSetupError as exc:
                tail = self._log_tail()
                self.stop()
                if attempt == 1 and "Address already in use" in tail:
                    continue
                raise KafkaSetupError(f"{exc}\n--- broker log tail ---\n{tail}") from None
        raise AssertionError("unreachable")

    def stop(self, grace: float = 20.0) -> None:
        """Terminate the broker (SIGTERM, then SIGKILL after ``grace`` s) and delete its data dir."""
        proc, self._proc = self._proc, None
        procs.unregister_cleanup(id(self))
        if proc is not None:
            procs.terminate_group(proc.pid, grace)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.data_dir is not None and self._given_data_dir is None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        elif self.data_dir is not None:
            for sub in ("kraft", "logs"):
                shutil.rmtree(self.data_dir / sub, ignore_errors=True)
        self.data_dir = None

    def kill(self) -> None:
        """SIGKILL the broker and keep its data (a crash); `restart` brings it back."""
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: the JVM and any helpers
            proc.wait(timeout=10)

    def restart(self) -> LocalKafka:
        """Start the broker again on the same ports and data directory (after `kill`)."""
        if self._proc is None:
            self._spawn()
            self._wait_ready()
        return self

    def detach(self) -> dict[str, Any]:
        """Give up ownership so the broker keeps running after we exit; return its state.

        Used by ``scripts/kafka_local.py start``; the returned dict is what ``stop`` needs.
        """
        if self._proc is None or self.data_dir is None:
            raise KafkaSetupError("broker not started")
        procs.unregister_cleanup(id(self))
        state = {
            "pid": self._proc.pid,
            "bootstrap_servers": self.bootstrap_servers,
            "controller_port": self.controller_port,
            "data_dir": str(self.data_dir),
            "log": str(self.log_path),
            "version": self.version,
        }
        self._proc = None
        return state

    def __enter__(self) -> LocalKafka:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- internals --------------------------------------------------------------------
    def _launch(self, libs: Path) -> None:
        self.port = self._fixed_port or procs.free_port()
        self.controller_port = self._fixed_controller_port or procs.free_port()
        while self.controller_port == self.port:
            self.controller_port = procs.free_port()
        if self._given_data_dir is not None:
            self.data_dir = self._given_data_dir
            self.data_dir.mkdir(parents=True, exist_ok=True)
        else:
            self.data_dir = Path(tempfile.mkdtemp(prefix="capi-relay-kafka-"))
        (self.data_dir / "logs").mkdir(exist_ok=True)
        props = self.data_dir / "server.properties"
        props.write_text(self.render_properties())
        java = shutil.which("java")
        if java is None:
            raise KafkaSetupError("Java ('java') is not on PATH; Kafka needs a JRE 17+")
        jvm = [java, f"-Xmx{self.heap}", "-Xms256m", *self.jvm_args, "-Djava.awt.headless=true",
               f"-Dlog4j2.configurationFile={LOG4J_CONFIG}", f"-Dkafka.logs.dir={self.data_dir / 'logs'}",
               "-cp", f"{libs}/*"]  # fmt: skip
        fmt = subprocess.run(
            [*jvm, "kafka.tools.StorageTool", "format", "-t", random_cluster_id(), "-c", str(props)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if fmt.returncode != 0:
            raise KafkaSetupError(f"storage format failed: {fmt.stdout}{fmt.stderr}")
        self._jvm = jvm
        self._spawn()

    def _spawn(self) -> None:
        """Start the JVM on the already formatted data directory."""
        assert self.data_dir is not None
        jvm, props = self._jvm, self.data_dir / "server.properties"
        with open(self.data_dir / "logs" / "stdout.log", "ab") as out:
            self._proc = subprocess.Popen(
                [*jvm, "kafka.Kafka", str(props)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=procs.die_with_parent_preexec() if self.die_with_parent else None,
            )  # fmt: skip
        procs.register_cleanup(id(self), self.stop)

    def render_properties(self) -> str:
        """Return the ``server.properties`` text: combined KRaft node, static single voter."""
        assert self.data_dir is not None
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir / "kraft"),
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "num.partitions": "1",
            "auto.create.topics.enable": "true",
            **self.extra_properties,
        }
        return "".join(f"{key}={value}\n" for key, value in props.items())

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        admin: AdminClient | None = None
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise KafkaSetupError(f"broker exited early with code {self._proc.returncode}")
            if procs.port_open(self.port):
                admin = admin or AdminClient({"bootstrap.servers": self.bootstrap_servers, "log_level": 0})
                try:
                    if admin.list_topics(timeout=2).brokers:
                        return
                except Exception:  # KafkaException while the broker finishes booting
                    pass
            time.sleep(0.2)
        raise KafkaSetupError(
            f"broker not ready after {self.startup_timeout:.0f}s on {self.bootstrap_servers}"
        )

    def _log_tail(self, lines: int = 30) -> str:
        """Last distinct log lines (a retry loop can repeat one warning thousands of times)."""
        kept: list[str] = []
        for name in ("server.log", "stdout.log"):
            path = self.data_dir / "logs" / name if self.data_dir else None
            if path is None or not path.is_file():
                continue
            previous = None
            for line in path.read_text(errors="replace").splitlines():
                message = line.split("] ", 1)[-1]  # drop the timestamp before comparing
                if message != previous:
                    kept.append(line)
                previous = message
        return "\n".join(kept[-lines:]) or "(no broker log)"
