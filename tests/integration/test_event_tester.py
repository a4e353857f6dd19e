"""`preview --send` against the sandbox: the redacted request, the sandbox's answer and the
classified outcome; a live request is refused without --live."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from consumer.demo_settings import SANDBOX_DEVELOPER_TOKEN, SANDBOX_TOKEN, sandbox_platforms
from sandbox.testing import sandbox_process

pytestmark = pytest.mark.integration

SLUGS = ["meta", "google", "microsoft"]


def _event(tmp_path: Path) -> Path:
    path = tmp_path / "event.json"
    event = {
        "type": "purchase",
        "event_id": "ORD-TESTER-1",
        "event_time": int(time.time() * 1000) - 60_000,
        "order_id": "ORD-TESTER-1",
        "value": 129.9,
        "currency": "EUR",
        "user": {"email": "jane.doe@example.com", "phone": "+14155550123"},
        "click_ids": {"gclid": "Cj0KCQ-tester", "msclkid": "abc123tester"},
        "context": {
            "action_source": "WEBSITE",
            "page_url": "https://shop.example.com/ok",
            "ip_address": "203.0.113.7",
            "user_agent": "Mozilla/5.0",
        },
    }
    path.write_text(json.dumps(event))
    return path


def _run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CAPI_SANDBOX_TOKEN=SANDBOX_TOKEN, CAPI_SANDBOX_DEV_TOKEN=SANDBOX_DEVELOPER_TOKEN)
    return subprocess.run(
        [sys.executable, "-m", "consumer.cli", "preview", "--send", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_send_one_event_in_test_mode_and_refuse_live(tmp_path: Path) -> None:
    event = _event(tmp_path)
    with sandbox_process(seed=1) as sandbox:
        platforms = sandbox_platforms(sandbox.base_url, SLUGS)
        for slug in SLUGS:
            platforms[slug]["credentials"] = {"token_env": "CAPI_SANDBOX_TOKEN"}
        platforms["google"]["credentials"]["extra_env"] = {"developer-token": "CAPI_SANDBOX_DEV_TOKEN"}
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump({"routing": {"purchase": SLUGS}, "platforms": platforms}))

        refused = _run(config, "--platform", "meta", str(event))
        assert refused.returncode == 2 and "--test-event-code" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
        assert sandbox.events("meta") == []

        sent = _run(config, "--platform", "meta", "--test-event-code", "TEST123", str(event))
        assert sent.returncode == 0, sent.stderr
        report = json.loads(sent.stdout)
        assert report["test"] is True and report["outcome"]["kind"] == "delivered"
        assert report["request"]["body"]["test_event_code"] == "TEST123"
        assert "access_token=<redacted>" in report["request"]["url"]
        assert report["response"]["status"] == 200 and report["response"]["body"]["events_received"] == 1
        assert SANDBOX_TOKEN not in sent.stdout and "jane.doe" not in sent.stdout

        google = _run(config, "--platform", "google", str(event))
        assert google.returncode == 0, google.stderr
        report = json.loads(google.stdout)
        assert report["test"] is True and report["request"]["body"]["validateOnly"] is True
        assert SANDBOX_TOKEN not in google.stdout and SANDBOX_DEVELOPER_TOKEN not in google.stdout

        live = _run(config, "--platform", "microsoft", str(event))
        assert live.returncode == 2 and "--live" in live.stderr
        sent_live = _run(config, "--platform", "microsoft", "--live", str(event))
        assert sent_live.returncode == 0, sent_live.stderr
        assert json.loads(sent_live.stdout)["test"] is False
        assert [e["event_id"] for e in sandbox.events("microsoft")] == ["ORD-TESTER-1"]
