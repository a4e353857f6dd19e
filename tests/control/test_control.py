"""Pause state and the admin endpoint: file pauses are a floor, decisions apply in order, the
endpoint refuses unknown platforms, file-paused resumes and requests without the token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from consumer.control.admin import build_admin_app, start_admin_server
from consumer.control.state import PauseRecord, PlatformControl


def test_file_pause_is_a_floor_and_decisions_apply_in_order() -> None:
    control = PlatformControl(["snap"])
    assert control.is_paused("snap") and not control.is_paused("meta")
    control.apply("snap", PauseRecord(False, at_ms=5))
    assert control.is_paused("snap")  # only a file change lifts it
    assert control.apply("meta", PauseRecord(True, "rotation", at_ms=10))
    assert control.pause_reason("meta") == "rotation"
    assert control.apply("meta", PauseRecord(False, at_ms=3))  # the topic's order wins, not clocks
    assert not control.is_paused("meta") and control.pause_reason("meta") is None
    assert control.snapshot()["snap"]["paused_in_config"] is True


@pytest.fixture
async def admin() -> AsyncIterator[tuple[str, PlatformControl]]:
    control = PlatformControl(["snap"])
    app = build_admin_app(control, ["meta", "snap"], token="s3cret")
    started = await start_admin_server("127.0.0.1", 0, app)
    assert started is not None
    runner, port = started
    try:
        yield f"http://127.0.0.1:{port}", control
    finally:
        await runner.cleanup()


async def test_admin_endpoint(admin: tuple[str, PlatformControl]) -> None:
    url, control = admin
    auth = {"Authorization": "Bearer s3cret"}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/platforms/meta/pause") as resp:
            assert resp.status == 401
        async with session.post(
            f"{url}/platforms/meta/pause", json={"reason": "planned"}, headers=auth
        ) as resp:
            assert resp.status == 200 and (await resp.json())["paused"] is True
        assert control.is_paused("meta") and control.pause_reason("meta") == "planned"
        async with session.post(f"{url}/platforms/tiktok/pause", headers=auth) as resp:
            assert resp.status == 404
        async with session.post(f"{url}/platforms/snap/resume", headers=auth) as resp:
            assert resp.status == 409 and "platforms.snap.paused" in (await resp.json())["error"]
        async with session.post(f"{url}/platforms/meta/resume", headers=auth) as resp:
            assert resp.status == 200 and (await resp.json())["paused"] is False
        async with session.get(f"{url}/control", headers=auth) as resp:
            assert set(await resp.json()) == {"meta", "snap"}
