"""Fetch a cached download once, even when several processes ask at the same time.

The Kafka jars and the Schema Registry's distribution are both resolved with Maven into
``.cache/<tool>/<version>/``; parallel test workers or a demo started beside the suite would
otherwise run Maven twice into the same directory. The first caller takes an exclusive file
lock in the version directory and fetches; the others wait on the lock and then find the
download present.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable
from pathlib import Path
from typing import TextIO


def fetch_once(
    version_dir: Path,
    present: Callable[[], bool],
    fetch: Callable[[], None],
    waiting: str,
    stream: TextIO,
) -> None:
    """Run ``fetch`` unless ``present()``; ``waiting`` is printed while another process fetches."""
    if present():
        return
    version_dir.mkdir(parents=True, exist_ok=True)
    with open(version_dir / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(waiting, file=stream)
            fcntl.flock(lock, fcntl.LOCK_EX)
        if not present():
            fetch()
