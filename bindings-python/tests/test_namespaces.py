"""Namespace administration on the Store (sync), on every backend."""

from __future__ import annotations

import datetime

import messagedb
from messagedb import Store


def test_create_list_info_delete(store: Store) -> None:
    created = store.create_namespace("tenant-a", description="Tenant A", metadata={"plan": "pro"})
    assert created.namespace == "tenant-a"
    assert created.token.startswith("ns_")
    assert created.created_at.tzinfo == datetime.timezone.utc
    assert repr(created).startswith("NamespaceCreated(namespace='tenant-a', token='ns_")

    listed = {n.namespace: n for n in store.list_namespaces()}
    assert set(listed) == {"default", "tenant-a"}
    assert (listed["tenant-a"].description, listed["tenant-a"].message_count) == ("Tenant A", 0)

    tenant = store.namespace("tenant-a")
    tenant.write("account-1", "Opened", {})
    tenant.write("account-2", "Opened", {})
    info = store.namespace_info("tenant-a")
    assert (info.namespace, info.description, info.metadata) == ("tenant-a", "Tenant A", {"plan": "pro"})
    assert (info.message_count, info.stream_count) == (2, 2)
    assert info.last_activity is not None and info.last_activity >= info.created_at
    assert store.namespace_info("default").last_activity is None

    deleted = store.delete_namespace("tenant-a")
    assert (deleted.namespace, deleted.messages_deleted) == ("tenant-a", 2)
    assert [n.namespace for n in store.list_namespaces()] == ["default"]


def test_namespaces_are_isolated(store: Store) -> None:
    store.create_namespace("tenant-a")
    store.namespace("tenant-a").write("account-1", "Opened", {"in": "a"})
    store.namespace("default").write("account-1", "Opened", {"in": "default"})
    assert [m.data for m in store.ns("tenant-a").get_stream("account-1")] == [{"in": "a"}]
    assert store.ns("tenant-a").get_stream("account-1")[0].global_position == 1


def test_a_given_token_is_kept(store: Store) -> None:
    token = "ns_dGVuYW50LWE_" + "ab" * 32
    assert store.create_namespace("tenant-a", token=token).token == token


def test_list_streams_and_categories(store: Store) -> None:
    ns = store.namespace("default")
    for name in ("account-2", "account-1", "audit-1", "account-1"):
        ns.write(name, "Happened", {})
    streams = store.list_streams("default")
    assert [(s.stream, s.version) for s in streams] == [("account-1", 1), ("account-2", 0), ("audit-1", 0)]
    assert streams[0].last_activity.tzinfo is not None
    assert [s.stream for s in store.list_streams("default", prefix="acc")] == ["account-1", "account-2"]
    assert [s.stream for s in store.list_streams("default", cursor="account-1", limit=1)] == ["account-2"]
    assert [s.stream for s in ns.list_streams(prefix="aud")] == ["audit-1"]
    categories = store.list_categories("default")
    assert [(c.category, c.stream_count, c.message_count) for c in categories] == [
        ("account", 2, 3),
        ("audit", 1, 1),
    ]
    assert ns.list_categories() == categories
    assert repr(categories[1]) == "CategorySummary(category='audit', stream_count=1, message_count=1)"


def test_records_are_immutable(store: Store) -> None:
    info = store.namespace_info("default")
    try:
        info.description = "changed"  # type: ignore[misc]
    except AttributeError:
        pass
    else:
        raise AssertionError("NamespaceInfo is mutable")
    assert isinstance(info, messagedb.NamespaceInfo)
