"""Interop (sync): this process and the Rust `messagedb` server binary, on the same SQLite
directory or PostgreSQL database, see each other's writes (live too)."""

from __future__ import annotations

import threading

from helpers import RustServer, rpc

from messagedb import Store


def test_python_and_the_rust_server_share_a_store(shared_url: str) -> None:
    with Store.open(shared_url) as store, RustServer(shared_url) as server:
        ns = store.namespace("default")
        ns.write("account-1", "Opened", {"by": "python"})

        status, messages = rpc(server.url, server.token, "stream.get", "account-1")
        assert status == 200
        assert [(m[1], m[4]) for m in messages] == [("Opened", {"by": "python"})]

        status, written = rpc(
            server.url,
            server.token,
            "stream.write",
            "account-1",
            {"type": "Deposited", "data": {"by": "rust", "amount": 10}},
            {"expectedVersion": 0},
        )
        assert (status, written["position"]) == (200, 1)
        assert [m.data["by"] for m in ns.get_stream("account-1")] == ["python", "rust"]
        assert ns.stream_version("account-1") == 1


def test_a_python_subscription_sees_the_servers_writes_live(shared_url: str) -> None:
    with Store.open(shared_url) as store, RustServer(shared_url) as server:
        ns = store.namespace("default")
        with ns.subscribe(category="account") as messages:

            def write_through_the_server() -> None:
                for i in range(3):
                    rpc(server.url, server.token, "stream.write", f"account-{i}", {"type": "Opened", "data": {}})

            writer = threading.Timer(0.1, write_through_the_server)
            writer.start()
            seen = [next(messages).stream_name for _ in range(3)]
            writer.join()
        assert seen == ["account-0", "account-1", "account-2"]
