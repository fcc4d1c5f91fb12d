#!/usr/bin/env python3
"""Side-by-side benchmarks of the Python package, in one run; one JSON line per case.

Cases (each alternates the two sides over several rounds and compares their median time per
operation):

``write_store_vs_rust_memory``
    ``Store.write`` vs the same writes through the Rust API (``_native._bench_rust_writes``, on
    the same runtime), SQLite in memory. ``ratio`` = Python / Rust; target <= 1.5.
``write_store_vs_rust_postgres``
    The same on PostgreSQL (informative).
``write_vs_message_db_py``
    ``Store.write`` vs message-db-py's ``MessageDB.write`` (``message_store.write_message``), both
    on the default namespace of our PostgreSQL backend, schema ``message_store``.
    ``ratio`` = message-db-py / messagedb; target >= 2.
``write_8_threads_vs_message_db_py``
    The same with 8 threads writing at once (informative: PostgreSQL shares WAL flushes between
    concurrent commits too).
``read_stream_100_vs_message_db_py``
    Reading a 100-message stream, every field of every message touched (data and metadata parsed,
    time a datetime), vs message-db-py's ``read_stream``. ``ratio`` = message-db-py / messagedb;
    target >= 2.

Usage: ``python bench.py --pg-url postgres://… [--rounds 5]`` with a release build of the package
(``bindings-python/bench/run.sh`` builds one and runs this).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional

import messagedb
from messagedb import _native


def per_op(seconds: float, n: int) -> float:
    return seconds / n * 1e6


def store_writes(url: str, n: int) -> float:
    """The loop of ``_bench_rust_writes``, through ``Store.write``: seconds for ``n`` writes."""
    with messagedb.Store.open(url) as store:
        ns = store.namespace("default")
        started = time.perf_counter()
        for i in range(n):
            ns.write(f"bench-{i % 100}", "Bench", {"i": i, "text": "hello"})
        return time.perf_counter() - started


def compare(
    case: str,
    ours: Callable[[], float],
    theirs: Callable[[], float],
    n: int,
    rounds: int,
    baseline: str,
    ratio_of: str,
    target: str,
    check: Callable[[float], bool],
) -> Dict[str, Any]:
    """Alternates the two sides; each callable returns seconds for ``n`` operations."""
    mine: List[float] = []
    other: List[float] = []
    theirs()  # warm both up (connections, caches)
    ours()
    for _ in range(rounds):
        mine.append(per_op(ours(), n))
        other.append(per_op(theirs(), n))
    ours_us, theirs_us = statistics.median(mine), statistics.median(other)
    ratio = ours_us / theirs_us if ratio_of == "messagedb/baseline" else theirs_us / ours_us
    line = {
        "case": case,
        "n": n,
        "rounds": rounds,
        "messagedb_us_per_op": round(ours_us, 2),
        "baseline": baseline,
        "baseline_us_per_op": round(theirs_us, 2),
        "ratio": round(ratio, 3),
        "ratio_of": ratio_of,
        "target": target,
        "ok": check(ratio),
    }
    print(json.dumps(line), flush=True)
    return line


def message_db_py(pg_url: str, connections: int = 2) -> Any:
    from message_db.client import MessageDB  # type: ignore[import-not-found]

    # Message DB's functions call each other unqualified: clients set the search_path.
    return MessageDB.from_url(pg_url, options="-c search_path=message_store", max_connections=connections)


def writes_vs_message_db_py(pg_url: str, n: int, rounds: int) -> Dict[str, Any]:
    client = message_db_py(pg_url)
    store = messagedb.Store.open(pg_url)
    ns = store.namespace("default")

    def ours() -> float:
        prefix = uuid.uuid4().hex[:8]
        started = time.perf_counter()
        for i in range(n):
            ns.write(f"ours{prefix}-{i % 100}", "Bench", {"i": i, "text": "hello"})
        return time.perf_counter() - started

    def theirs() -> float:
        prefix = uuid.uuid4().hex[:8]
        started = time.perf_counter()
        for i in range(n):
            client.write(f"theirs{prefix}-{i % 100}", "Bench", {"i": i, "text": "hello"})
        return time.perf_counter() - started

    try:
        return compare(
            "write_vs_message_db_py", ours, theirs, n, rounds,
            "message-db-py", "baseline/messagedb", ">= 2", lambda r: r >= 2,
        )
    finally:
        store.close()
        client.connection_pool.closeall()


def threaded_writes_vs_message_db_py(pg_url: str, n: int, rounds: int, threads: int) -> Dict[str, Any]:
    client = message_db_py(pg_url, connections=threads)
    store = messagedb.Store.open(pg_url)
    ns = store.namespace("default")

    def run(write: Callable[..., Any]) -> float:
        prefix = uuid.uuid4().hex[:8]

        def writer(k: int) -> None:
            for i in range(n // threads):
                write(f"threads{prefix}{k}-{i % 10}", "Bench", {"i": i, "text": "hello"})

        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            for done in [pool.submit(writer, k) for k in range(threads)]:
                done.result()
        return time.perf_counter() - started

    try:
        return compare(
            f"write_{threads}_threads_vs_message_db_py", lambda: run(ns.write), lambda: run(client.write),
            n, rounds, "message-db-py", "baseline/messagedb", "informative", lambda r: True,
        )
    finally:
        store.close()
        client.connection_pool.closeall()


def reads_vs_message_db_py(pg_url: str, reads: int, rounds: int) -> Dict[str, Any]:
    client = message_db_py(pg_url)
    store = messagedb.Store.open(pg_url)
    ns = store.namespace("default")
    stream = f"read{uuid.uuid4().hex[:8]}-1"
    ns.write_batch(
        stream,
        [
            {
                "type": "Deposited",
                "data": {"amount": i, "currency": "EUR", "note": "a deposit"},
                "metadata": {"correlationStreamName": "transfer-1", "causationMessageId": str(uuid.uuid4())},
            }
            for i in range(100)
        ],
    )

    def ours() -> float:
        started = time.perf_counter()
        for _ in range(reads):
            messages = ns.get_stream(stream)
            for m in messages:
                (m.id, m.stream_name, m.type, m.position, m.global_position, m.data, m.metadata, m.time)
            assert len(messages) == 100
        return time.perf_counter() - started

    def theirs() -> float:
        started = time.perf_counter()
        for _ in range(reads):
            messages = client.read_stream(stream)
            for m in messages:
                (m["id"], m["stream_name"], m["type"], m["position"], m["global_position"], m["data"], m["metadata"], m["time"])
            assert len(messages) == 100
        return time.perf_counter() - started

    try:
        return compare(
            "read_stream_100_vs_message_db_py", ours, theirs, reads, rounds,
            "message-db-py", "baseline/messagedb", ">= 2", lambda r: r >= 2,
        )
    finally:
        store.close()
        client.connection_pool.closeall()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg-url", help="PostgreSQL server for the PostgreSQL cases")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--writes", type=int, default=20000, help="writes per round in memory")
    parser.add_argument("--pg-writes", type=int, default=1000, help="writes per round on PostgreSQL")
    parser.add_argument("--reads", type=int, default=300, help="100-message reads per round")
    args = parser.parse_args(argv)

    lines = [
        compare(
            "write_store_vs_rust_memory",
            lambda: store_writes(":memory:", args.writes),
            lambda: _native._bench_rust_writes(":memory:", args.writes),
            args.writes, args.rounds, "rust", "messagedb/baseline", "<= 1.5", lambda r: r <= 1.5,
        )
    ]
    if args.pg_url:
        lines.append(
            compare(
                "write_store_vs_rust_postgres",
                lambda: store_writes(args.pg_url, args.pg_writes),
                lambda: _native._bench_rust_writes(args.pg_url, args.pg_writes),
                args.pg_writes, args.rounds, "rust", "messagedb/baseline", "<= 1.5", lambda r: r <= 1.5,
            )
        )
        lines.append(writes_vs_message_db_py(args.pg_url, args.pg_writes, args.rounds))
        lines.append(threaded_writes_vs_message_db_py(args.pg_url, args.pg_writes, args.rounds, 8))
        lines.append(reads_vs_message_db_py(args.pg_url, args.reads, args.rounds))
    return 0 if all(line["ok"] for line in lines) else 1


if __name__ == "__main__":
    raise SystemExit(main())
