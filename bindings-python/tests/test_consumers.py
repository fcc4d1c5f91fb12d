"""Consumers (sync), the "Must hold" of consumers.md on every backend: resume without handing out
twice after a clean stop and without skipping after a crash; consumer groups; retries, parking and
replay; one active instance with standby takeover; a slow handler never blocks writers.

The killed-process cases are in test_consumer_processes.py."""

from __future__ import annotations

import gc
import threading
import time
from typing import Dict, List, Set, Tuple

import pytest
from helpers import wait_until

from messagedb import Consumer, ConsumerHandle, ConsumerMessage, Message, Namespace


class Handled:
    """What a handler saw, safe to read from the test's thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: List[Message] = []

    def __call__(self, message: Message) -> None:
        with self.lock:
            self.messages.append(message)

    def positions(self) -> List[int]:
        with self.lock:
            return [m.global_position for m in self.messages]

    def count(self) -> int:
        with self.lock:
            return len(self.messages)


def write(ns: Namespace, count: int, category: str = "account") -> List[int]:
    """Writes ``count`` messages to streams of ``category`` (round robin on 3 streams)."""
    return [ns.write(f"{category}-{i % 3}", "Opened", {"i": i}).global_position for i in range(count)]


def take(consumer: Consumer, count: int) -> List[ConsumerMessage]:
    """The next ``count`` messages of a pull consumer, each acknowledged."""
    taken = []
    for _ in range(count):
        message = next(consumer)
        message.ack()
        taken.append(message)
    return taken


# 1. Restart after a clean stop: nothing twice. After a crash: only what was not recorded, none
#    skipped.


def test_a_restart_after_a_clean_stop_hands_out_nothing_twice(ns: Namespace) -> None:
    first = write(ns, 5)
    handled = Handled()
    with ns.consume("account", "projector", handled) as handle:
        wait_until(lambda: handled.count() == 5, "the first run handles the 5 messages")
    assert handle.done
    assert ns.consumer_position("account", "projector") == first[-1]

    second = write(ns, 3)
    again = Handled()
    with ns.consume("account", "projector", again):
        wait_until(lambda: again.count() == 3, "the second run handles the 3 new messages")
    assert handled.positions() == first
    assert again.positions() == second


def test_a_pull_consumer_resumes_after_a_clean_stop(ns: Namespace) -> None:
    positions = write(ns, 6)
    with ns.consumer("account", "projector") as consumer:
        assert [m.global_position for m in take(consumer, 4)] == positions[:4]
    assert consumer.closed and not consumer.active
    with ns.consumer("account", "projector") as consumer:
        assert [m.global_position for m in take(consumer, 2)] == positions[4:]


def test_a_restart_after_a_crash_hands_out_only_what_was_not_recorded(ns: Namespace) -> None:
    positions = write(ns, 10)
    crashed = ns.consumer("account", "projector", position_update_interval=3, lease=0.5)
    assert [m.global_position for m in take(crashed, 5)] == positions[:5]
    del crashed  # no close(): the identity is let go, nothing more recorded
    gc.collect()
    # The recording due at the third message is written in the background.
    wait_until(
        lambda: ns.consumer_position("account", "projector") == positions[2],
        "the position of the third message is recorded",
    )

    with ns.consumer("account", "projector", lease=0.5) as consumer:
        again = [m.global_position for m in take(consumer, 7)]
    assert again == positions[3:], "handed out again from the recorded position, none skipped"


# 2. A consumer group of N: every message once, each stream by one member, in order.


def test_a_consumer_group_of_three_handles_every_message_once(ns: Namespace) -> None:
    positions = [ns.write(f"account-{i % 7}", "Opened", {"i": i}).global_position for i in range(42)]
    seen: Dict[int, Handled] = {member: Handled() for member in range(3)}
    handles = [
        ns.consume("account", "projector", seen[member], consumer_group=(member, 3))
        for member in range(3)
    ]
    try:
        wait_until(lambda: sum(h.count() for h in seen.values()) >= 42, "the group handles 42 messages")
    finally:
        for handle in handles:
            handle.stop(timeout=30)
    everything = sorted(p for h in seen.values() for p in h.positions())
    assert everything == positions, "every message exactly once"
    members_of: Dict[str, Set[int]] = {}
    for member, handled in seen.items():
        assert handled.count() > 0, f"member {member} handled nothing"
        by_stream: Dict[str, List[int]] = {}
        for m in handled.messages:
            members_of.setdefault(m.stream_name, set()).add(member)
            by_stream.setdefault(m.stream_name, []).append(m.position)
        for stream, stream_positions in by_stream.items():
            assert stream_positions == sorted(stream_positions), f"{stream} out of order"
    assert all(len(members) == 1 for members in members_of.values()), members_of
    for member in range(3):
        assert ns.consumer_position("account", "projector", consumer_group=(member, 3)) is not None


# 3. A message failing every try is parked with its error, and the consumer goes on; replaying
#    hands it to the handler again.


def test_a_failing_message_is_retried_then_parked_and_the_consumer_goes_on(ns: Namespace) -> None:
    ns.write("account-1", "Opened", {})
    bad = ns.write("account-2", "Broken", {}).global_position
    ns.write("account-3", "Opened", {})
    tries: List[int] = []
    handled = Handled()

    def handler(message: Message) -> None:
        if message.type == "Broken":
            tries.append(message.global_position)
            raise ValueError("cannot handle Broken")
        handled(message)

    with ns.consume(
        "account", "projector", handler, retry_attempts=2, retry_initial_delay=0.01, retry_max_delay=0.02
    ) as handle:
        wait_until(lambda: handled.count() == 2, "the consumer goes on after the broken message")
        assert handle.info().parked == 1
    assert tries == [bad] * 3, "the first try and 2 retries"
    [parked] = ns.parked("account", "projector")
    assert (parked.stream, parked.global_position, parked.type) == ("account-2", bad, "Broken")
    assert (parked.error, parked.attempts) == ("ValueError: cannot handle Broken", 3)
    assert ns.consumer_info("account", "projector").parked == 1
    assert ns.parked_message(parked) == ns.get_stream("account-2")[0]

    def still_failing(message: Message) -> None:
        raise KeyError(message.stream_name)

    failed = ns.replay_parked("account", "projector", still_failing)
    assert failed.replayed == 0
    assert [(p.global_position, e) for p, e in failed.failed] == [(bad, "KeyError: 'account-2'")]

    replayed = Handled()
    result = ns.replay_parked("account", "projector", replayed)
    assert (result.replayed, result.failed) == (1, [])
    assert replayed.positions() == [bad], "the parked message is handed to the handler again"
    assert ns.parked("account", "projector") == []


def test_discarding_parked_messages(ns: Namespace) -> None:
    ns.write("account-1", "Broken", {})
    ns.write("account-2", "Broken", {})

    def fail(message: Message) -> None:
        raise RuntimeError()

    with ns.consume("account", "auditor", fail, retry_attempts=0):
        wait_until(lambda: len(ns.parked("account", "auditor")) == 2, "both are parked at once")
    assert [p.error for p in ns.parked("account", "auditor")] == ["RuntimeError"] * 2
    assert ns.discard_parked("account", "auditor") == 2
    assert ns.parked("account", "auditor") == []
    assert ns.replay_parked("account", "auditor", fail).replayed == 0


def test_on_error_stop_stops_before_the_failing_message(ns: Namespace) -> None:
    ns.write("account-1", "Opened", {})
    ns.write("account-2", "Broken", {})

    def handler(message: Message) -> None:
        if message.type == "Broken":
            raise ValueError("no")

    handle = ns.consume("account", "projector", handler, retry_attempts=0, on_error="stop")
    handle.join(timeout=30)
    assert handle.done and not handle.active
    assert ns.consumer_position("account", "projector") == 1
    assert ns.parked("account", "projector") == []
    with ns.consumer("account", "projector") as consumer:
        assert next(consumer).type == "Broken", "the failing message comes first at the next start"


# 4. Two instances of one identity never hand out at the same time; the standby takes over.


def test_two_instances_never_both_hand_out_and_the_standby_takes_over(ns: Namespace) -> None:
    inside: List[str] = []
    overlaps: List[Tuple[str, str]] = []
    lock = threading.Lock()
    seen: Dict[str, Handled] = {"a": Handled(), "b": Handled()}

    def handler_of(instance: str) -> ConsumerHandle:
        def handler(message: Message) -> None:
            with lock:
                if inside:
                    overlaps.append((inside[0], instance))
                inside.append(instance)
            time.sleep(0.001)
            seen[instance](message)
            with lock:
                inside.remove(instance)

        return ns.consume("account", "projector", handler, lease=0.5)

    a = handler_of("a")
    wait_until(lambda: a.active, "the first instance becomes active")
    b = handler_of("b")
    first = write(ns, 20)
    wait_until(lambda: seen["a"].count() == 20, "the active instance handles the messages")
    assert not b.active and seen["b"].count() == 0, "the standby hands out nothing"
    assert b.info().active is False

    a.stop(timeout=30)
    second = write(ns, 10)
    wait_until(lambda: seen["b"].count() == 10, "the standby takes over")
    assert b.active
    b.stop(timeout=30)
    assert overlaps == []
    assert seen["a"].positions() == first
    assert seen["b"].positions() == second, "resumed after the recorded position"


def test_stopping_a_standby(ns: Namespace) -> None:
    with ns.consumer("account", "projector") as active:
        write(ns, 1)
        take(active, 1)
        standby = ns.consume("account", "projector", Handled())
        standby_pull = ns.consumer("account", "projector")
        ended: List[List[ConsumerMessage]] = []
        waiting = threading.Thread(target=lambda: ended.append(list(standby_pull)))
        waiting.start()
        standby.stop(timeout=10)
        assert standby.done and not standby.active
        standby_pull.close()
        waiting.join(timeout=10)
        assert ended == [[]], "a standby's iteration ends when it is closed"


# 6. A slow handler never blocks writers.


def test_a_slow_handler_does_not_block_writers(ns: Namespace) -> None:
    gate = threading.Event()
    handled = Handled()

    def slow(message: Message) -> None:
        handled(message)
        assert gate.wait(60), "the test never opened the gate"

    ns.write("account-1", "Opened", {})
    with ns.consume("account", "projector", slow):
        wait_until(lambda: handled.count() == 1, "the handler starts on the first message")
        started = time.monotonic()
        written = write(ns, 200)
        took = time.monotonic() - started
        assert handled.count() == 1, "the handler is still on the first message"
        assert took < 20, f"200 writes took {took:.1f} s behind a blocked handler"
        gate.set()
        wait_until(lambda: handled.count() == 201, "the consumer catches up")
    assert handled.positions()[1:] == written
