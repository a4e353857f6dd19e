"""Unit tests of the shared core: checks, recorder, config, fault decisions."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from sandbox.__main__ import main
from sandbox.checks import (
    hash_problem,
    is_fbc_or_fbp,
    is_sha256_hex,
    parse_google_datetime_ms,
    parse_rfc3339_ms,
)
from sandbox.config import ConfigError, FaultSettings, config_from_mapping
from sandbox.faults import FaultKind, is_rejected, pick_fault
from sandbox.recorder import LatencyHistogram, PlatformRecorder
from tests.sandbox.payloads import sha


def test_hash_checks() -> None:
    assert is_sha256_hex(sha("x"))
    assert not is_sha256_hex(sha("x").upper())
    assert hash_problem("a@b.c") is not None and "email" in (hash_problem("a@b.c") or "")
    assert hash_problem(5) is not None


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890", True),
        ("fb.1.1657051589577.IwZXh0bgNhZW0.Ag", True),
        ("fb.1.1558571054389.1098115397", True),
        ("fb.1.1558571054.1098115397", False),
        ("AbCdEf", False),
        (sha("fbc"), False),
    ],
)
def test_fbc_format(value: str, ok: bool) -> None:
    assert is_fbc_or_fbp(value) is ok


def test_time_parsers() -> None:
    assert parse_google_datetime_ms("2026-03-01 14:05:09+00:00") == parse_rfc3339_ms("2026-03-01T14:05:09Z")
    assert parse_google_datetime_ms("2026-03-01 14:05:09-08:00") == parse_rfc3339_ms("2026-03-01T22:05:09Z")
    assert parse_google_datetime_ms("2026-03-01 14:05:09") is None
    assert parse_rfc3339_ms("2025-08-08T17:18:44.291123456Z") == parse_rfc3339_ms("2025-08-08T17:18:44.291Z")
    assert parse_rfc3339_ms("2025-13-08T17:18:44Z") is None


def test_recorder_counts_and_latency() -> None:
    rec = PlatformRecorder("x")
    assert rec.accept("a", 1000, 1500) is False
    assert rec.accept("a", 1000, 9000) is True
    assert rec.accept("b", 1000, 2000) is False
    assert rec.count("a") == 2 and rec.count("zz") == 0
    stats = rec.stats()
    assert stats["accepted_events"] == 3 and stats["unique_events"] == 2 and stats["duplicate_events"] == 1
    assert rec.events()[0] == {"event_id": "a", "count": 2, "first_accepted_ms": 1500, "event_time_ms": 1000}
    assert rec.latency.summary()["p50_ms"] == 500 and rec.latency.summary()["max_ms"] == 1000


def test_histogram_percentiles_bounded() -> None:
    hist = LatencyHistogram()
    for ms in range(1, 101):
        hist.add(ms)
    assert hist.percentile(0.5) == 50 and hist.percentile(0.99) == 99
    hist.add(123_456_789)
    assert hist.summary()["max_ms"] == 123_000_000
    assert LatencyHistogram().percentile(0.5) is None


def test_fault_settings_validation() -> None:
    merged = FaultSettings().merged({"throttle_rate": "0.5", "outage": {"status": 502}})
    assert merged.throttle_rate == 0.5 and merged.outage is not None and merged.outage.status == 502
    with pytest.raises(ConfigError):
        FaultSettings().merged({"throttle_rate": 1.5})
    with pytest.raises(ConfigError):
        FaultSettings().merged({"unknown": 1})
    with pytest.raises(ConfigError):
        FaultSettings().merged({"outage": {"status": 503, "when": 1}})


def test_config_forms() -> None:
    bare = config_from_mapping({"meta": {"latency_ms": 5}})
    assert bare.faults == {"meta": {"latency_ms": 5}} and bare.tokens_for("meta") == ("sandbox-token",)
    full = config_from_mapping({"tokens": {"meta": "t1"}, "developer_tokens": ["d"], "seed": 4})
    assert full.tokens_for("meta") == ("t1",) and full.developer_tokens == ("d",) and full.seed == 4


def test_pick_fault_order_and_rng_use() -> None:
    rng = random.Random(1)
    assert pick_fault(FaultSettings(), rng, 0.0) is None
    assert rng.random() == random.Random(1).random()  # no draw when all rates are zero
    settings = FaultSettings().merged({"outage": {"status": 503, "until": 10}, "timeout_rate": 1.0})
    assert pick_fault(settings, rng, 5.0) is FaultKind.OUTAGE
    assert pick_fault(settings, rng, 11.0) is FaultKind.TIMEOUT


def test_is_rejected_is_stable_and_proportional() -> None:
    ids = [f"e{i}" for i in range(4000)]
    picked = [i for i in ids if is_rejected(i, 0.25, 0, "meta")]
    assert picked == [i for i in ids if is_rejected(i, 0.25, 0, "meta")]
    assert 800 < len(picked) < 1200
    assert not is_rejected("e1", 0.0, 0, "meta") and is_rejected("e1", 1.0, 0, "meta")


def test_cli_rejects_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("faults:\n  meta:\n    throttle_rate: 3\n")
    assert main(["--port", "0", "--config", str(bad)]) == 2
    assert "throttle_rate" in capsys.readouterr().err
