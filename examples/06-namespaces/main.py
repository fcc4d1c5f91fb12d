"""Namespaces: separate stores inside one store. Each has its own streams, its own global
positions and its own token; one cannot see another's messages.

python examples/06-namespaces/main.py
"""

import json
from typing import Dict, List, Tuple

import messagedb

with messagedb.Store.open(":memory:") as store:
    # [example]
    # The token comes back this once (only its hash is kept): a client of the HTTP server
    # presents it to reach this namespace, and no other.
    for tenant, description in [("tenant-a", "Tenant A"), ("tenant-b", "Tenant B")]:
        created = store.create_namespace(tenant, description=description)
        assert created.token.startswith("ns_")
        print(f"created {tenant}")

    # The same stream name in each namespace: two unrelated streams, each numbered from 0, and
    # each namespace counting its own global positions from 1.
    a, b = store.namespace("tenant-a"), store.namespace("tenant-b")
    writes: List[Tuple[messagedb.Namespace, str, Dict[str, object], Tuple[int, int]]] = [
        (a, "Opened", {"owner": "ada"}, (0, 1)),
        (a, "Deposited", {"amount": 10}, (1, 2)),
        (b, "Opened", {"owner": "bob"}, (0, 1)),
    ]
    for ns, message_type, data, want in writes:
        w = ns.write("account-1", message_type, data)
        assert (w.position, w.global_position) == want
        print(
            f"{ns.id}: account-1 position {w.position} global {w.global_position} "
            f"{message_type} {json.dumps(data, separators=(',', ':'))}"
        )

    # Each namespace sees only its own messages, and counts only its own.
    for ns, want_types in [(a, ["Opened", "Deposited"]), (b, ["Opened"])]:
        types = [m.type for m in ns.get_stream("account-1")]
        assert types == want_types
        info = store.namespace_info(ns.id)
        assert (info.message_count, info.stream_count) == (len(want_types), 1)
        print(f"{ns.id} ({info.description}) reads account-1: {', '.join(types)}")
        print(f"{ns.id}: messages {info.message_count}, streams {info.stream_count}")

    # Every store has `default`. The listing is newest first: sort it by name to print it.
    listed = [
        f"{n.namespace} {n.message_count}"
        for n in sorted(store.list_namespaces(), key=lambda n: n.namespace)
    ]
    assert listed == ["default 0", "tenant-a 2", "tenant-b 1"]
    print(f"namespaces (messages): {', '.join(listed)}")

    # Deleting a namespace deletes its messages; its handles fail from then on.
    deleted = store.delete_namespace("tenant-b")
    assert deleted.messages_deleted == 1
    print(f"deleted tenant-b, messages deleted {deleted.messages_deleted}")
    try:
        b.stream_version("account-1")
        raise AssertionError("tenant-b is deleted")
    except messagedb.NamespaceNotFoundError as e:
        assert e.code == "NAMESPACE_NOT_FOUND"
        print(f"reading tenant-b: {e.code} {e}")
    left = store.list_namespaces()
    assert len(left) == 2
    assert all(n.namespace != "tenant-b" for n in left)
    print(f"namespaces left: {len(left)}")
    # [/example]
