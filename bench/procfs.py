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


def thread_cpu_seconds(pid: int | str = "self") -> dict[int, tuple[str, float]]:
    """Per thread of a process: thread id -> (thread name, user + system CPU seconds).

    Why: librdkafka's threads (fetching, producing, compressing) are invisible to py-spy, yet
    their CPU counts in the process's total; diffing two snapshots shows where it went."""
    ticks = os.sysconf("SC_CLK_TCK")
    out: dict[int, tuple[str, float]] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat", encoding="ascii", errors="replace") as fh:
                head, _, tail = fh.read().rpartition(")")
        except OSError:
            continue
        fields = tail.split()
        out[int(tid)] = (head.partition("(")[2], (int(fields[11]) + int(fields[12])) / ticks)
    return out


def thread_cpu_delta(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
) -> dict[str, float]:
    """CPU seconds spent between two snapshots, summed per thread name (largest first)."""
    spent: dict[str, float] = {}
    for tid, (name, cpu) in after.items():
        delta = cpu - before.get(tid, (name, 0.0))[1]
        if delta > 0:
            spent[name] = round(spent.get(name, 0.0) + delta, 3)
    return dict(sorted(spent.items(), key=lambda kv: -kv[1]))
