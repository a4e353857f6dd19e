"""Reading a process's memory and CPU time from /proc (Linux), without extra dependencies."""

from __future__ import annotations

import os


def status_kb(pid: int | str, field: str) -> int:
    """A ``kB`` field of /proc/<pid>/status (VmRSS, VmHWM); 0 when the process is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return 0
    return 0


def cpu_seconds(pid: int | str) -> float:
    """User + system CPU seconds of a process (all threads); 0.0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    # after the ")" the fields start at state (field 3): utime is field 14, stime field 15
    return (int(fields[11]) + int(fields[12])) / ticks
