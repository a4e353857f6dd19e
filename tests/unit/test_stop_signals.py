"""A SIGTERM that arrives before the engine exists must still stop it cleanly (not kill -15)."""

from __future__ import annotations

import asyncio
import os
import signal

from consumer.stop_signals import StopSignals


def test_signal_before_bind_stops_as_soon_as_bound() -> None:
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        signals = StopSignals().install()
        os.kill(os.getpid(), signal.SIGTERM)  # the process survives: the handler took it
        assert signals.requested == "SIGTERM"
        calls: list[str] = []

        async def main() -> None:
            signals.bind(asyncio.get_running_loop(), lambda: calls.append("stop"))
            await asyncio.sleep(0)

        asyncio.run(main())
        assert calls == ["stop"]
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def test_signal_after_bind_calls_stop_on_the_loop() -> None:
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        signals = StopSignals().install()
        calls: list[str] = []

        async def main() -> None:
            signals.bind(asyncio.get_running_loop(), lambda: calls.append("stop"))
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(10):
                await asyncio.sleep(0.01)

        asyncio.run(main())
        assert calls == ["stop"]
        os.kill(os.getpid(), signal.SIGTERM)  # loop closed: ignored, no exception, no exit
        assert signals.requested == "SIGINT"
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
