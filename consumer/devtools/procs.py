"""Process helpers for child services (the local Kafka JVM) that must never outlive us.

Why this exists: a leaked broker JVM holds ports, half a gigabyte of heap and a data
directory, and silently breaks the next test run on a 2-core machine. Three independent
safety nets are used together:

* the child runs in its own session/process group, so the whole group can be signalled;
* on Linux the child asks the kernel for ``PR_SET_PDEATHSIG`` = SIGKILL, so it dies even
  when the Python parent is SIGKILLed (no Python code runs then);
* :func:`register_cleanup` runs registered callbacks at interpreter exit and on
  SIGTERM/SIGHUP (which would otherwise skip ``atexit``).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

_PR_SET_PDEATHSIG = 1

_cleanups: dict[int, Callable[[], None]] = {}
_cleanups_lock = threading.Lock()
_hooks_installed = False


def free_port() -> int:
    """Return a currently free TCP port on 127.0.0.1 (the kernel picks it, so no guessing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """Tell whether something accepts TCP connections on ``host:port`` (cheap readiness probe)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def die_with_parent_preexec() -> Callable[[], None]:
    """Build a ``preexec_fn`` that makes the child get SIGKILL when this process dies.

    Why: ``atexit`` and signal handlers cannot run when the parent is SIGKILLed or crashes;
    the kernel's parent-death signal still fires. The PID check closes the race where the
    parent died between ``fork`` and ``prctl``. On non-Linux systems it is a no-op.
    """
    parent_pid = os.getpid()

    def _preexec() -> None:
        if not sys.platform.startswith("linux"):
            return
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:
            os._exit(1)

    return _preexec


def pid_alive(pid: int) -> bool:
    """Tell whether ``pid`` exists and is not a zombie (zombies are already dead for our purposes)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in ("Z", "X")


def live_state(state_file: Path, marker_key: str) -> dict[str, object] | None:
    """The state a detached server recorded in ``state_file`` (pid, address, …), if that server
    still runs: its pid is alive and its command line names ``state[marker_key]`` (its data or
    work directory), so a reused pid is not mistaken for it. None otherwise."""
    if not state_file.is_file():
        return None
    state: dict[str, object] = json.loads(state_file.read_text())
    pid = int(str(state["pid"]))
    if pid_alive(pid) and str(state[marker_key]) in cmdline(pid):
        return state
    return None


def cmdline(pid: int) -> str:
    """Return the command line of ``pid`` joined by spaces, or ``""`` if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def pids_with_arg(fragment: str) -> list[int]:
    """List live PIDs whose command line contains ``fragment`` (used to prove nothing leaked)."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and fragment in cmdline(int(entry.name)) and pid_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def terminate_group(pid: int, grace: float = 20.0) -> None:
    """Stop ``pid`` and its process group: SIGTERM, wait up to ``grace`` seconds, then SIGKILL.

    Why the group: the JVM may have helper children; signalling the group catches them all.
    Works for processes that are not our children too (e.g. the CLI's detached broker).
    """
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return
    own_group = pgid == os.getpgid(0)
    _signal(pid, pgid, signal.SIGTERM, own_group)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        _reap(pid)
        if not pid_alive(pid):
            break
        time.sleep(0.1)
    else:
        _signal(pid, pgid, signal.SIGKILL, own_group)
        deadline = time.monotonic() + 5.0
        while pid_alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.05)
    if not own_group:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)  # stragglers in the group, if any
    _reap(pid)


def _signal(pid: int, pgid: int, sig: signal.Signals, own_group: bool) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if own_group:
            os.kill(pid, sig)  # never signal our own group (that would hit pytest itself)
        else:
            os.killpg(pgid, sig)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def register_cleanup(key: int, callback: Callable[[], None]) -> None:
    """Run ``callback`` at interpreter exit or on SIGTERM/SIGHUP unless unregistered first."""
    global _hooks_installed
    with _cleanups_lock:
        _cleanups[key] = callback
        if _hooks_installed:
            return
        _hooks_installed = True
    atexit.register(run_cleanups)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                signal.signal(sig, _on_fatal_signal)


def unregister_cleanup(key: int) -> None:
    """Forget a callback registered with :func:`register_cleanup` (after a normal stop)."""
    with _cleanups_lock:
        _cleanups.pop(key, None)


def run_cleanups() -> None:
    """Run and forget every pending cleanup callback, ignoring their errors (best effort)."""
    with _cleanups_lock:
        pending = list(_cleanups.values())
        _cleanups.clear()
    for callback in pending:
        with contextlib.suppress(Exception):
            callback()


def _on_fatal_signal(signum: int, _frame: FrameType | None) -> None:
    run_cleanups()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
