"""Consumers (sync), the API around the guarantees: options and their checks, where a consumer
starts, positions set from outside, progress, the rules of ack and nack, Ctrl-C, and the end of
the store."""

from __future__ import annotations

import _thread
import json
import threading
import time
from typing import Callable, List

import pytest
from helpers import sigint_raises_keyboard_interrupt, wait_until

import messagedb
from messagedb import (
    ClosedError,
    InvalidRequestError,
    Message,
    Namespace,
    NamespaceNotFoundError,
    Store,
)


def test_identities_and_options_are_checked(ns: Namespace) -> None:
    for category, name in [("account-1", "n"), ("account", ""), ("account", "a b"), ("account", "x" * 129)]:
        with pytest.raises(InvalidRequestError):
            ns.consumer(category, name)
        with pytest.raises(InvalidRequestError):
            ns.consumer_position(category, name)
    bad_options = [
        {"consumer_group": (3, 3)},
        {"start": "middle"},
        {"start": 0},
        {"lease": -1.0},
        {"position_update_idle": float("nan")},
        {"retry_attempts": -1},
        {"on_error": "ignore"},
    ]
    for options in bad_options:
        with pytest.raises(InvalidRequestError):
            ns.consumer("account", "projector", **options)  # type: ignore[arg-type]
        with pytest.raises(InvalidRequestError):
            ns.consume("account", "projector", print, **options)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="unexpected keyword argument 'leese'"):
        ns.consumer("account", "projector", leese=1.0)  # type: ignore[call-arg]
    with pytest.raises(InvalidRequestError):
        ns.set_consumer_position("account", "projector", -1)
    with pytest.raises(InvalidRequestError):
        ns.settle_parked("account", "projector", 1, "forgotten")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError):
        ns.settle_parked("account", "projector", 1, "discarded")  # nothing parked there


def test_where_a_consumer_starts(ns: Namespace) -> None:
    for i in range(4):
        ns.write(f"account-{i}", "Opened", {})
    seen: List[int] = []
    with ns.consume("account", "from-end", lambda m: seen.append(m.global_position), start="end") as h:
        wait_until(lambda: h.active, "it opens, after the last message")
        later = ns.write("account-9", "Opened", {}).global_position
        wait_until(lambda: len(seen) == 1, "the new message is handled")
    assert seen == [later]
    with ns.consumer("account", "from-three", start=3) as consumer:
        assert next(consumer).global_position == 3
    ns.set_consumer_position("account", "rewound", 1)
    assert ns.consumer_position("account", "rewound") == 1
    with ns.consumer("account", "rewound", start="end") as consumer:
        assert next(consumer).global_position == 2, "a recorded position wins over start"


def test_the_position_stream_is_named_as_eventide_names_it(ns: Namespace) -> None:
    ns.write("account-1", "Opened", {})
    with ns.consumer("account", "projector") as consumer:
        next(consumer).ack()
    with ns.consumer("account", "projector", consumer_group=(0, 2)) as member:
        next(member).ack()
    recorded = ns.get_last("account:position-projector", type="Recorded")
    assert recorded is not None and recorded.data == {"position": 1}
    member_recorded = ns.get_last("account:position-projector_0_2", type="Recorded")
    assert member_recorded is not None and member_recorded.data == {"position": 1}


def test_progress(ns: Namespace) -> None:
    for i in range(5):
        ns.write(f"account-{i}", "Opened", {})
    ns.write("audit-1", "Checked", {})
    outside = ns.consumer_info("account", "projector")
    assert (outside.position, outside.head, outside.lag, outside.handled, outside.active) == (None, 6, 5, 0, False)
    with ns.consumer("account", "projector") as consumer:
        assert not consumer.active and not consumer.info().active
        for message in consumer:
            message.ack()
            if message.global_position == 3:
                break
        info = consumer.info()
        assert (info.position, info.lag, info.handled, info.parked, info.active) == (3, 2, 3, 0, True)
        assert consumer.active
    after = ns.consumer_info("account", "projector")
    assert (after.position, after.lag, after.handled, after.active) == (3, 2, 0, False)


def test_the_rules_of_ack_and_nack(ns: Namespace) -> None:
    ns.write("account-1", "Opened", {})
    ns.write("account-2", "Opened", {})
    consumer = ns.consumer("account", "projector", retry_attempts=1, retry_initial_delay=0.01)
    first = next(consumer)
    with pytest.raises(InvalidRequestError, match="not acknowledged"):
        next(consumer)
    assert first.nack("try again") == "retrying"
    again = next(consumer)
    assert again == first, "a failed message is handed out again"
    assert again.nack(ValueError("still no")) == "parked"
    second = next(consumer)
    assert second.global_position == 2
    second.ack()
    with pytest.raises(InvalidRequestError):
        second.ack()
    with pytest.raises(TypeError):
        second.nack(42)  # type: ignore[arg-type]
    consumer.close()
    consumer.close()  # again: nothing
    assert consumer.closed and list(consumer) == []
    with pytest.raises(ClosedError):
        second.ack()
    assert [p.error for p in ns.parked("account", "projector")] == ["ValueError: still no"]
    assert ns.consumer_position("account", "projector") == 2


