"""Driving the relay child process: its config file, start, READY, RSS sampling, result.

Why sampled from outside: VmRSS every 0.5 s from /proc shows the shape of memory use while
the relay works through a backlog; the child's own VmHWM at the end gives the exact peak.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.procfs import status_kb
from bench.workload import TopicSet
from consumer.demo_settings import SANDBOX_DEVELOPER_TOKEN, SANDBOX_TOKEN, sandbox_platform_settings

TOKEN_ENV = "CAPI_BENCH_TOKEN"
DEV_TOKEN_ENV = "CAPI_BENCH_DEV_TOKEN"
PLATFORMS = ("meta", "google", "tiktok")


def relay_config(
    bootstrap: str,
    sandbox_url: str,
    topics: TopicSet,
    group: str,
    sqlite_path: str,
    max_connections: int = 32,
) -> dict[str, Any]:
    """The relay configuration of one phase: 3 platforms into the sandbox, SQLite store."""
    platforms: dict[str, Any] = {}
    for slug in PLATFORMS:
        creds: dict[str, Any] = {"token_env": TOKEN_ENV}
        if slug == "google":
            creds["extra_env"] = {"developer-token": DEV_TOKEN_ENV}
        platforms[slug] = {
            "settings": sandbox_platform_settings(slug, sandbox_url),
            "credentials": creds,
            "max_connections": max_connections,
        }
    return {
        "kafka": {"bootstrap_servers": bootstrap, "group_id": group},
        "topics": {"events": topics.events, "dlq": topics.dlq, "click_ids": topics.click_ids},
        "store": {"backend": "sqlite", "sqlite_path": sqlite_path},
        "routing": {t: list(PLATFORMS) for t in ("purchase", "lead", "qualified")},
        "platforms": platforms,
        "observability": {"http_port": None, "log_level": "WARNING"},
    }


@dataclass
class RelayRun:
    """One relay child: what it printed, its RSS samples and its final result."""

    process: subprocess.Popen[str]
    ready: threading.Event = field(default_factory=threading.Event)
    lines: list[str] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    result: dict[str, Any] | None = None

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("READY"):
                self.ready.set()
            elif line.startswith("RESULT "):
                self.result = json.loads(line[len("RESULT ") :])
            elif len(self.lines) < 200:
                self.lines.append(line)

    def _sample(self) -> None:
        while self.process.poll() is None:
            rss = status_kb(self.process.pid, "VmRSS")
            if rss:
                self.rss_kb.append(rss)
            time.sleep(0.5)

    def wait(self, timeout_s: float) -> dict[str, Any]:
        """Wait for the child to finish and return its RESULT (raises with its output if none)."""
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        time.sleep(0.2)  # let the reader thread take the last line
        if self.result is None:
            raise RuntimeError("relay child ended without a result:\n" + "".join(self.lines[-40:]))
        return self.result

    @property
    def peak_rss_mb(self) -> float:
        """The larger of the sampled VmRSS peak and the child's own VmHWM, in MB."""
        hwm = int((self.result or {}).get("vm_hwm_kb", 0))
        return max([hwm, *self.rss_kb]) / 1024


def start_relay(
    config: dict[str, Any],
    workdir: Path,
    name: str,
    expect: int,
    max_seconds: float = 600,
    wrap: list[str] | None = None,
    cwd: Path | None = None,
) -> RelayRun:
    """Write the config and start ``python -m bench.relay_child`` on it (behind ``wrap``, e.g.
    ``py-spy record -o relay.svg --``, to profile it); ``cwd`` picks the source tree to run
    (another checkout, for before/after comparisons)."""
    path = workdir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    cmd = [sys.executable, "-m", "bench.relay_child", "--config", str(path), "--expect", str(expect)]
    cmd += ["--max-seconds", str(max_seconds)]
    env = {**os.environ, TOKEN_ENV: SANDBOX_TOKEN, DEV_TOKEN_ENV: SANDBOX_DEVELOPER_TOKEN}
    if wrap:
        cmd = [*wrap, *cmd]
    process = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd or Path.cwd()
    )
    run = RelayRun(process)
    threading.Thread(target=run._read, daemon=True).start()
    threading.Thread(target=run._sample, daemon=True).start()
    return run
