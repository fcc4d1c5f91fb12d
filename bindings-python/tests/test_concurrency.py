"""Threads: the GIL is released while the store works, so 8 threads writing to a file database
finish the same writes sooner than 1 thread (their commits share fsyncs)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from messagedb import Namespace, Store

WRITES = 400
THREADS = 8


def write(ns: Namespace, stream: str, count: int) -> None:
    for i in range(count):
        ns.write(stream, "Deposited", {"i": i})


def test_eight_threads_write_faster_than_one(tmp_path: Path) -> None:
    with Store.open(str(tmp_path / "store")) as store:
        ns = store.namespace("default")
        started = time.perf_counter()
        write(ns, "single-1", WRITES)
        one_thread = time.perf_counter() - started

        started = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            done = [pool.submit(write, ns, f"pooled-{k}", WRITES // THREADS) for k in range(THREADS)]
            for future in done:
                future.result()
        eight_threads = time.perf_counter() - started

        print(f"{WRITES} writes: 1 thread {one_thread:.3f}s, {THREADS} threads {eight_threads:.3f}s")
        assert one_thread / eight_threads > 1
        assert len(ns.get_category("pooled", batch_size=-1)) == WRITES
        for k in range(THREADS):
            assert [m.data["i"] for m in ns.get_stream(f"pooled-{k}")] == list(range(WRITES // THREADS))


def test_other_threads_run_while_a_call_waits(tmp_path: Path) -> None:
    with Store.open(str(tmp_path / "store")) as store:
        ns = store.namespace("default")
        with ThreadPoolExecutor(1) as pool:
            subscription = ns.subscribe(stream="account-1")
            waiting = pool.submit(next, subscription)
            time.sleep(0.1)  # the pool thread is blocked in next() without the GIL
            ns.write("account-1", "Opened", {})
            assert waiting.result(timeout=5).type == "Opened"
            subscription.close()
