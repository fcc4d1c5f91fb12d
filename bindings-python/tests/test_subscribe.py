"""Subscriptions (sync): history then live, exactly once and in order; closing and abandoning."""

from __future__ import annotations

import _thread
import gc
import threading
import time
import weakref
from typing import List

import pytest
from helpers import sigint_raises_keyboard_interrupt

import messagedb
from messagedb import Message, Namespace, Store


def write_later(ns: Namespace, stream: str, count: int, delay: float = 0.05) -> threading.Thread:
    def run() -> None:
        time.sleep(delay)
        for i in range(count):
            ns.write(stream, "Live", {"i": i})

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def take(messages: messagedb.Subscription, count: int) -> List[Message]:
    return [next(messages) for _ in range(count)]


def test_history_then_live_on_a_stream(ns: Namespace) -> None:
    for i in range(3):
        ns.write("account-1", "Past", {"i": i})
    with ns.subscribe(stream="account-1") as messages:
        assert [m.type for m in take(messages, 3)] == ["Past"] * 3
        writer = write_later(ns, "account-1", 3)
        live = take(messages, 3)
        writer.join()
    assert [(m.position, m.type) for m in live] == [(3, "Live"), (4, "Live"), (5, "Live")]


def test_a_stream_subscription_starts_at_a_position(ns: Namespace) -> None:
    for i in range(5):
        ns.write("account-1", "Past", {"i": i})
    with ns.subscribe(stream="account-1", position=3) as messages:
        assert [m.position for m in take(messages, 2)] == [3, 4]


def test_category_and_all_subscriptions(ns: Namespace) -> None:
    ns.write("account-1", "Opened", {})
    ns.write("audit-1", "Checked", {})
    ns.write("account-2", "Opened", {})
    with ns.subscribe(category="account") as accounts, ns.subscribe(all=True, position=2) as everything:
        assert [m.stream_name for m in take(accounts, 2)] == ["account-1", "account-2"]
        assert [m.global_position for m in take(everything, 2)] == [2, 3]
        ns.write("account-3", "Opened", {})
        assert next(accounts).stream_name == "account-3"
        assert next(everything).global_position == 4


def test_a_consumer_group_member_gets_its_share(ns: Namespace) -> None:
    for i in range(10):
        ns.write(f"account-{i}", "Opened", {})
    expected = [m.global_position for m in ns.get_category("account", consumer_group=(1, 3))]
    with ns.subscribe(category="account", consumer_group=(1, 3)) as messages:
        assert [m.global_position for m in take(messages, len(expected))] == expected


def test_exactly_once_in_order_while_writers_write(ns: Namespace) -> None:
    ns.write_batch("account-1", [{"type": "Past", "data": {}}] * 50)
    writers = [write_later(ns, f"account-{k}", 50, delay=0.0) for k in range(2, 5)]
    with ns.subscribe(category="account") as messages:
        seen = [m.global_position for m in take(messages, 200)]
    for writer in writers:
        writer.join()
    assert seen == list(range(1, 201))


def test_closing_from_another_thread_ends_a_blocked_iteration(ns: Namespace) -> None:
    messages = ns.subscribe(stream="account-1")
    threading.Timer(0.1, messages.close).start()
    assert list(messages) == []
    assert messages.closed


def test_closing_the_store_ends_the_iteration(url: str) -> None:
    store = Store.open(url)
    messages = store.namespace("default").subscribe(all=True)
    threading.Timer(0.1, store.close).start()
    assert list(messages) == []
    with Store.open(url) as other:
        closed_first = other.namespace("default").subscribe(all=True)
        other.close()
        assert list(closed_first) == []


def test_an_abandoned_subscription_is_freed(ns: Namespace) -> None:
    ns.write("account-1", "Opened", {})
    for message in ns.subscribe(stream="account-1"):
        assert message.position == 0
        break
    messages = ns.subscribe(stream="account-1")
    ref = weakref.ref(messages)
    next(messages)
    del messages
    gc.collect()
    assert ref() is None


def test_the_with_block_closes(ns: Namespace) -> None:
    with ns.subscribe(stream="account-1") as messages:
        assert not messages.closed
    assert messages.closed
    with pytest.raises(StopIteration):
        next(messages)


def test_a_blocked_iteration_can_be_interrupted(ns: Namespace) -> None:
    # Ctrl-C while next() waits (GIL released): interrupt_main() only flags the signal, so the
    # KeyboardInterrupt comes out of next() only because the binding checks for signals while it
    # waits. Were it to stop checking, closing the subscription later ends the wait: the test then
    # fails (the subscription is closed, the interrupt came late) instead of hanging.
    with ns.subscribe(stream="account-1") as messages, sigint_raises_keyboard_interrupt():
        interrupt = threading.Timer(0.2, _thread.interrupt_main)
        give_up = threading.Timer(10, messages.close)
        started = time.monotonic()
        try:
            with pytest.raises(KeyboardInterrupt):
                interrupt.start()
                give_up.start()
                next(messages)
        finally:
            interrupt.cancel()
            give_up.cancel()
            interrupt.join()
            give_up.join()
        waited = time.monotonic() - started
        assert not messages.closed, f"next() ignored the interrupt until it was closed ({waited:.1f} s)"
        assert waited < 5, f"the interrupt ended next() only after {waited:.1f} s"
        ns.write("account-1", "After", {})
        assert next(messages).type == "After"
