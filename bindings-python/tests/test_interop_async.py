"""Interop (asyncio): this process and the Rust `messagedb` server binary, on the same SQLite
directory or PostgreSQL database, see each other's writes (live too)."""

from __future__ import annotations

import asyncio

from helpers import RustServer, rpc

from messagedb import AsyncStore


async def test_python_and_the_rust_server_share_a_store(shared_url: str) -> None:
    async with await AsyncStore.open(shared_url) as store:
        with RustServer(shared_url) as server:
            ns = store.namespace("default")
            await ns.write("account-1", "Opened", {"by": "python"})
            status, messages = await asyncio.to_thread(rpc, server.url, server.token, "stream.get", "account-1")
            assert (status, [m[4] for m in messages]) == (200, [{"by": "python"}])

            await asyncio.to_thread(
                rpc, server.url, server.token, "stream.write", "account-1", {"type": "D", "data": {"by": "rust"}}
            )
            assert [m.data["by"] for m in await ns.get_stream("account-1")] == ["python", "rust"]


async def test_a_python_subscription_sees_the_servers_writes_live(shared_url: str) -> None:
    async with await AsyncStore.open(shared_url) as store:
        with RustServer(shared_url) as server:
            async with await store.namespace("default").subscribe(all=True) as messages:
                write = asyncio.to_thread(
                    rpc, server.url, server.token, "stream.write", "account-9", {"type": "Opened", "data": {}}
                )
                writer = asyncio.ensure_future(write)
                message = await asyncio.wait_for(messages.__anext__(), 10)
                await writer
            assert (message.stream_name, message.type) == ("account-9", "Opened")
