"""Interop of consumers: a consumer's position is one record in the store, whoever keeps it. A
position that a Python consumer records is what the Rust server's ``consumer.position`` answers,
and one acknowledged over HTTP with ``consumer.ack`` (recorded throttled, as a consumer records:
every 100 acknowledgements or after 1 s without one) is where a Python consumer resumes; on the
same SQLite directory or PostgreSQL database."""

from __future__ import annotations

from typing import Any, Dict, List

from helpers import RustServer, rpc, wait_until

from messagedb import Namespace, Store


def group(member: int, size: int) -> Dict[str, Any]:
    return {"consumerGroup": {"member": member, "size": size}}


def handle(ns: Namespace, count: int, **options: Any) -> List[int]:
    """Handles ``count`` messages with a Python pull consumer, then stops it (recording)."""
    handled = []
    with ns.consumer("account", "projector", **options) as consumer:
        for message in consumer:
            handled.append(message.global_position)
            message.ack()
            if len(handled) == count:
                break
    return handled


def test_a_position_recorded_by_python_is_the_servers_consumer_position(shared_url: str) -> None:
    with Store.open(shared_url) as store, RustServer(shared_url) as server:
        ns = store.namespace("default")
        for i in range(6):
            ns.write(f"account-{i}", "Opened", {})
        assert rpc(server.url, server.token, "consumer.position", "account", "projector") == (200, None)

        assert handle(ns, 3) == [1, 2, 3]
        status, position = rpc(server.url, server.token, "consumer.position", "account", "projector")
        assert (status, position) == (200, 3)

        member = handle(ns, 1, consumer_group=(1, 2))
        assert rpc(
            server.url, server.token, "consumer.position", "account", "projector", group(1, 2)
        ) == (200, member[0])
        assert rpc(
            server.url, server.token, "consumer.position", "account", "projector", group(0, 2)
        ) == (200, None)


def test_a_python_consumer_resumes_after_a_position_acknowledged_over_http(shared_url: str) -> None:
    with Store.open(shared_url) as store, RustServer(shared_url) as server:
        ns = store.namespace("default")
        positions = [ns.write(f"account-{i}", "Opened", {}).global_position for i in range(6)]

        status, acked = rpc(server.url, server.token, "consumer.ack", "account", "projector", positions[2])
        assert (status, acked) == (200, {"position": positions[2]})
        wait_until(
            lambda: ns.consumer_position("account", "projector") == positions[2],
            "the server records the acknowledged position (after 1 s without acknowledgements)",
        )
        assert handle(ns, 3) == positions[3:], "the Python consumer resumes after it"

        status, acked = rpc(
            server.url, server.token, "consumer.ack", "account", "projector", positions[0], group(0, 3)
        )
        assert (status, acked) == (200, {"position": positions[0]})
        wait_until(
            lambda: ns.consumer_position("account", "projector", consumer_group=(0, 3)) == positions[0],
            "the server records a group member's acknowledged position",
        )
        mine = [m.global_position for m in ns.get_category("account", consumer_group=(0, 3))]
        after = [p for p in mine if p > positions[0]]
        assert handle(ns, len(after), consumer_group=(0, 3)) == after
