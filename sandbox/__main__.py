"""`python -m sandbox --host 127.0.0.1 --port 8080 [--config faults.yaml] [--seed N]`.

Runs the sandbox in its own process (benchmark, kill tests, demo) and prints exactly one
line, `sandbox listening on http://HOST:PORT`, once it accepts connections.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from sandbox.app import build_app, start_site
from sandbox.config import ConfigError, load_config


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--config", default=None, help="YAML: faults, tokens, developer_tokens, seed")
    parser.add_argument("--seed", type=int, default=None, help="seed for fault randomness (default 0)")
    return parser.parse_args(argv)


async def serve(host: str, port: int, config_path: str | None, seed: int | None) -> None:
    """Start, announce, and run until SIGTERM/SIGINT."""
    config = load_config(config_path)
    effective_seed = seed if seed is not None else (config.seed if config.seed is not None else 0)
    app = build_app(config, seed=effective_seed)
    runner, bound = await start_site(app, host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    print(f"sandbox listening on http://{host}:{bound}", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    try:
        asyncio.run(serve(args.host, args.port, args.config, args.seed))
    except ConfigError as exc:
        print(f"sandbox: invalid config: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
