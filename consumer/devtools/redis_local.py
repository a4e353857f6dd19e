"""A throwaway local Redis for tests, the benchmark and the demo.

Uses Debian's ``redis-server`` binary on a free 127.0.0.1 port, without persistence, and makes
sure the process never outlives us: it is stopped on ``__exit__``/``stop()``, at interpreter
exit, and (Linux) gets SIGKILL from the kernel if this Python process dies abruptly.
``kill()`` and ``restart()`` (same port) let tests simulate an outage.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from types import TracebackType

DEFAULT_BINARY = "/usr/bin/redis-server"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> Callable[[], None]:
    parent = os.getpid()

    def preexec() -> None:
        if sys.platform.startswith("linux"):
            ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
            if os.getppid() != parent:
                os._exit(1)

    return preexec


def _ping(port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """Context manager around one ``redis-server`` child process."""

    def __init__(
        self, binary: str | None = None, port: int | None = None, start_timeout_s: float = 10.0
    ) -> None:
        """Pick the binary (``/usr/bin/redis-server`` or ``PATH``) and a port; nothing starts yet."""
        path = binary or (DEFAULT_BINARY if os.path.exists(DEFAULT_BINARY) else shutil.which("redis-server"))
        if not path or not os.path.exists(path):
            raise RuntimeError(
                "redis-server not found; install it with `apt-get install redis-server` "
                "(the Debian package provides /usr/bin/redis-server)"
            )
        self.binary = path
        self.port = port or _free_port()
        self._timeout = start_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        """Whether the child process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> RedisServer:
        """Start the server and wait until it answers PING."""
        if self.running:
            return self
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "yes",
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
            "--dir",
            "/tmp",
        ]
        self._proc = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent(),
            start_new_session=True,
        )
        atexit.register(self.kill)
        deadline = time.monotonic() + self._timeout
        while not _ping(self.port):
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                self._proc = None
                raise RuntimeError(f"redis-server exited at start: {err.strip()[:500]}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"redis-server did not answer PING within {self._timeout}s")
            time.sleep(0.02)
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Terminate gracefully (SIGTERM), then SIGKILL if it lingers."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._reap()

    def kill(self) -> None:
        """SIGKILL the server at once (an abrupt outage)."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        self._reap()

    def _reap(self) -> None:
        if self._proc is not None and self._proc.stderr is not None:
            with contextlib.suppress(OSError):
                self._proc.stderr.close()
        self._proc = None
        with contextlib.suppress(Exception):
            atexit.unregister(self.kill)

    def restart(self) -> RedisServer:
        """Start again on the same port (data is gone: no persistence)."""
        self.stop()
        return self.start()

    def __enter__(self) -> RedisServer:
        """Start and return the running server."""
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Always stop, even when the block failed."""
        self.stop()
