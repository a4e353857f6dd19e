"""The `dlq` command group end to end through its argument parser: inspect's table, JSON and
masked records; usage errors exit with 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from consumer.dlq_ops.cli import standalone
from tests.conftest import NewTopicFactory
from tests.dlq_ops.conftest import dead_letter_for, sample_events, write_letters

pytestmark = pytest.mark.integration


def _config(tmp_path: Path, bootstrap: str, dlq: str) -> str:
    path = tmp_path / "relay.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap_servers": bootstrap},
                "topics": {"events": {"events.purchase": "purchase"}, "dlq": dlq},
                "routing": {"purchase": ["meta", "tiktok"]},
                "platforms": {
                    "meta": {"settings": {"base_url": "http://127.0.0.1:9/meta", "pixel_id": "1"}},
                    "tiktok": {"settings": {"base_url": "http://127.0.0.1:9/tiktok", "pixel_code": "C1"}},
                },
                "store": {"backend": "none"},
            }
        )
    )
    return str(path)


async def test_inspect_table_json_and_masked_records(
    kafka_bootstrap: str, new_topic: NewTopicFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dlq = new_topic()
    events = sample_events(3, types=("purchase",))
    events[0]["user"]["email"] = "john.doe@gmail.com"
    await write_letters(
        kafka_bootstrap,
        dlq,
        [
            dead_letter_for(events[0], "events.purchase", 0),
            dead_letter_for(events[1], "events.purchase", 1),
            dead_letter_for(
                events[2],
                "events.purchase",
                2,
                platform="tiktok",
                outcome="auth",
                error_code="40100",
                reason="token expired",
            ),
        ],
    )
    config = _config(tmp_path, kafka_bootstrap, dlq)

    assert standalone(["dlq", "inspect", "-c", config]) == 0
    table = capsys.readouterr().out
    assert f"{dlq}: 3 records" in table and "meta" in table and "40100" in table

    assert standalone(["dlq", "inspect", "-c", config, "--json", "--platform", "meta", "--show", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"] == 2 and data["by_platform"] == {"meta": 2}
    assert data["groups"][0]["reason"] == "503" and data["groups"][0]["age"] == "<1h"
    shown = data["records"][0]
    assert shown["event_id"] == events[0]["event_id"]
    assert shown["event"]["user"]["email"] == "j***@g***.com"
    assert "john.doe" not in json.dumps(data)


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert standalone(["dlq", "inspect", "-c", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read config" in capsys.readouterr().err
    config = tmp_path / "ok.yaml"
    config.write_text("store: {backend: none}\n")
    assert standalone(["dlq", "replay", "-c", str(config), "--since", "yesterday"]) == 2
    assert "cannot read time" in capsys.readouterr().err
