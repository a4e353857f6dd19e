"""Resolve Apache Kafka's broker jars with Maven into a local cache, once.

Why Maven: the machines have Java and Maven's default remote repository but neither an
Apache download mirror nor Docker, so the broker classpath is assembled from published
artifacts (see ``scripts/kafka/pom.xml``). The result is cached under
``.cache/kafka/<version>/libs`` and reused; a file lock keeps parallel test processes from
running Maven twice or reading a half-copied directory.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TextIO

from consumer.devtools.fetch_once import fetch_once

KAFKA_VERSION = "4.1.1"
"""Kafka release used by default; keep in sync with ``kafka.version`` in the POM."""

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE_DIR = REPO_ROOT / ".cache" / "kafka"
POM_DIR = REPO_ROOT / "scripts" / "kafka"
LOG4J_CONFIG = POM_DIR / "log4j2.yaml"

_COMPLETE_MARKER = ".complete"


class KafkaSetupError(RuntimeError):
    """Raised when the local broker cannot be provisioned or started; the message says why."""


def libs_dir(version: str = KAFKA_VERSION, cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """Return where the jars of ``version`` live (whether or not they are resolved yet)."""
    return cache_dir / version / "libs"


def jars_present(version: str = KAFKA_VERSION, cache_dir: Path = DEFAULT_CACHE_DIR) -> bool:
    """Tell whether a complete jar set for ``version`` is already cached."""
    return (cache_dir / version / _COMPLETE_MARKER).is_file() and any(
        libs_dir(version, cache_dir).glob("kafka_*.jar")
    )


def ensure_jars(
    version: str = KAFKA_VERSION,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    pom_dir: Path = POM_DIR,
    out: TextIO | None = None,
) -> Path:
    """Make sure the broker jars for ``version`` are cached and return their directory.

    Idempotent and safe to call concurrently from several processes: the first caller runs
    Maven (printing its progress to ``out``, stderr by default), the others wait on the lock
    and then find the jars present.
    """
    stream = out if out is not None else sys.stderr
    version_dir = cache_dir / version
    fetch_once(
        version_dir,
        lambda: jars_present(version, cache_dir),
        lambda: _run_maven(version, version_dir, pom_dir, stream),
        f"[kafka-local] waiting for another process resolving Kafka {version} jars",
        stream,
    )
    return libs_dir(version, cache_dir)


def _run_maven(version: str, version_dir: Path, pom_dir: Path, stream: TextIO) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaSetupError("Maven ('mvn') is not on PATH; it is needed once to fetch Kafka's jars")
    staging = version_dir / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [
        mvn, "-B", "-ntp", "-f", str(pom_dir / "pom.xml"),
        "dependency:copy-dependencies", "-DincludeScope=runtime",
        f"-Dkafka.version={version}", f"-DoutputDirectory={staging}",
    ]  # fmt: skip
    print(f"[kafka-local] resolving Kafka {version} jars with Maven (slow only the first time)", file=stream)
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    tail: list[str] = []
    for line in proc.stdout:
        tail = [*tail[-39:], line.rstrip()]
        if line.startswith("[INFO] Copying "):
            print(f"[kafka-local][mvn] got {line.split()[2]}", file=stream, flush=True)
        elif "ERROR" in line or "BUILD" in line:
            print(f"[kafka-local][mvn] {line.rstrip()}", file=stream, flush=True)
    if proc.wait() != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise KafkaSetupError(f"Maven failed (exit {proc.returncode}):\n" + "\n".join(tail))
    target = version_dir / "libs"
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    (version_dir / _COMPLETE_MARKER).write_text(f"{version}\n")
    count = len(list(target.glob("*.jar")))
    print(f"[kafka-local] {count} jars ready in {target} ({time.monotonic() - started:.1f}s)", file=stream)
