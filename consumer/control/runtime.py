"""Starting and stopping the pause/resume machinery with the relay: the control topic read to
its end before any event is consumed, then followed; the admin endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Collection
from dataclasses import dataclass

from aiohttp import web

from consumer.config import Settings
from consumer.control.admin import build_admin_app, start_admin_server
from consumer.control.state import PlatformControl
from consumer.control.topic import ControlTopic, ControlTopicError, ensure_control_topic


def control_from_settings(settings: Settings) -> PlatformControl:
    """The pause state at start: the platforms the file pauses (the topic adds its decisions)."""
    return PlatformControl(slug for slug, p in settings.platforms.items() if p.paused)


@dataclass
class ControlRuntime:
    """What `start_control` started; `stop` undoes it."""

    topic: ControlTopic
    follower: asyncio.Task[None]
    admin: web.AppRunner | None = None
    admin_port: int | None = None

    async def stop(self) -> None:
        """Stop following, close the admin endpoint and the topic clients."""
        self.follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.follower
        if self.admin is not None:
            await self.admin.cleanup()
        await asyncio.to_thread(self.topic.close)


async def start_control(
    settings: Settings, control: PlatformControl, platforms: Collection[str]
) -> ControlRuntime:
    """Read every pause decision of this group, follow new ones, serve the admin endpoint.
    Raises `ControlTopicError` when the decisions cannot be read (the relay must not start:
    it might send a paused platform's events)."""
    client = settings.kafka.client_config()
    topic_name = settings.topics.control
    if settings.topics.create_missing:
        await asyncio.to_thread(ensure_control_topic, client, topic_name)
    topic = ControlTopic(client, topic_name, settings.kafka.group_id, control)
    try:
        await asyncio.to_thread(topic.load)
    except ControlTopicError:
        await asyncio.to_thread(topic.close)
        raise
    runtime = ControlRuntime(topic, asyncio.get_running_loop().create_task(topic.follow()))
    admin = settings.admin
    if admin.http_port is not None:
        token = os.environ.get(admin.token_env) if admin.token_env else None
        app = build_admin_app(control, platforms, topic, token)
        started = await start_admin_server(admin.http_host, admin.http_port, app)
        if started is not None:
            runtime.admin, runtime.admin_port = started
    return runtime
