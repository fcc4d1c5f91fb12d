"""AsyncStore and AsyncNamespace: every message operation, on every backend."""

from __future__ import annotations

import asyncio
import datetime
import uuid

import pytest

import messagedb
from messagedb import AsyncNamespace, AsyncStore, BatchResult, Message, WriteResult


async def test_open_gives_a_store_with_the_default_namespace(astore: AsyncStore, url: str) -> None:
    assert astore.backend == ("postgres" if url.startswith("postgres") else "sqlite")
    assert repr(astore) == f"AsyncStore(backend='{astore.backend}')"
    assert [n.namespace for n in await astore.list_namespaces()] == ["default"]


async def test_the_context_manager_closes_the_store(url: str) -> None:
    async with await AsyncStore.open(url) as store:
        ns = store.ns("default")
        await ns.write("account-1", "Opened", {})
    with pytest.raises(messagedb.ClosedError):
        await ns.get_stream("account-1")


async def test_write_returns_the_positions(ans: AsyncNamespace) -> None:
    assert await ans.write("account-1", "Opened", {"owner": "ada"}) == WriteResult(0, 1)
    assert await ans.write("account-1", "Deposited", {"amount": 10}) == WriteResult(1, 2)
    assert await ans.write("account-2", "Opened", {}) == WriteResult(0, 3)


async def test_write_with_expected_version(ans: AsyncNamespace) -> None:
    await ans.write("account-1", "Opened", {}, expected_version=-1)
    written = await ans.write("account-1", "Deposited", {"amount": 1}, expected_version=0)
    assert written.position == 1
    with pytest.raises(messagedb.VersionConflictError):
        await ans.write("account-1", "Deposited", {"amount": 1}, expected_version=0)


async def test_write_keeps_the_id_metadata_and_json(ans: AsyncNamespace) -> None:
    given = uuid.uuid4()
    data = {"n": 10**30, "f": 0.1, "s": "żółw ✓", "nested": {"list": [1, None, True]}}
    await ans.write("account-1", "Opened", data, {"correlationStreamName": "x-1"}, id=given)
    first = (await ans.get_stream("account-1"))[0]
    assert first.id == str(given)
    assert first.data == data
    assert first.metadata == {"correlationStreamName": "x-1"}


async def test_write_batch_is_atomic_and_contiguous(ans: AsyncNamespace) -> None:
    result = await ans.write_batch(
        "account-1",
        [{"type": "Opened", "data": {"owner": "ada"}}, {"type": "Deposited", "data": {"amount": 10}}],
        expected_version=-1,
    )
    assert result == BatchResult(0, 1, 1, 2)
    with pytest.raises(messagedb.VersionConflictError):
        await ans.write_batch("account-1", [{"type": "A", "data": {}}], expected_version=0)
    assert await ans.stream_version("account-1") == 1


async def test_get_stream_reads_in_position_order_with_options(ans: AsyncNamespace) -> None:
    for i in range(5):
        await ans.write("account-1", "Deposited", {"i": i})
        await ans.write("other-1", "Noise", {"i": i})
    assert [m.data["i"] for m in await ans.get_stream("account-1")] == [0, 1, 2, 3, 4]
    assert [m.position for m in await ans.get_stream("account-1", position=3)] == [3, 4]
    assert [m.position for m in await ans.get_stream("account-1", batch_size=2)] == [0, 1]
    assert [m.position for m in await ans.get_stream("account-1", global_position=6)] == [3, 4]
    assert await ans.get_stream("account-404") == []


async def test_get_last_and_stream_version(ans: AsyncNamespace) -> None:
    assert await ans.get_last("account-1") is None
    assert await ans.stream_version("account-1") is None
    await ans.write("account-1", "Opened", {})
    await ans.write("account-1", "Deposited", {"amount": 1})
    last = await ans.get_last("account-1")
    assert last is not None and last.type == "Deposited"
    opened = await ans.get_last("account-1", type="Opened")
    assert opened is not None and opened.position == 0
    assert await ans.stream_version("account-1") == 1


async def test_get_category_with_options(ans: AsyncNamespace) -> None:
    for i in range(6):
        await ans.write(f"account-{i % 3}", "Deposited", {"i": i})
    await ans.write("audit-1", "Checked", {}, {"correlationStreamName": "account-1"})
    assert [m.data["i"] for m in await ans.get_category("account")] == [0, 1, 2, 3, 4, 5]
    assert [m.global_position for m in await ans.get_category("account", position=4)] == [4, 5, 6]
    assert len(await ans.get_category("account", batch_size=2)) == 2
    audit = await ans.get_category("audit", correlation="account")
    assert [m.stream_name for m in audit] == ["audit-1"]
    first = await ans.get_category("account", consumer_group=(0, 2))
    second = await ans.get_category("account", consumer_group=(1, 2))
    assert len(first) + len(second) == 6


async def test_calls_run_concurrently_on_one_loop(ans: AsyncNamespace) -> None:
    results = await asyncio.gather(*(ans.write(f"account-{i}", "Opened", {}) for i in range(20)))
    assert sorted(r.global_position for r in results) == list(range(1, 21))


async def test_a_message_is_an_immutable_record(ans: AsyncNamespace) -> None:
    await ans.write("account-1", "Opened", {"owner": "ada"})
    message = (await ans.get_stream("account-1"))[0]
    assert isinstance(message, Message)
    assert message.time.utcoffset() == datetime.timedelta(0)
    with pytest.raises(AttributeError):
        message.data = {}  # type: ignore[misc]
    assert message == (await ans.get_stream("account-1"))[0]


async def test_the_namespace_handle(astore: AsyncStore) -> None:
    ns = astore.namespace("default")
    assert ns.id == "default"
    assert repr(ns) == "AsyncNamespace('default')"
    assert astore.ns("default").id == "default"
