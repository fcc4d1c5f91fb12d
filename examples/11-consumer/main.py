"""Topic 11 of the tutorial (examples/README.md): a durable consumer. Its position survives a
restart; a message that keeps failing is retried, then parked."""

import json
import tempfile
import time
from typing import Callable

import messagedb


def project(run: int) -> Callable[[messagedb.Message], None]:
    """The projection: it cannot handle a deposit whose amount is not a number."""

    def handle(m: messagedb.Message) -> None:
        ok = isinstance(m.data["amount"], (int, float))
        data = json.dumps(m.data, separators=(",", ":"))
        print(f"run {run}: {m.stream_name} {data}{'' if ok else ' failed'}")
        if not ok:
            raise ValueError("amount must be a number")

    return handle


def caught_up(consumer: messagedb.ConsumerHandle, position: int) -> messagedb.ConsumerInfo:
    """Waits, at most 10 s, until the consumer has passed the message at global `position`."""
    deadline = time.monotonic() + 10
    while True:
        info = consumer.info()
        if info.position == position:
            return info
        assert time.monotonic() < deadline, f"the consumer is at {info.position}, not {position}"
        time.sleep(0.01)


def deposit(ns: messagedb.Namespace, stream: str, amount: object) -> None:
    ns.write(stream, "Deposited", {"amount": amount})


def describe(i: messagedb.ConsumerInfo) -> str:
    position = "none" if i.position is None else i.position
    return f"position {position} lag {i.lag} handled {i.handled} parked {i.parked}"


def run(directory: str) -> None:
    # [example]
    def start(ns: messagedb.Namespace, run: int) -> messagedb.ConsumerHandle:
        # A failing message is tried 3 times (2 retries, 1 ms then 2 ms later), then parked.
        # Record on a clean stop (and every 100 messages), not after 1 s without messages: the
        # global positions printed here then never depend on timing.
        return ns.consume(
            "account", "projector", project(run),
            retry_attempts=2, retry_initial_delay=0.001, retry_max_delay=0.005,
            position_update_idle=60.0,
        )

    store = messagedb.Store.open(directory)
    ns = store.namespace("default")
    for stream, amount in [("account-1", 10), ("account-2", 20), ("account-1", 5),
                           ("account-3", 7), ("account-2", 1)]:
        deposit(ns, stream, amount)

    consumer = start(ns, 1)
    info = caught_up(consumer, 5)
    assert (info.lag, info.handled) == (0, 5)
    print(f"run 1: {describe(info)}")
    # A clean stop records the position, in the stream account:position-projector.
    consumer.stop(timeout=10)
    store.close()

    # A restart: the store knows where the consumer stopped, and how far behind it is.
    store = messagedb.Store.open(directory)
    ns = store.namespace("default")
    deposit(ns, "account-1", 3)
    deposit(ns, "account-3", 4)
    deposit(ns, "account-2", "ten")
    info = ns.consumer_info("account", "projector")
    assert (info.position, info.lag) == (5, 3)
    print(f"restarted: {describe(info)}")

    # It resumes after its position. Global positions count every message of the namespace,
    # the position records too: the last deposit is at 9.
    consumer = start(ns, 2)
    info = caught_up(consumer, 9)
    assert (info.handled, info.parked) == (2, 1)
    print(f"run 2: {describe(info)}")
    consumer.stop(timeout=10)

    # Parked messages wait for a fix: replay_parked hands them to a handler again.
    for p in ns.parked("account", "projector"):
        # Python records an exception as "<type>: <message>".
        assert p.error == "ValueError: amount must be a number"
        print(f"parked: {p.stream} position {p.position} after {p.attempts} tries")
    store.close()
    # [/example]


if __name__ == "__main__":
    # Files, not memory: the position must outlive the store being closed.
    with tempfile.TemporaryDirectory() as directory:
        run(directory)