def test_an_unacknowledged_message_is_handed_out_again_after_close(ns: Namespace) -> None:
    ns.write("account-1", "Opened", {})
    with ns.consumer("account", "projector") as consumer:
        assert next(consumer).global_position == 1  # not acknowledged
    assert ns.consumer_position("account", "projector") is None
    with ns.consumer("account", "projector") as consumer:
        assert next(consumer).global_position == 1


def test_ctrl_c_while_iterating_leaves_cleanly(ns: Namespace) -> None:
    ns.write("account-1", "Opened", {})
    ns.write("account-2", "Opened", {})
    handled: List[int] = []
    with sigint_raises_keyboard_interrupt():
        interrupt = threading.Timer(0.3, _thread.interrupt_main)
        try:
            with pytest.raises(KeyboardInterrupt):
                with ns.consumer("account", "projector") as consumer:
                    for message in consumer:  # the third wait is interrupted
                        handled.append(message.global_position)
                        message.ack()
                        if len(handled) == 2:
                            interrupt.start()
        finally:
            interrupt.cancel()
            interrupt.join()
    assert handled == [1, 2]
    assert consumer.closed
    assert ns.consumer_position("account", "projector") == 2, "recorded when leaving the with block"


def test_the_idle_recording(ns: Namespace) -> None:
    ns.write("account-1", "Opened", {})
    with ns.consume("account", "projector", lambda m: None, position_update_idle=0.2):
        wait_until(
            lambda: ns.consumer_position("account", "projector") == 1,
            "the position is recorded after 0.2 s without messages",
        )


def test_a_whole_namespace_consumer_skips_consumer_records(ns: Namespace) -> None:
    ns.write("account-1", "Opened", {})
    ns.write("audit-1", "Checked", {})
    seen: List[str] = []
    with ns.consume("", "everything", lambda m: seen.append(m.stream_name), position_update_interval=1):
        wait_until(lambda: len(seen) == 2, "both messages are handled")
        ns.write("account-2", "Opened", {})
        wait_until(lambda: len(seen) == 3, "the live one too")
    assert seen == ["account-1", "audit-1", "account-2"]
    assert ns.consumer_position("", "everything") is not None


def test_closing_the_store_ends_the_consumers(url: str) -> None:
    store = Store.open(url)
    ns = store.namespace("default")
    ns.write("account-1", "Opened", {})
    seen: List[Message] = []
    handle = ns.consume("account", "projector", seen.append)
    pull = ns.consumer("account", "other")
    next(pull).ack()
    wait_until(lambda: len(seen) == 1, "the message is handled")
    threading.Timer(0.1, store.close).start()
    assert list(pull) == [], "the waiting iteration ends when the store closes"
    handle.join(timeout=30)
    assert handle.done


def test_a_handler_may_stop_its_own_consumer(ns: Namespace) -> None:
    for i in range(3):
        ns.write(f"account-{i}", "Opened", {})
    seen: List[int] = []
    handles: List[messagedb.ConsumerHandle] = []

    def handler(message: Message) -> None:
        seen.append(message.global_position)
        wait_until(lambda: bool(handles), "the handle is there")
        handles[0].stop()

    handles.append(ns.consume("account", "projector", handler))
    handles[0].join(timeout=30)
    assert seen == [1]
    assert ns.consumer_position("account", "projector") == 1


def test_stop_gives_up_after_its_timeout(ns: Namespace) -> None:
    ns.write("account-1", "Opened", {})
    gate = threading.Event()
    entered = threading.Event()

    def stuck(message: Message) -> None:
        entered.set()
        gate.wait(60)

    handle = ns.consume("account", "projector", stuck)
    try:
        assert entered.wait(30)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            handle.stop(timeout=0.2)
        assert time.monotonic() - started < 10
        assert not handle.done
    finally:
        gate.set()
        handle.stop(timeout=30)
    assert ns.consumer_position("account", "projector") == 1


def test_message_db_reads_the_recorded_position_on_postgres(pg_database: Callable[[], str]) -> None:
    import psycopg

    url = pg_database()
    with Store.open(url) as store:
        ns = store.namespace("default")
        ns.write("account-1", "Opened", {})
        with ns.consumer("account", "projector") as consumer:
            next(consumer).ack()
    with psycopg.connect(url) as conn:
        conn.execute("SET search_path TO message_store")  # as Message DB's role has it
        row = conn.execute(
            "SELECT type, data FROM get_last_stream_message(%s, %s)",
            ("account:position-projector", "Recorded"),
        ).fetchone()
    assert row is not None
    assert (row[0], json.loads(row[1])) == ("Recorded", {"position": 1})


def test_a_store_error_that_ends_a_consumer_is_raised_by_join_and_stop(store: Store) -> None:
    store.create_namespace("doomed")
    ns = store.namespace("doomed")
    ns.write("account-1", "Opened", {})
    seen: List[Message] = []
    handle = ns.consume("account", "projector", seen.append)
    wait_until(lambda: len(seen) == 1, "the message is handled")
    store.delete_namespace("doomed")
    with pytest.raises(NamespaceNotFoundError):
        handle.join(timeout=30)
    assert handle.done
    with pytest.raises(NamespaceNotFoundError):
        handle.stop(timeout=30)
