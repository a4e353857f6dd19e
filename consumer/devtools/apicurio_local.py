"""A real Schema Registry (Apicurio Registry, Confluent-compatible API) for tests and demos.

Why: the ``mock://`` registry client never shows what a real registry serves — schema
references, subject naming, compatibility checks, authentication, outages. Apicurio Registry
is published in Maven Central as a ready-to-run distribution, so, like the Kafka broker, it
needs Java and Maven but no Docker. It keeps everything in memory (its default storage), so
every start is a clean registry. The Confluent-compatible API is at :data:`CCOMPAT_PATH`.

Typical use::

    with LocalApicurio() as registry:
        client = SchemaRegistryClient({"url": registry.url})
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from consumer.devtools import procs
from consumer.devtools.fetch_once import fetch_once
from consumer.devtools.jars import REPO_ROOT
from consumer.devtools.java import JavaNotFoundError, find_java

APICURIO_VERSION = "3.3.3"
ARTIFACT = "io.apicurio:apicurio-registry-app:{version}:tar.gz:all"
DEFAULT_CACHE_DIR = REPO_ROOT / ".cache" / "apicurio"
CCOMPAT_PATH = "/apis/ccompat/v7"
JAVA_RELEASE = 21
"""Apicurio Registry 3 is built for Java 21."""

DEFAULT_JVM_ARGS: tuple[str, ...] = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto")
"""Start-up over peak speed, as for the broker: a test registry serves a few hundred requests."""

_COMPLETE_MARKER = ".complete"


class RegistrySetupError(RuntimeError):
    """The local registry cannot be provisioned or started; the message says why."""


def dist_dir(version: str = APICURIO_VERSION, cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """Where the unpacked distribution of ``version`` lives (whether or not it is there yet)."""
    return cache_dir / version / "dist"


def dist_present(version: str = APICURIO_VERSION, cache_dir: Path = DEFAULT_CACHE_DIR) -> bool:
    """Whether a complete unpacked distribution of ``version`` is cached."""
    return (cache_dir / version / _COMPLETE_MARKER).is_file() and (
        dist_dir(version, cache_dir) / "quarkus-run.jar"
    ).is_file()


def ensure_distribution(
    version: str = APICURIO_VERSION, cache_dir: Path = DEFAULT_CACHE_DIR, out: TextIO | None = None
) -> Path:
    """Fetch the distribution with Maven and unpack it once; return its directory.

    Safe to call from several processes at once: the first holds a file lock while Maven runs,
    the others wait and then find it present.
    """
    stream = out if out is not None else sys.stderr
    version_dir = cache_dir / version
    fetch_once(
        version_dir,
        lambda: dist_present(version, cache_dir),
        lambda: _fetch_and_unpack(version, version_dir, stream),
        f"[apicurio-local] waiting for another process fetching Apicurio {version}",
        stream,
    )
    return dist_dir(version, cache_dir)


def _fetch_and_unpack(version: str, version_dir: Path, stream: TextIO) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RegistrySetupError("Maven ('mvn') is not on PATH; it is needed once to fetch Apicurio Registry")
    staging = version_dir / "download"
    shutil.rmtree(staging, ignore_errors=True)
    artifact = ARTIFACT.format(version=version)
    cmd = [mvn, "-B", "-ntp", "dependency:copy", f"-Dartifact={artifact}", f"-DoutputDirectory={staging}"]
    print(f"[apicurio-local] fetching {artifact} with Maven (only the first time)", file=stream, flush=True)
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=version_dir)
    archives = list(staging.glob("*.tar.gz"))
    if proc.returncode != 0 or not archives:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        raise RegistrySetupError(f"Maven could not fetch {artifact} (exit {proc.returncode}):\n{tail}")
    unpacking = version_dir / "dist.partial"
    shutil.rmtree(unpacking, ignore_errors=True)
    with tarfile.open(archives[0]) as tar:
        tar.extractall(unpacking, filter="data")
    roots = [p.parent for p in unpacking.rglob("quarkus-run.jar")]
    if not roots:
        raise RegistrySetupError(f"{archives[0].name} has no quarkus-run.jar")
    target = version_dir / "dist"
    shutil.rmtree(target, ignore_errors=True)
    roots[0].rename(target)
    shutil.rmtree(unpacking, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)
    (version_dir / _COMPLETE_MARKER).write_text(f"{version}\n")
    print(f"[apicurio-local] ready in {target} ({time.monotonic() - started:.1f}s)", file=stream)


class LocalApicurio:
    """Own one Apicurio Registry process from ``start()`` to ``stop()`` (also a context manager).

    Its HTTP port and its management port are both bound to 127.0.0.1 (free ports unless
    given). With ``die_with_parent`` (the default) the kernel kills the JVM when this Python
    process dies; ``scripts/apicurio_local.py start`` turns that off and calls :meth:`detach`.
    ``persistent`` keeps the schemas in an H2 file in the work directory instead of memory, so
    :meth:`kill` then :meth:`start_again` (a registry outage, in tests) brings back the same schemas and ids.
    """

    def __init__(
        self,
        port: int | None = None,
        version: str = APICURIO_VERSION,
        cache_dir: Path | str = DEFAULT_CACHE_DIR,
        work_dir: Path | str | None = None,
        heap: str = "384m",
        startup_timeout: float = 90.0,
        die_with_parent: bool = True,
        properties: dict[str, str] | None = None,
        persistent: bool = False,
    ) -> None:
        self.version = version
        self.cache_dir = Path(cache_dir)
        self.heap = heap
        self.startup_timeout = startup_timeout
        self.die_with_parent = die_with_parent
        self.properties = dict(properties or {})
        self.persistent = persistent
        self._fixed_port = port
        self.port = port or 0
        self.management_port = 0
        self._given_work_dir = Path(work_dir).resolve() if work_dir is not None else None
        self.work_dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The Confluent-compatible base URL clients use; valid once :meth:`start` has returned."""
        if self._proc is None:
            raise RegistrySetupError("registry not started")
        return f"http://127.0.0.1:{self.port}{CCOMPAT_PATH}"

    @property
    def pid(self) -> int | None:
        """PID of the registry JVM (also its process-group id), or None when not running."""
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path | None:
        """The registry's console output."""
        return self.work_dir / "registry.log" if self.work_dir else None

    def system_properties(self) -> dict[str, str]:
        """The Quarkus settings we launch with: loopback only, given ports, quiet logs."""
        assert self.work_dir is not None
        return {
            "quarkus.http.host": "127.0.0.1",
            "quarkus.http.port": str(self.port),
            "quarkus.management.host": "127.0.0.1",
            "quarkus.management.port": str(self.management_port),
            "quarkus.log.level": "WARN",
            'quarkus.log.category."io.quarkus".level': "INFO",
            "java.io.tmpdir": str(self.work_dir / "tmp"),
            "vertx.cacheDirBase": str(self.work_dir / "vertx"),
            **(
                {"apicurio.datasource.url": f"jdbc:h2:file:{self.work_dir / 'db' / 'registry'}"}
                if self.persistent
                else {}
            ),
            **self.properties,
        }

    def start(self) -> LocalApicurio:
        """Launch the JVM and block until the Confluent-compatible API answers.

        Raises :class:`RegistrySetupError` (with the log's tail) if it does not within
        ``startup_timeout`` seconds; retries once when a port was taken meanwhile.
        """
        if self._proc is not None:
            return self
        try:
            java = find_java(JAVA_RELEASE)
        except JavaNotFoundError as exc:
            raise RegistrySetupError(f"Apicurio Registry: {exc}") from None
        dist = ensure_distribution(self.version, self.cache_dir)
        for attempt in (1, 2):
            try:
                self._launch(java, dist)
                self._wait_ready()
                return self
            except RegistrySetupError as exc:
                tail = self._log_tail()
                self.stop()
                if attempt == 1 and "already in use" in tail:
                    continue
                raise RegistrySetupError(f"{exc}\n--- registry log tail ---\n{tail}") from None
        raise AssertionError("unreachable")

    def stop(self, grace: float = 10.0) -> None:
        """Terminate the registry (SIGTERM, SIGKILL after ``grace`` s) and delete its work dir."""
        self._stop_process(grace)
        if self.work_dir is not None and self._given_work_dir is None:
            shutil.rmtree(self.work_dir, ignore_errors=True)
            self.work_dir = None

    def kill(self) -> None:
        """Stop the JVM only (the port and work directory stay ours): a registry outage."""
        self._stop_process(10.0)

    def start_again(self) -> None:
        """Start the JVM stopped by :meth:`kill` on the same port and work directory."""
        if self.work_dir is None:
            raise RegistrySetupError("registry never started")
        fixed, given = self._fixed_port, self._given_work_dir
        self._fixed_port, self._given_work_dir = self.port, self.work_dir
        try:
            self.start()
        finally:
            self._fixed_port, self._given_work_dir = fixed, given

    def _stop_process(self, grace: float) -> None:
        proc, self._proc = self._proc, None
        procs.unregister_cleanup(id(self))
        if proc is not None:
            procs.terminate_group(proc.pid, grace)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()

    def detach(self) -> dict[str, Any]:
        """Give up ownership so the registry keeps running after we exit; return its state."""
        if self._proc is None or self.work_dir is None:
            raise RegistrySetupError("registry not started")
        procs.unregister_cleanup(id(self))
        state = {
            "pid": self._proc.pid,
            "url": self.url,
            "port": self.port,
            "management_port": self.management_port,
            "work_dir": str(self.work_dir),
            "log": str(self.log_path),
            "version": self.version,
        }
        self._proc = None
        return state

    def __enter__(self) -> LocalApicurio:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _launch(self, java: Path, dist: Path) -> None:
        self.port = self._fixed_port or procs.free_port()
        self.management_port = procs.free_port()
        while self.management_port == self.port:
            self.management_port = procs.free_port()
        if self._given_work_dir is not None:
            self.work_dir = self._given_work_dir
        else:
            self.work_dir = Path(tempfile.mkdtemp(prefix="capi-relay-apicurio-"))
        (self.work_dir / "tmp").mkdir(parents=True, exist_ok=True)
        props = [f"-D{key}={value}" for key, value in self.system_properties().items()]
        cmd = [
            str(java),
            f"-Xmx{self.heap}",
            *DEFAULT_JVM_ARGS,
            *props,
            "-jar",
            str(dist / "quarkus-run.jar"),
        ]
        with open(self.work_dir / "registry.log", "wb") as out:
            self._proc = subprocess.Popen(
                cmd, cwd=self.work_dir, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=procs.die_with_parent_preexec() if self.die_with_parent else None,
            )  # fmt: skip
        procs.register_cleanup(id(self), self.stop)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise RegistrySetupError(f"registry exited early with code {self._proc.returncode}")
            if procs.port_open(self.port) and answers(self.url):
                return
            time.sleep(0.2)
        raise RegistrySetupError(f"registry not ready after {self.startup_timeout:.0f}s on port {self.port}")

    def _log_tail(self, lines: int = 30) -> str:
        path = self.log_path
        if path is None or not path.is_file():
            return "(no registry log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) or "(empty registry log)"


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether a Confluent-compatible registry at ``url`` lists its subjects."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/subjects", timeout=timeout) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False
