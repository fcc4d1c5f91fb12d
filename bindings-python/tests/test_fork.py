"""The shared runtime survives os.fork(): a child opens stores of its own (sync and asyncio);
handles opened before the fork belong to the parent and refuse to work in the child."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any, Callable, Dict

import pytest

import messagedb
from messagedb import Store

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")


def in_child(work: Callable[[], Dict[str, Any]]) -> Dict[str, Any]:
    """Runs ``work`` in a forked child; returns what it returned (or raised)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            result = work()
        except BaseException as error:  # report everything to the parent
            result = {"error": repr(error)}
        with os.fdopen(write_end, "w") as out:
            json.dump(result, out)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as answer:
        answered: Dict[str, Any] = json.load(answer)
    os.waitpid(pid, 0)
    return answered


def test_a_forked_child_opens_its_own_store(shared_url: str) -> None:
    with Store.open(shared_url) as store:
        parent = store.namespace("default")
        parent.write("account-1", "Opened", {"by": "parent"})

        def child() -> Dict[str, Any]:
            try:
                parent.get_stream("account-1")
                inherited = "worked"
            except messagedb.ClosedError as error:
                inherited = error.code
            with Store.open(shared_url) as own:
                own.namespace("default").write("account-1", "Deposited", {"by": "child"})
                seen = [m.data["by"] for m in own.namespace("default").get_stream("account-1")]
            return {"inherited": inherited, "seen": seen}

        assert in_child(child) == {"inherited": "CLOSED", "seen": ["parent", "child"]}
        assert [m.data["by"] for m in parent.get_stream("account-1")] == ["parent", "child"]


def test_a_forked_child_runs_asyncio(shared_url: str) -> None:
    messagedb.Store.open(":memory:").close()  # the parent's runtime exists before the fork

    def child() -> Dict[str, Any]:
        async def main() -> Dict[str, Any]:
            async with await messagedb.AsyncStore.open(shared_url) as store:
                written = await store.namespace("default").write("account-1", "Opened", {})
                return {"global_position": written.global_position}

        return asyncio.run(main())

    assert in_child(child) == {"global_position": 1}
    with Store.open(shared_url) as store:
        assert store.namespace("default").stream_version("account-1") == 0


def test_the_parent_keeps_working_after_forks(url: str) -> None:
    with Store.open(url) as store:
        ns = store.namespace("default")
        for i in range(3):
            assert in_child(lambda: {"pid": os.getpid()})["pid"] != os.getpid()
            ns.write("account-1", "Tick", {"i": i})
        assert ns.stream_version("account-1") == 2
        sys.stdout.flush()
