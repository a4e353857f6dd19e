"""Fixtures for the chart tests: a helm binary (built from its Go module when missing) and a
renderer returning parsed manifests.

Why: the chart is validated offline; nothing is downloaded as a binary. Without helm and
without a Go toolchain to build it, the chart tests are skipped with that reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "capi-relay"
KUBE_VERSION = "1.31.0"

Render = Callable[..., list[dict[str, Any]]]


def _find_helm() -> str | None:
    for candidate in (os.environ.get("HELM"), str(ROOT / ".cache" / "bin" / "helm"), shutil.which("helm")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    if shutil.which("go") is None:
        return None
    try:
        done = subprocess.run(
            ["bash", str(ROOT / "scripts" / "helm_validate.sh"), "--ensure-helm"],
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    path = done.stdout.strip().splitlines()[-1] if done.returncode == 0 and done.stdout.strip() else ""
    return path if path and os.access(path, os.X_OK) else None


@pytest.fixture(scope="session")
def helm_bin() -> str:
    """Path of a helm v3 binary, or skip."""
    found = _find_helm()
    if found is None:
        pytest.skip("helm is not available and could not be built with `go install` (no Go toolchain?)")
    return found


def run_helm(helm: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`helm template` of the chart with extra arguments."""
    cmd = [
        helm,
        "template",
        "capi-relay",
        str(CHART),
        "--namespace",
        "capi",
        "--kube-version",
        KUBE_VERSION,
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="session")
def render(helm_bin: str) -> Render:
    """``render(*helm_args) -> [manifest, ...]``; fails the test if helm fails."""

    def _render(*args: str) -> list[dict[str, Any]]:
        done = run_helm(helm_bin, *args)
        assert done.returncode == 0, done.stderr
        return [doc for doc in yaml.safe_load_all(done.stdout) if doc]

    return _render
