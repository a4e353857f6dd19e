"""The local redis-server helper: starts, answers, restarts on the same port, leaves nothing behind."""

from __future__ import annotations

import os

import pytest
import redis

from consumer.devtools.redis_local import RedisServer


def test_start_restart_stop_leaves_no_process() -> None:
    try:
        server = RedisServer()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    with server:
        with redis.Redis.from_url(server.url) as client:
            assert client.ping()
            client.set("k", "v")
        port = server.port
        server.restart()
        assert server.port == port and server.running
        with redis.Redis.from_url(server.url) as client:
            assert client.get("k") is None  # no persistence
        pid = server._proc.pid if server._proc else -1
    assert not server.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_missing_binary_names_the_package() -> None:
    with pytest.raises(RuntimeError, match="apt-get install redis-server"):
        RedisServer(binary="/nonexistent/redis-server")
