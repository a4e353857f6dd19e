"""The `capi-relay` CLI: preview output and exit codes, clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from consumer.cli import main

EVENT = {
    "type": "purchase",
    "event_id": "ORD-1",
    "event_time": 1795075200000,
    "order_id": "ORD-1",
    "value": 129.9,
    "currency": "EUR",
    "user": {"email": " John_Smith@Gmail.com ", "phone": "(650) 555-1212"},
    "context": {
        "action_source": "WEBSITE",
        "page_url": "https://shop.example.com/ok",
        "ip_address": "203.0.113.7",
        "user_agent": "Mozilla/5.0",
    },
}


def test_preview_prints_the_request_with_tokens_redacted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(EVENT))
    assert main(["preview", "--platform", "meta", "--now", "2026-11-20T12:00:00Z", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "POST"
    assert "access_token=<redacted>" in out["url"]
    user = out["body"]["data"][0]["user_data"]
    assert user["em"] == ["62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"]
    assert "john_smith" not in json.dumps(out).lower()


def test_preview_invalid_event_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"type": "purchase", "event_id": "x"}))
    assert main(["preview", "--platform", "tiktok", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "event_time" in err


def test_preview_unknown_platform_and_bad_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "event.json"
    path.write_text("{not json")
    assert main(["preview", "--platform", "meta", str(path)]) == 2
    path.write_text(json.dumps(EVENT))
    assert main(["preview", "--platform", "nope", str(path)]) == 2
    assert "unknown platform" in capsys.readouterr().err


def test_run_with_invalid_config_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("delivery:\n  retry:\n    max_attempts: 0\n")
    assert main(["run", "--config", str(path)]) == 2
    assert "delivery.retry.max_attempts" in capsys.readouterr().err
