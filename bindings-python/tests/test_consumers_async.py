"""Consumers (asyncio), the "Must hold" of consumers.md on every backend, as test_consumers.py
checks them for the sync API; and what is particular to asyncio: async and sync handlers,
cancellation, the end of the event loop."""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path
from typing import Awaitable, Callable, Dict, List, Set, TypeVar

import pytest

from messagedb import (
    AsyncConsumer,
    AsyncConsumerHandle,
    AsyncConsumerMessage,
    AsyncNamespace,
    AsyncStore,
    InvalidRequestError,
    Message,
    NamespaceNotFoundError,
    Store,
)

T = TypeVar("T")


async def until(condition: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    """Waits (yielding to the loop) until ``condition`` is true; fails naming ``what``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.01)


async def until_equal(probe: Callable[[], Awaitable[object]], expected: object, what: str) -> None:
    """Waits until ``await probe()`` equals ``expected``; fails naming ``what`` past 20 s."""
    deadline = time.monotonic() + 20
    while (found := await probe()) != expected:
        if time.monotonic() > deadline:
            pytest.fail(f"not within 20 s: {what} (found {found!r})")
        await asyncio.sleep(0.01)


async def deadline(awaitable: Awaitable[T], timeout: float = 30.0) -> T:
    return await asyncio.wait_for(awaitable, timeout)


async def write(ns: AsyncNamespace, count: int) -> List[int]:
    return [(await ns.write(f"account-{i % 3}", "Opened", {"i": i})).global_position for i in range(count)]


async def take(consumer: AsyncConsumer, count: int) -> List[AsyncConsumerMessage]:
    taken = []
    for _ in range(count):
        message = await deadline(consumer.__anext__())
        await message.ack()
        taken.append(message)
    return taken


# 1. Restart after a clean stop, and after a crash.


async def test_a_restart_after_a_clean_stop_hands_out_nothing_twice(ans: AsyncNamespace) -> None:
    first = await write(ans, 5)
    seen: List[int] = []

    async def handler(message: Message) -> None:
        await asyncio.sleep(0)
        seen.append(message.global_position)

    async with await ans.consume("account", "projector", handler) as handle:
        await until(lambda: len(seen) == 5, "the first run handles the 5 messages")
    assert handle.done
    assert await ans.consumer_position("account", "projector") == first[-1]

    second = await write(ans, 3)
    again: List[int] = []
    async with await ans.consume("account", "projector", lambda m: again.append(m.global_position)):
        await until(lambda: len(again) == 3, "the second run (a sync handler) handles the new ones")
    assert (seen, again) == (first, second)


async def test_a_pull_consumer_resumes_after_a_clean_stop_and_after_a_crash(ans: AsyncNamespace) -> None:
    positions = await write(ans, 10)
    async with ans.consumer("account", "projector") as consumer:
        assert [m.global_position for m in await take(consumer, 2)] == positions[:2]
    assert consumer.closed
    crashed = ans.consumer("account", "projector", position_update_interval=3, lease=0.5)
    assert [m.global_position for m in await take(crashed, 5)] == positions[2:7]
    del crashed  # no aclose(): nothing more recorded
    gc.collect()
    await until_equal(  # written in the background
        lambda: ans.consumer_position("account", "projector"),
        positions[4],
        "the position of the third message is recorded",
    )
    async with ans.consumer("account", "projector", lease=0.5) as consumer:
        again = [m.global_position for m in await take(consumer, 5)]
    assert again == positions[5:], "handed out again from the recorded position, none skipped"


# 2. A consumer group.


async def test_a_consumer_group_of_three_handles_every_message_once(ans: AsyncNamespace) -> None:
    positions = [
        (await ans.write(f"account-{i % 7}", "Opened", {})).global_position for i in range(42)
    ]
    seen: Dict[int, List[Message]] = {member: [] for member in range(3)}
    handles = [
        await ans.consume("account", "projector", seen[member].append, consumer_group=(member, 3))
        for member in range(3)
    ]
    try:
        await until(lambda: sum(len(s) for s in seen.values()) >= 42, "the group handles 42 messages")
    finally:
        for handle in handles:
            await deadline(handle.stop())
    assert sorted(m.global_position for s in seen.values() for m in s) == positions
    members_of: Dict[str, Set[int]] = {}
    for member, messages in seen.items():
        assert messages, f"member {member} handled nothing"
        for m in messages:
            members_of.setdefault(m.stream_name, set()).add(member)
        for stream in {m.stream_name for m in messages}:
            in_stream = [m.position for m in messages if m.stream_name == stream]
            assert in_stream == sorted(in_stream), f"{stream} out of order"
    assert all(len(members) == 1 for members in members_of.values()), members_of


# 3. Retries, parking, replay, discard.


async def test_a_failing_message_is_parked_and_replayed(ans: AsyncNamespace) -> None:
    await ans.write("account-1", "Opened", {})
    bad = (await ans.write("account-2", "Broken", {})).global_position
    await ans.write("account-3", "Opened", {})
    tries: List[int] = []
    handled: List[int] = []

    async def handler(message: Message) -> None:
        if message.type == "Broken":
            tries.append(message.global_position)
            raise ValueError("cannot handle Broken")
        handled.append(message.global_position)

    async with await ans.consume(
        "account", "projector", handler, retry_attempts=1, retry_initial_delay=0.01
    ) as handle:
        await until(lambda: len(handled) == 2, "the consumer goes on after the broken message")
        assert (await handle.info()).parked == 1
    assert tries == [bad, bad]
    [parked] = await ans.parked("account", "projector")
    assert (parked.global_position, parked.error, parked.attempts) == (bad, "ValueError: cannot handle Broken", 2)
    assert await ans.parked_message(parked) == (await ans.get_stream("account-2"))[0]

    async def still_failing(message: Message) -> None:
        raise LookupError("again")

    result = await ans.replay_parked("account", "projector", still_failing)
    assert (result.replayed, [(p.global_position, e) for p, e in result.failed]) == (0, [(bad, "LookupError: again")])

    replayed: List[int] = []

    async def fixed(message: Message) -> None:
        replayed.append(message.global_position)

    result = await ans.replay_parked("account", "projector", fixed)
    assert (result.replayed, result.failed, replayed) == (1, [], [bad])
    assert await ans.parked("account", "projector") == []
    assert (await ans.consumer_info("account", "projector")).parked == 0


async def test_discarding_and_settling_parked_messages(ans: AsyncNamespace) -> None:
    for i in range(3):
        await ans.write(f"account-{i}", "Broken", {})
    async with ans.consumer("account", "auditor", retry_attempts=0) as consumer:
        for _ in range(3):
            message = await deadline(consumer.__anext__())
            assert await message.nack("no") == "parked"
    first = (await ans.parked("account", "auditor"))[0]
    await ans.settle_parked("account", "auditor", first.global_position, "replayed")
    assert len(await ans.parked("account", "auditor")) == 2
    with pytest.raises(InvalidRequestError):
        await ans.settle_parked("account", "auditor", first.global_position, "discarded")
    assert await ans.discard_parked("account", "auditor") == 2
    assert await ans.parked("account", "auditor") == []


# 4. One active instance; the standby takes over.


async def test_two_instances_never_both_hand_out_and_the_standby_takes_over(ans: AsyncNamespace) -> None:
    inside: List[str] = []
    overlaps: List[str] = []
    seen: Dict[str, List[int]] = {"a": [], "b": []}

    async def start(instance: str) -> AsyncConsumerHandle:
        async def handler(message: Message) -> None:
            if inside:
                overlaps.append(f"{inside[0]} and {instance}")
            inside.append(instance)
            await asyncio.sleep(0.001)
            seen[instance].append(message.global_position)
            inside.remove(instance)

        return await ans.consume("account", "projector", handler, lease=0.5)

    a = await start("a")
    await until(lambda: a.active, "the first instance becomes active")
    b = await start("b")
    first = await write(ans, 20)
    await until(lambda: len(seen["a"]) == 20, "the active instance handles the messages")
    assert not b.active and seen["b"] == [], "the standby hands out nothing"
    await deadline(a.stop())
    second = await write(ans, 10)
    await until(lambda: len(seen["b"]) == 10, "the standby takes over")
    assert b.active
    await deadline(b.stop())
    assert overlaps == []
    assert (seen["a"], seen["b"]) == (first, second)


async def test_stopping_a_standby(ans: AsyncNamespace) -> None:
    await ans.write("account-1", "Opened", {})
    async with ans.consumer("account", "projector") as active:
        await take(active, 1)
        standby = await ans.consume("account", "projector", lambda m: None)
        pull = ans.consumer("account", "projector")
        waiting = asyncio.ensure_future(pull.__anext__())
        await deadline(standby.stop())
        assert standby.done and not standby.active
        await deadline(pull.aclose())
        with pytest.raises(StopAsyncIteration):
            await deadline(waiting)


# 6. A slow handler never blocks writers.


async def test_a_slow_handler_does_not_block_writers(ans: AsyncNamespace) -> None:
    gate = asyncio.Event()
    handled: List[int] = []

    async def slow(message: Message) -> None:
        handled.append(message.global_position)
        await gate.wait()

    await ans.write("account-1", "Opened", {})
    async with await ans.consume("account", "projector", slow):
        await until(lambda: len(handled) == 1, "the handler starts on the first message")
        written = await deadline(write(ans, 200), timeout=20)
        assert handled == [1], "the handler is still on the first message"
        gate.set()
        await until(lambda: len(handled) == 201, "the consumer catches up")
    assert handled[1:] == written


# Particular to asyncio.


async def test_cancelling_a_waiting_anext_loses_no_message(ans: AsyncNamespace) -> None:
    async with ans.consumer("account", "projector") as consumer:
        for _ in range(5):
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(consumer.__anext__(), 0.05)
        written = await write(ans, 3)
        got = [m.global_position for m in await take(consumer, 3)]
    assert got == written


async def test_cancelling_anext_as_it_completes_loses_no_message(ans: AsyncNamespace) -> None:
    # Each message is waited for with a timeout that starts too short and grows until it is
    # long enough, so that some expire just as the message arrives: a message the core handed out
    # then never reaches Python, and must be handed out by the next __anext__.
    written = await write(ans, 300)
    got: List[int] = []
    timeouts = tries = 0
    async with ans.consumer("account", "projector") as consumer:
        started = time.monotonic()
        while len(got) < len(written):
            assert time.monotonic() - started < 60, f"stuck after {len(got)} messages"
            try:
                message = await asyncio.wait_for(consumer.__anext__(), min(0.00002 * 2**tries, 1.0))
            except asyncio.TimeoutError:
                timeouts += 1
                tries += 1
                continue
            tries = 0
            got.append(message.global_position)
            await message.ack()
    assert got == written
    assert timeouts > 0


async def test_ack_rules_and_info(ans: AsyncNamespace) -> None:
    await write(ans, 3)
    consumer = ans.consumer("account", "projector", retry_attempts=1, retry_initial_delay=0.01)
    assert not consumer.active
    first = await deadline(consumer.__anext__())
    with pytest.raises(InvalidRequestError):
        await consumer.__anext__()
    assert await first.nack(RuntimeError("x")) == "retrying"
    again = await deadline(consumer.__anext__())
    assert again == first
    await again.ack()
    info = await consumer.info()
    assert (info.position, info.handled, info.active) == (1, 1, True)
    await consumer.aclose()
    assert consumer.closed and not consumer.active
    assert await ans.consumer_position("account", "projector") == 1
    assert [m async for m in consumer] == []


async def test_a_store_error_that_ends_a_consumer_is_raised_by_await_and_stop(astore: AsyncStore) -> None:
    await astore.create_namespace("doomed")
    ns = astore.namespace("doomed")
    await ns.write("account-1", "Opened", {})
    seen: List[Message] = []
    handle = await ns.consume("account", "projector", seen.append)
    await until(lambda: len(seen) == 1, "the message is handled")
    await astore.delete_namespace("doomed")
    with pytest.raises(NamespaceNotFoundError):
        await deadline(handle)
    assert handle.done
    with pytest.raises(NamespaceNotFoundError):
        await deadline(handle.stop())


def test_the_end_of_the_event_loop_stops_a_consumer_cleanly(tmp_path: Path) -> None:
    url = str(tmp_path / "store")
    seen: List[int] = []

    async def main() -> None:
        # Neither the store nor the consumer is closed here: asyncio.run cancels the handle's task
        # as it ends, and the task stops the consumer.
        ns = (await AsyncStore.open(url)).namespace("default")
        await write(ns, 3)
        await ns.consume("account", "projector", lambda m: seen.append(m.global_position))
        await until(lambda: len(seen) == 3, "the messages are handled")

    asyncio.run(main())
    with Store.open(url) as store:
        assert store.namespace("default").consumer_position("account", "projector") == 3
