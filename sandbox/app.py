"""Builds the aiohttp application: every platform under `/<slug>`, admin under `/_sandbox/`.

Also owns start/stop so the CLI and the in-process test handle share one tested code path.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import web

from sandbox.admin import RUNTIME_KEY, add_admin_routes
from sandbox.config import SandboxConfig
from sandbox.pipeline import make_handler
from sandbox.platform import Platform
from sandbox.platforms import PLATFORMS
from sandbox.runtime import Runtime

MAX_BODY_BYTES = 64 * 1024 * 1024


def build_app(
    config: SandboxConfig | None = None,
    seed: int = 0,
    platforms: tuple[Platform, ...] = PLATFORMS,
    clock: Callable[[], float] = time.time,
) -> web.Application:
    """Create the sandbox application; its Runtime is at `app[RUNTIME_KEY]`."""
    runtime = Runtime(platforms, config, seed=seed, clock=clock)
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[RUNTIME_KEY] = runtime
    for platform in platforms:
        for endpoint in platform.endpoints:
            app.router.add_route(
                endpoint.method,
                f"/{platform.slug}{endpoint.path}",
                make_handler(runtime, platform.slug, endpoint),
            )
    add_admin_routes(app)

    async def _release_held(_: web.Application) -> None:
        runtime.closing.set()

    app.on_shutdown.append(_release_held)
    return app


async def start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve `app` on host:port (0 = any free port); returns the runner and the bound port."""
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    bound = int(runner.addresses[0][1]) if runner.addresses else port
    return runner, bound
