"""Subscriptions (asyncio): history then live, exactly once and in order; closing, cancelling."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from typing import List

import pytest

from messagedb import AsyncNamespace, AsyncStore, AsyncSubscription, Message


async def take(messages: AsyncSubscription, count: int) -> List[Message]:
    return [await messages.__anext__() for _ in range(count)]


async def write_later(ns: AsyncNamespace, stream: str, count: int, delay: float = 0.05) -> None:
    await asyncio.sleep(delay)
    for i in range(count):
        await ns.write(stream, "Live", {"i": i})


async def test_history_then_live_on_a_stream(ans: AsyncNamespace) -> None:
    for i in range(3):
        await ans.write("account-1", "Past", {"i": i})
    async with await ans.subscribe(stream="account-1") as messages:
        assert [m.type for m in await take(messages, 3)] == ["Past"] * 3
        writer = asyncio.create_task(write_later(ans, "account-1", 3))
        live = await take(messages, 3)
        await writer
    assert [(m.position, m.type) for m in live] == [(3, "Live"), (4, "Live"), (5, "Live")]


async def test_async_for_with_break(ans: AsyncNamespace) -> None:
    await ans.write("account-1", "Opened", {})
    await ans.write("account-2", "Opened", {})
    seen = []
    async for message in await ans.subscribe(category="account"):
        seen.append(message.stream_name)
        if len(seen) == 2:
            break
    assert seen == ["account-1", "account-2"]


async def test_category_all_and_consumer_group(ans: AsyncNamespace) -> None:
    for i in range(10):
        await ans.write(f"account-{i}", "Opened", {})
    expected = [m.global_position for m in await ans.get_category("account", consumer_group=(0, 2))]
    async with await ans.subscribe(category="account", consumer_group=(0, 2)) as mine:
        assert [m.global_position for m in await take(mine, len(expected))] == expected
    async with await ans.subscribe(all=True, position=9) as everything:
        assert [m.global_position for m in await take(everything, 2)] == [9, 10]


async def test_exactly_once_in_order_while_writers_write(ans: AsyncNamespace) -> None:
    await ans.write_batch("account-1", [{"type": "Past", "data": {}}] * 50)
    writers = [asyncio.create_task(write_later(ans, f"account-{k}", 50, 0.0)) for k in range(2, 5)]
    async with await ans.subscribe(category="account") as messages:
        seen = [m.global_position for m in await take(messages, 200)]
    await asyncio.gather(*writers)
    assert seen == list(range(1, 201))


async def test_a_cancelled_wait_loses_no_message(ans: AsyncNamespace) -> None:
    async with await ans.subscribe(stream="account-1") as messages:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(messages.__anext__(), 0.1)
        await ans.write("account-1", "First", {})
        assert (await messages.__anext__()).type == "First"


async def test_a_wait_cancelled_as_the_message_comes_loses_it_not(ans: AsyncNamespace) -> None:
    # Each message is waited for with a timeout that starts too short and grows until it is long
    # enough, so that some expire just as the message comes: it must stay for the next __anext__.
    for i in range(300):
        await ans.write(f"account-{i % 3}", "Past", {"i": i})
    got: List[int] = []
    timeouts = tries = 0
    async with await ans.subscribe(category="account") as messages:
        started = time.monotonic()
        while len(got) < 300:
            assert time.monotonic() - started < 60, f"stuck after {len(got)} messages"
            try:
                message = await asyncio.wait_for(messages.__anext__(), min(0.00002 * 2**tries, 1.0))
            except asyncio.TimeoutError:
                timeouts += 1
                tries += 1
                continue
            tries = 0
            got.append(message.global_position)
    assert got == list(range(1, 301))
    assert timeouts > 0


async def test_aclose_ends_a_waiting_iteration(ans: AsyncNamespace) -> None:
    messages = await ans.subscribe(stream="account-1")

    async def drain() -> List[Message]:
        return [m async for m in messages]

    waiting = asyncio.create_task(drain())
    await asyncio.sleep(0.05)
    await messages.aclose()
    assert await asyncio.wait_for(waiting, 5) == []
    assert messages.closed


async def test_closing_the_store_ends_the_iteration(url: str) -> None:
    store = await AsyncStore.open(url)
    messages = await store.namespace("default").subscribe(all=True)
    waiting = asyncio.ensure_future(messages.__anext__())
    await asyncio.sleep(0.05)
    await store.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiting, 5)


async def test_an_abandoned_subscription_is_freed(ans: AsyncNamespace) -> None:
    await ans.write("account-1", "Opened", {})
    messages = await ans.subscribe(stream="account-1")
    ref = weakref.ref(messages)
    await messages.__anext__()
    del messages
    gc.collect()
    assert ref() is None
