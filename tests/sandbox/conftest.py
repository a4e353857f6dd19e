"""Fixtures: an in-process sandbox and an HTTP client that returns (status, headers, json)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from sandbox.testing import SandboxHandle, running_sandbox


class Client:
    """Tiny JSON client bound to one sandbox."""

    def __init__(self, session: aiohttp.ClientSession, handle: SandboxHandle) -> None:
        self.session = session
        self.handle = handle

    async def post(
        self, slug: str, path: str, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None
    ) -> tuple[int, dict[str, str], Any]:
        data = raw if raw is not None else orjson.dumps(body)
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        async with self.session.post(self.handle.url_for(slug) + path, data=data, headers=hdrs) as resp:
            text = await resp.read()
            try:
                parsed = orjson.loads(text)
            except orjson.JSONDecodeError:
                parsed = text.decode()
            return resp.status, dict(resp.headers), parsed

    async def admin(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        url = f"{self.handle.base_url}/_sandbox/{path}"
        data = None if body is None else orjson.dumps(body)
        async with self.session.request(method, url, data=data) as resp:
            return resp.status, orjson.loads(await resp.read())


@pytest.fixture
async def sbx() -> AsyncIterator[SandboxHandle]:
    async with running_sandbox(seed=7) as handle:
        yield handle


@pytest.fixture
async def client(sbx: SandboxHandle) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as session:
        yield Client(session, sbx)
