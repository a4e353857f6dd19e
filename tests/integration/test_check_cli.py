"""`capi-relay check` and `run` stop a relay that cannot deliver at the door: exit 2 within
seconds, one line naming the culprit, never a traceback (subprocesses, real broker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from consumer.demo_settings import sandbox_platforms


def _config(tmp_path: Path, bootstrap: str, **overrides: Any) -> Path:
    prefix = f"chk{uuid.uuid4().hex[:6]}"
    platforms = sandbox_platforms("http://127.0.0.1:1", ["meta"])
    platforms["meta"]["credentials"] = {"token_env": "CAPI_CHECK_TOKEN"}
    config: dict[str, Any] = {
        "kafka": {"bootstrap_servers": bootstrap, "group_id": prefix},
        "topics": {"dlq": f"{prefix}.dlq", "receipts": f"{prefix}.receipts"},
        "store": {"backend": "sqlite", "sqlite_path": str(tmp_path / "var" / "relay.db")},
        "routing": {"purchase": ["meta"]},
        "platforms": platforms,
        "observability": {"http_port": None, "log_format": "json"},
    }
    for key, value in overrides.items():
        config[key] = value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _cli(*args: str, token: str | None = "t0ken", timeout: float = 60) -> tuple[int, str, str, float]:
    env = {k: v for k, v in os.environ.items() if k != "CAPI_CHECK_TOKEN"}
    if token is not None:
        env["CAPI_CHECK_TOKEN"] = token
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "consumer.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started


def _problem_lines(command: str, stderr: str) -> list[str]:
    """The problem lines: plain lines from `check`, the JSON log's ``problem`` field from `run`."""
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    if command == "check":
        return lines
    decoded = [json.loads(line) for line in lines]  # a JSON-format run writes only JSON lines
    return [d["problem"] for d in decoded if d.get("event") == "startup_check_failed"]


def test_check_passes_on_a_complete_configuration(tmp_path: Path, kafka_bootstrap: str) -> None:
    code, out, err, _ = _cli("check", "--config", str(_config(tmp_path, kafka_bootstrap)), "--json")
    assert code == 0, err
    assert json.loads(out)["ok"] is True


@pytest.mark.parametrize("command", ["check", "run"])
def test_unset_token_variable(tmp_path: Path, kafka_bootstrap: str, command: str) -> None:
    code, _, err, _ = _cli(command, "--config", str(_config(tmp_path, kafka_bootstrap)), token=None)
    assert code == 2
    assert _problem_lines(command, err) == [
        "platforms.meta.credentials.token_env: environment variable CAPI_CHECK_TOKEN is not set"
    ]


@pytest.mark.parametrize("command", ["check", "run"])
def test_unknown_settings_key(tmp_path: Path, kafka_bootstrap: str, command: str) -> None:
    platforms = sandbox_platforms("http://127.0.0.1:1", ["meta"])
    platforms["meta"]["settings"]["pixle_id"] = "1"
    platforms["meta"]["credentials"] = {"token_env": "CAPI_CHECK_TOKEN"}
    path = _config(tmp_path, kafka_bootstrap, platforms=platforms)
    code, _, err, _ = _cli(command, "--config", str(path))
    assert code == 2
    assert _problem_lines(command, err) == ["platforms.meta.settings.pixle_id: unknown setting"]


@pytest.mark.parametrize("command", ["check", "run"])
def test_unknown_platform_in_routing(tmp_path: Path, kafka_bootstrap: str, command: str) -> None:
    path = _config(tmp_path, kafka_bootstrap, routing={"purchase": ["meta"], "lead": ["metta"]})
    code, _, err, _ = _cli(command, "--config", str(path))
    assert code == 2
    problems = _problem_lines(command, err)
    assert len(problems) == 1 and problems[0].startswith("routing.lead: unknown platform 'metta'")


@pytest.mark.parametrize("command", ["check", "run"])
def test_unreachable_broker(tmp_path: Path, command: str) -> None:
    code, _, err, seconds = _cli(command, "--config", str(_config(tmp_path, "127.0.0.1:1")))
    assert code == 2
    assert _problem_lines(command, err) == [
        "kafka.bootstrap_servers: no broker at 127.0.0.1:1 answered within 5s"
    ]
    assert seconds < 30


def test_unknown_top_level_key_in_run(tmp_path: Path, kafka_bootstrap: str) -> None:
    path = _config(tmp_path, kafka_bootstrap)
    path.write_text(path.read_text() + "kafak: {}\n")
    code, _, err, _ = _cli("run", "--config", str(path))
    assert code == 2 and "Traceback" not in err
    assert err.strip() == "capi-relay: kafak: unknown setting"
