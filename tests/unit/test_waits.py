"""Back-off waits end as soon as a stop is asked for (no timing assertions: event order only)."""

from __future__ import annotations

import asyncio

from consumer.waits import sleep_or_stop, sleep_unless


def test_sleep_or_stop_returns_true_when_stop_is_set_during_a_long_wait() -> None:
    async def main() -> tuple[bool, bool]:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_soon(stop.set)
        stopped = await sleep_or_stop(stop, 3600)
        return stopped, await sleep_or_stop(stop, 3600)

    assert asyncio.run(main()) == (True, True)


def test_sleep_or_stop_returns_false_when_the_wait_ran_out() -> None:
    assert asyncio.run(sleep_or_stop(asyncio.Event(), 0.0)) is False


def test_sleep_unless_watches_a_flag() -> None:
    async def main() -> bool:
        flag = {"stop": False}
        asyncio.get_running_loop().call_soon(flag.update, {"stop": True})
        return await sleep_unless(lambda: flag["stop"], 3600, tick_s=0.01)

    assert asyncio.run(main()) is True
    assert asyncio.run(sleep_unless(lambda: False, 0.0)) is False
