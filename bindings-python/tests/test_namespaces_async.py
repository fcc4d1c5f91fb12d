"""Namespace administration on the AsyncStore, on every backend."""

from __future__ import annotations

from messagedb import AsyncStore


async def test_create_list_info_delete(astore: AsyncStore) -> None:
    created = await astore.create_namespace("tenant-a", description="Tenant A", metadata={"plan": "pro"})
    assert created.token.startswith("ns_")
    assert {n.namespace for n in await astore.list_namespaces()} == {"default", "tenant-a"}
    await astore.namespace("tenant-a").write("account-1", "Opened", {})
    info = await astore.namespace_info("tenant-a")
    assert (info.description, info.metadata, info.message_count, info.stream_count) == (
        "Tenant A",
        {"plan": "pro"},
        1,
        1,
    )
    deleted = await astore.delete_namespace("tenant-a")
    assert deleted.messages_deleted == 1
    assert [n.namespace for n in await astore.list_namespaces()] == ["default"]


async def test_list_streams_and_categories(astore: AsyncStore) -> None:
    ns = astore.namespace("default")
    for name in ("account-2", "account-1", "audit-1"):
        await ns.write(name, "Happened", {})
    assert [s.stream for s in await astore.list_streams("default", limit=2)] == ["account-1", "account-2"]
    assert [s.stream for s in await ns.list_streams(prefix="aud")] == ["audit-1"]
    categories = await astore.list_categories("default")
    assert [(c.category, c.stream_count) for c in categories] == [("account", 2), ("audit", 1)]
    assert await ns.list_categories() == categories
