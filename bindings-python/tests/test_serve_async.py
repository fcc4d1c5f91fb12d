"""serve() from asyncio code: the server runs on the shared runtime beside an AsyncStore."""

from __future__ import annotations

import asyncio
from pathlib import Path

from helpers import rpc

import messagedb


async def test_serve_beside_an_async_store(tmp_path: Path) -> None:
    directory = str(tmp_path / "data")
    async with await messagedb.AsyncStore.open(directory) as store:
        with messagedb.serve(db_url=f"sqlite://{directory}") as server:
            ns = store.namespace("default")
            async with await ns.subscribe(stream="account-1") as messages:
                call = ("stream.write", "account-1", {"type": "Opened", "data": {"by": "http"}})
                status, _ = await asyncio.to_thread(rpc, server.url, server.token, *call)
                assert status == 200
                message = await asyncio.wait_for(messages.__anext__(), 10)
            assert message.data == {"by": "http"}
