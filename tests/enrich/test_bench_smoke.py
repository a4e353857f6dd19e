"""The lookup benchmark still runs end to end (tiny sizes; marked slow)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "lookup_bench.py"


@pytest.mark.slow
def test_lookup_bench_runs() -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH), "--keys", "2000", "--seconds", "0.3"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "sqlite" in out and "redis" in out and "lookups/s" in out
