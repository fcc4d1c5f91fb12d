"""asyncio: concurrent writers on one event loop share commits, so 8 concurrent tasks finish the
same writes on a file database sooner than one task writing them one after another."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from messagedb import AsyncNamespace, AsyncStore

WRITES = 400
TASKS = 8


async def write(ns: AsyncNamespace, stream: str, count: int) -> None:
    for i in range(count):
        await ns.write(stream, "Deposited", {"i": i})


async def test_eight_tasks_write_faster_than_one(tmp_path: Path) -> None:
    async with await AsyncStore.open(str(tmp_path / "store")) as store:
        ns = store.namespace("default")
        started = time.perf_counter()
        await write(ns, "single-1", WRITES)
        one_task = time.perf_counter() - started

        started = time.perf_counter()
        await asyncio.gather(*(write(ns, f"pooled-{k}", WRITES // TASKS) for k in range(TASKS)))
        eight_tasks = time.perf_counter() - started

        print(f"{WRITES} writes: 1 task {one_task:.3f}s, {TASKS} tasks {eight_tasks:.3f}s")
        assert one_task / eight_tasks > 1
        assert len(await ns.get_category("pooled", batch_size=-1)) == WRITES


async def test_the_event_loop_runs_while_a_call_waits(tmp_path: Path) -> None:
    async with await AsyncStore.open(str(tmp_path / "store")) as store:
        ns = store.namespace("default")
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        ticker = asyncio.create_task(tick())
        await write(ns, "account-1", 50)
        ticker.cancel()
        assert ticks > 1
