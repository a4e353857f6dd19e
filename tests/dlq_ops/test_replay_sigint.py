"""Acceptance: interrupting a replay (SIGINT) and running it again delivers each record once.

The replay runs as a real process (`python -m consumer.cli dlq replay`, i.e. `capi-relay dlq
replay`) against a sandbox process, slowed down with `--rate`; it is interrupted mid-way, then
the same command runs to the end, and the sandbox's per-event counts must all be exactly 1."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from sandbox.testing import sandbox_process
from tests.conftest import NewTopicFactory
from tests.dlq_ops.conftest import dead_letter_for, sample_events, write_letters

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N = 30


def test_sigint_then_rerun_delivers_each_record_once(
    kafka_bootstrap: str, new_topic: NewTopicFactory, tmp_path: Path
) -> None:
    dlq = new_topic()
    sources = {"purchase": "events.purchase", "lead": "events.lead"}
    events = sample_events(N)
    asyncio.run(
        write_letters(
            kafka_bootstrap, dlq, [dead_letter_for(e, sources[e["type"]], i) for i, e in enumerate(events)]
        )
    )
    with sandbox_process() as sbx:
        config = tmp_path / "relay.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "kafka": {"bootstrap_servers": kafka_bootstrap},
                    "topics": {"events": {t: e for e, t in sources.items()}, "dlq": dlq},
                    "routing": {"purchase": ["meta", "tiktok"], "lead": ["meta", "tiktok"]},
                    "platforms": {
                        "meta": {
                            "settings": {"base_url": sbx.url_for("meta"), "pixel_id": "1234567890"},
                            "credentials": {"token_env": "CAPI_TEST_META_TOKEN"},
                            "linger_ms": 20,
                        },
                        "tiktok": {
                            "settings": {"base_url": sbx.url_for("tiktok"), "pixel_code": "CTESTPIXEL01"}
                        },
                    },
                    "store": {"backend": "none"},
                }
            )
        )
        cmd = [
            sys.executable,
            "-m",
            "consumer.cli",
            "dlq",
            "replay",
            "-c",
            str(config),
            "--platform",
            "meta",
            "--rate",
            "8",
            "--no-progress",
            "--json",
        ]
        env = {**os.environ, "CAPI_TEST_META_TOKEN": "sandbox-token", "PYTHONUNBUFFERED": "1"}

        first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            deadline = time.monotonic() + 60
            while sbx.stats()["meta"]["accepted_events"] < 8:
                assert first.poll() is None, first.communicate()
                assert time.monotonic() < deadline, "replay made no progress"
                time.sleep(0.05)
            first.send_signal(signal.SIGINT)
            out, err = first.communicate(timeout=60)
        finally:
            if first.poll() is None:
                first.kill()
        assert first.returncode == 130, err
        interrupted = json.loads(out)
        assert interrupted["interrupted"] is True
        delivered_first = interrupted["totals"]["delivered"]
        assert 8 <= delivered_first < N

        second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
        assert second.returncode == 0, second.stderr
        done = json.loads(second.stdout)
        assert done["totals"]["delivered"] == N - delivered_first

        counts = {e["event_id"]: e["count"] for e in sbx.events("meta")}
        assert counts == {e["event_id"]: 1 for e in events}
        assert sbx.stats()["tiktok"]["requests"] == 0
