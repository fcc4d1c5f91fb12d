"""Consumers across processes (SQLite files and PostgreSQL): a consumer process killed with SIGKILL
is taken over by a standby in this process within the lease, which resumes after the recorded
position (consumers.md, "Must hold" 1 and 4); a process that exits without stopping its
handler-form consumers records their positions (the ``atexit`` hook)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import IO, List, Optional

from helpers import wait_until

from messagedb import ConsumerMessage, Namespace, Store

# A handler-form consumer in a child process; prints "handled <global position>" for each message
# once handled. argv: store URL, "kill" (handle slowly until killed) or "exit" (leave the script
# without stopping the consumer once `count` are handled), count.
CHILD = """
import sys, threading, time
import messagedb

url, mode, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = messagedb.Store.open(url)
ns = store.namespace("default")
handled = threading.Semaphore(0)

def handler(message):
    if mode == "kill":
        time.sleep(0.05)  # still busy when it is killed
    print("handled", message.global_position, flush=True)
    handled.release()

ns.consume("account", "projector", handler, position_update_interval=4, lease=1.0)
print("started", flush=True)
if mode == "exit":
    for _ in range(count):
        handled.acquire()
    sys.exit(0)  # no stop(): the atexit hook stops the consumer and records its position
time.sleep(600)
"""

LEASE = 1.0


def write(ns: Namespace, count: int) -> List[int]:
    return [ns.write(f"account-{i % 3}", "Opened", {"i": i}).global_position for i in range(count)]


def spawn(url: str, mode: str, count: int = 0) -> "subprocess.Popen[str]":
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, url, mode, str(count)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


class Lines:
    """The child's stdout lines, read in a thread so that waiting on them has a deadline."""

    def __init__(self, stream: Optional[IO[str]]) -> None:
        assert stream is not None
        self.lines: List[str] = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self.lock:
                self.lines.append(line.strip())

    def handled(self) -> List[int]:
        with self.lock:
            return [int(line.split()[1]) for line in self.lines if line.startswith("handled ")]


def test_a_killed_consumer_process_is_taken_over_within_the_lease(shared_url: str) -> None:
    with Store.open(shared_url) as store:
        ns = store.namespace("default")
        positions = write(ns, 200)
        child = spawn(shared_url, "kill")
        # The standby records only when it stops, so the records before that are the child's.
        standby = ns.consumer(
            "account", "projector", position_update_interval=1000, position_update_idle=600, lease=LEASE
        )
        try:
            lines = Lines(child.stdout)
            wait_until(lambda: len(lines.handled()) >= 10, "the child process handles messages")

            taken_over = threading.Event()
            standby_seen: List[int] = []

            def run_standby() -> None:
                for message in standby:
                    taken_over.set()
                    standby_seen.append(message.global_position)
                    message.ack()
                    if message.global_position == positions[-1]:
                        break

            runner = threading.Thread(target=run_standby)
            runner.start()
            assert not taken_over.wait(LEASE), "the standby handed out while the child was active"
            assert not standby.active

            child.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            child.wait(timeout=30)
            assert taken_over.wait(30), "the standby never took over"
            took = time.monotonic() - killed_at
            runner.join(timeout=60)
            assert not runner.is_alive()
            lines.reader.join(timeout=10)
        finally:
            standby.close()
            if child.poll() is None:
                child.kill()
                child.wait()

        by_child = lines.handled()
        assert by_child == positions[: len(by_child)], "the child handled in order, each once"
        records = [m.data["position"] for m in ns.get_stream("account:position-projector")]
        assert records[-1] == positions[-1], "the standby's record, when it stopped"
        by_child_recorded = records[:-1]
        assert by_child_recorded, "the child recorded its position (every 4 messages)"
        recorded = by_child_recorded[-1]
        assert recorded <= by_child[-1], "never recorded past what was handled"
        # After a crash, what was handled after the last recording is handed out again (the
        # messages acknowledged since it, and while it was being written): none is skipped.
        assert standby_seen == positions[recorded:], "resumed after the recorded position, none skipped"
        # Within the lease (about a fifth of it here: the standby tries every lease / 5), with the
        # lease again as slack for a loaded machine.
        assert took < 2 * LEASE, f"the standby took {took:.1f} s to take over"


def test_a_process_exiting_without_stopping_its_consumers_records_their_positions(shared_url: str) -> None:
    with Store.open(shared_url) as store:
        ns = store.namespace("default")
        for i in range(6):
            ns.write(f"account-{i}", "Opened", {})
        child = spawn(shared_url, "exit", count=6)
        try:
            lines = Lines(child.stdout)
            assert child.wait(timeout=60) == 0
            lines.reader.join(timeout=10)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        assert lines.handled() == [1, 2, 3, 4, 5, 6]
        assert ns.consumer_position("account", "projector") == 6, (
            "recorded at exit (position_update_interval=4 alone records 4)"
        )
        later = ns.write("account-9", "Opened", {}).global_position
        with ns.consumer("account", "projector") as consumer:
            message: ConsumerMessage = next(consumer)
            assert message.global_position == later, "nothing handed out twice"
