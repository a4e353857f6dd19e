"""Find a ``java`` launcher of at least a given feature release, without hard-coding a path.

Why: Apicurio Registry 3 needs Java 21+, while the machines' default ``java`` may be 17 (enough
for Kafka). The search order is the one a developer expects: ``$JAVA_HOME``, then the ``java`` on
``PATH``, then the JDKs installed side by side under the system's JVM directory (newest first).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

JVM_DIRS: tuple[Path, ...] = (Path("/usr/lib/jvm"), Path("/usr/java"), Path("/opt/java"))
"""Where Debian/Ubuntu, RPM-based systems and the Temurin images install JDKs side by side."""

_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')
_RELEASE = re.compile(r'^JAVA_VERSION="(\d+)(?:\.(\d+))?', re.MULTILINE)


class JavaNotFoundError(RuntimeError):
    """No suitable ``java`` was found; the message says which release is needed and where we looked."""


def feature_release(java: Path) -> int | None:
    """The feature release (17, 21, 25…) of the ``java`` launcher, or None if it cannot run.

    Reads the JDK's ``release`` file when there is one (no JVM start); otherwise runs
    ``java -version``. Java 8 and older report ``1.8``: their feature release is the minor part.
    """
    release = java.resolve().parent.parent / "release"
    match = _RELEASE.search(release.read_text(errors="replace")) if release.is_file() else None
    if match is None:
        try:
            proc = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        match = _VERSION.search(proc.stderr + proc.stdout)
        if match is None:
            return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def candidates() -> Iterator[Path]:
    """Every ``java`` launcher worth trying, in preference order, without duplicates."""
    seen: set[Path] = set()
    found: list[Path] = []
    home = os.environ.get("JAVA_HOME")
    if home:
        found.append(Path(home) / "bin" / "java")
    on_path = shutil.which("java")
    if on_path:
        found.append(Path(on_path))
    for jvm_dir in JVM_DIRS:
        if jvm_dir.is_dir():
            found.extend(sorted(jvm_dir.glob("*/bin/java"), key=_name_version, reverse=True))
    for java in found:
        if not os.access(java, os.X_OK):
            continue
        real = java.resolve()
        if real not in seen:
            seen.add(real)
            yield java


def _name_version(java: Path) -> tuple[int, str]:
    digits = re.search(r"(\d+)", java.parent.parent.name)
    return (int(digits.group(1)) if digits else 0, java.parent.parent.name)


def find_java(minimum: int) -> Path:
    """The first ``java`` of feature release ``minimum`` or newer; raises JavaNotFoundError."""
    tried: list[str] = []
    for java in candidates():
        release = feature_release(java)
        if release is not None and release >= minimum:
            return java
        tried.append(f"{java} ({release or '?'})")
    where = ", ".join(tried) if tried else "none on JAVA_HOME, PATH or " + ", ".join(map(str, JVM_DIRS))
    raise JavaNotFoundError(
        f"Java {minimum} or newer is needed; set JAVA_HOME to such a JDK (found: {where})"
    )
