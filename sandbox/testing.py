"""Helpers for tests, the demo and the benchmark.

* `running_sandbox(...)` — async context manager, the app in this event loop on a free
  127.0.0.1 port; direct access to the recorded state.
* `sandbox_process(...)` — sync context manager, `python -m sandbox` as a child process
  (for kill tests and the benchmark); talks to the admin API over HTTP with urllib.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from sandbox.admin import RUNTIME_KEY
from sandbox.app import build_app, start_site
from sandbox.config import SandboxConfig, config_from_mapping
from sandbox.recorder import SandboxState
from sandbox.runtime import Runtime

READY_PREFIX = "sandbox listening on "


@dataclass
class SandboxHandle:
    """An in-process sandbox: its URLs, recorded state and live fault control."""

    base_url: str
    app: web.Application

    @property
    def runtime(self) -> Runtime:
        """The live runtime (faults, config, recorders)."""
        return self.app[RUNTIME_KEY]

    @property
    def state(self) -> SandboxState:
        """Recorded data: `.stats()`, `.events(slug)`, `.count(slug, event_id)`, `.latency(slug)`."""
        return self.runtime.state

    def url_for(self, slug: str) -> str:
        """The `base_url` a connector uses in place of the platform host, e.g. `.../meta`."""
        return f"{self.base_url}/{slug}"

    def set_faults(self, platform: str, **settings: Any) -> dict[str, Any]:
        """Merge fault settings for one platform (or `"*"` for all)."""
        return self.runtime.apply_faults({platform: settings})

    def reset(self, faults: bool = False) -> None:
        """Forget recorded data (and optionally restore the start-up faults)."""
        self.state.reset()
        if faults:
            self.runtime.reset_faults()


@asynccontextmanager
async def running_sandbox(
    faults: dict[str, Any] | None = None,
    seed: int = 0,
    *,
    config: SandboxConfig | dict[str, Any] | None = None,
) -> AsyncIterator[SandboxHandle]:
    """Run the sandbox in the current event loop on a free port; stop it on exit.

    `faults` is `{platform|"*": {setting: value}}`; `config` (optional) may also set tokens.
    """
    cfg = config if isinstance(config, SandboxConfig) else config_from_mapping(config)
    if faults:
        cfg.faults = {**cfg.faults, **faults}
    app = build_app(cfg, seed=seed)
    runner, port = await start_site(app, "127.0.0.1", 0)
    try:
        yield SandboxHandle(base_url=f"http://127.0.0.1:{port}", app=app)
    finally:
        await runner.cleanup()


@dataclass
class SandboxProcessHandle:
    """A sandbox child process, driven over its admin API."""

    base_url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def url_for(self, slug: str) -> str:
        """The `base_url` a connector uses for platform `slug`."""
        return f"{self.base_url}/{slug}"

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base_url}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def stats(self) -> dict[str, dict[str, Any]]:
        """`GET /_sandbox/stats`."""
        result: dict[str, dict[str, Any]] = self._call("GET", "/_sandbox/stats")
        return result

    def events(self, platform: str) -> list[dict[str, Any]]:
        """`GET /_sandbox/events/{platform}`."""
        result: list[dict[str, Any]] = self._call("GET", f"/_sandbox/events/{platform}")
        return result

    def latency(self, platform: str) -> dict[str, Any]:
        """`GET /_sandbox/latency/{platform}`."""
        result: dict[str, Any] = self._call("GET", f"/_sandbox/latency/{platform}")
        return result

    def set_faults(self, platform: str, **settings: Any) -> dict[str, Any]:
        """`POST /_sandbox/faults` for one platform (or `"*"`)."""
        result: dict[str, Any] = self._call("POST", "/_sandbox/faults", {platform: settings})
        return result

    def reset(self, faults: bool = False) -> None:
        """`POST /_sandbox/reset`."""
        self._call("POST", "/_sandbox/reset", {"faults": faults})


@contextmanager
def sandbox_process(
    faults_path: str | Path | None = None,
    seed: int = 0,
    *,
    port: int = 0,
    startup_timeout_s: float = 20.0,
) -> Iterator[SandboxProcessHandle]:
    """Start `python -m sandbox` on 127.0.0.1, wait for its ready line, always terminate it."""
    cmd = [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", str(port), "--seed", str(seed)]
    if faults_path is not None:
        cmd += ["--config", str(faults_path)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        handle = SandboxProcessHandle(base_url=_wait_ready(process, startup_timeout_s), process=process)
        drain = threading.Thread(target=_drain, args=(process, handle.output), daemon=True)
        drain.start()
        yield handle
    finally:
        _terminate(process)


def _wait_ready(process: subprocess.Popen[str], timeout_s: float) -> str:
    """Read the child's output until the ready line; fail with its output otherwise."""
    assert process.stdout is not None
    lines: list[str] = []
    found: list[str] = []

    def reader() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith(READY_PREFIX):
                found.append(line[len(READY_PREFIX) :].strip())
                return

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    thread.join(timeout_s)
    if not found:
        _terminate(process)
        raise RuntimeError(f"sandbox did not start within {timeout_s}s; output:\n{''.join(lines)}")
    return found[0]


def _drain(process: subprocess.Popen[str], sink: list[str]) -> None:
    """Keep reading the child's output so it never blocks on a full pipe."""
    if process.stdout is None:
        return
    for line in process.stdout:
        if len(sink) < 1000:
            sink.append(line)


def _terminate(process: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL after 5 s; reap the child."""
    if process.poll() is None:
        process.terminate()
        deadline = time.monotonic() + 5.0
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if process.poll() is None:
            process.kill()
    process.wait()
