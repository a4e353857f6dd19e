"""Fast checks of the registry's pure parts (no JVM): which ``java`` is chosen, how the
registry is bound.

Why: a wrong ``java`` or a registry listening on every interface only shows up on another
machine; both are decided by plain code that is pinned here.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from consumer.devtools import java as java_mod
from consumer.devtools.apicurio_local import CCOMPAT_PATH, LocalApicurio


def _fake_jdk(root: Path, release: int) -> Path:
    """A JDK directory with a ``release`` file and a ``bin/java`` that cannot run anything."""
    (root / "bin").mkdir(parents=True)
    launcher = root / "bin" / "java"
    launcher.write_text("#!/bin/sh\nexit 1\n")
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    (root / "release").write_text(f'IMPLEMENTOR="Test"\nJAVA_VERSION="{release}.0.1"\n')
    return launcher


@pytest.fixture
def no_system_java(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Hide the machine's JDKs: PATH without java, an empty JVM directory to fill."""
    jvm_dir = tmp_path / "jvm"
    jvm_dir.mkdir()
    monkeypatch.setattr(java_mod, "JVM_DIRS", (jvm_dir,))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    return jvm_dir


def test_java_home_wins_when_recent_enough(
    no_system_java: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """JAVA_HOME is the user's explicit choice: taken first when it is 21 or newer."""
    home = _fake_jdk(tmp_path / "home-jdk", 21)
    _fake_jdk(no_system_java / "temurin-25-jdk", 25)
    monkeypatch.setenv("JAVA_HOME", str(home.parent.parent))
    assert java_mod.find_java(21) == home


def test_installed_jdks_are_searched_newest_first(
    no_system_java: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An old JAVA_HOME is skipped; the newest installed JDK is taken."""
    monkeypatch.setenv("JAVA_HOME", str(_fake_jdk(tmp_path / "old", 17).parent.parent))
    _fake_jdk(no_system_java / "java-17-openjdk", 17)
    _fake_jdk(no_system_java / "java-21-openjdk", 21)
    newest = _fake_jdk(no_system_java / "temurin-25-jdk", 25)
    assert java_mod.find_java(21) == newest


def test_no_suitable_java_is_one_clear_line(no_system_java: Path) -> None:
    """The error names the release needed, what to set, and what was found."""
    _fake_jdk(no_system_java / "java-17-openjdk", 17)
    with pytest.raises(java_mod.JavaNotFoundError) as caught:
        java_mod.find_java(21)
    message = str(caught.value)
    assert "\n" not in message
    assert "Java 21 or newer" in message and "JAVA_HOME" in message and "(17)" in message


def test_java_8_style_version_reads_as_8(tmp_path: Path) -> None:
    """``1.8.0`` is feature release 8, not 1."""
    launcher = _fake_jdk(tmp_path / "jdk8", 1)
    (tmp_path / "jdk8" / "release").write_text('JAVA_VERSION="1.8.0_392"\n')
    assert java_mod.feature_release(launcher) == 8


def test_registry_and_management_bind_loopback_only(tmp_path: Path) -> None:
    """Both Quarkus listeners on 127.0.0.1, temp files inside the work dir."""
    registry = LocalApicurio(port=18081, properties={"apicurio.extra": "x"})
    registry.work_dir = tmp_path
    registry.management_port = 18082
    props = registry.system_properties()
    assert props["quarkus.http.host"] == "127.0.0.1"
    assert props["quarkus.management.host"] == "127.0.0.1"
    assert props["quarkus.http.port"] == "18081"
    assert props["quarkus.management.port"] == "18082"
    assert props["java.io.tmpdir"].startswith(str(tmp_path))
    assert props["apicurio.extra"] == "x"
    assert CCOMPAT_PATH == "/apis/ccompat/v7"


def test_persistent_registry_keeps_its_schemas_in_the_work_dir(tmp_path: Path) -> None:
    """In memory by default; ``persistent`` puts the H2 database in the work dir (restartable)."""
    registry = LocalApicurio()
    registry.work_dir = tmp_path
    assert "apicurio.datasource.url" not in registry.system_properties()
    registry = LocalApicurio(persistent=True)
    registry.work_dir = tmp_path
    assert registry.system_properties()["apicurio.datasource.url"] == f"jdbc:h2:file:{tmp_path}/db/registry"
