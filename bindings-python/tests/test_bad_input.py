"""Bad-input parity (design.md, Guarantee 4): the input rules live in the core, so the Python package
refuses the same input as every other surface, with the same class, code and message, on SQLite
(memory, files) and PostgreSQL, in Store and AsyncStore, and over HTTP through serve(); a refused
input writes nothing, and what is accepted is kept exactly."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, List, Tuple

import pytest
from helpers import rpc

import messagedb

NUL_STREAM = "streamName must not contain the character U+0000"
BAD_ID = "namespace ID must be 1-128 characters of A-Z, a-z, 0-9, '_', '.' and '-'"


def lone(what: str) -> str:
    return f"{what} must not contain a lone UTF-16 surrogate escape (\\ud800-\\udfff without its pair)"


Call = Callable[[Any, Any], Any]

REFUSED: List[Tuple[str, Call, str]] = [
    ("nul stream", lambda s, ns: ns.write("a\0-1", "T", {}), NUL_STREAM),
    ("nul type", lambda s, ns: ns.write("a-1", "T\0", {}), "message.type must not contain the character U+0000"),
    ("nul data", lambda s, ns: ns.write("a-1", "T", {"a": "\0"}), "message.data must not contain the character U+0000"),
    ("lone surrogate data", lambda s, ns: ns.write("a-1", "T", {"a": "\ud800"}), lone("message.data")),
    ("lone surrogate metadata", lambda s, ns: ns.write("a-1", "T", {}, {"x": "\udc00"}), lone("message.metadata")),
    (
        "correlation not a string",
        lambda s, ns: ns.write("a-1", "T", {}, {"correlationStreamName": 5}),
        "metadata.correlationStreamName must be a string",
    ),
    ("stream over 1024 bytes", lambda s, ns: ns.write("a-" + "é" * 512, "T", {}), "streamName must be at most 1024 bytes"),
    ("type over 1024 bytes", lambda s, ns: ns.write("a-1", "t" * 1025, {}), "message.type must be at most 1024 bytes"),
    ("nul batch stream", lambda s, ns: ns.write_batch("a\0-1", [{"type": "T", "data": {}}]), NUL_STREAM),
    ("nul stream read", lambda s, ns: ns.get_stream("a\0-1"), NUL_STREAM),
    ("nul last read", lambda s, ns: ns.get_last("a\0-1"), NUL_STREAM),
    ("nul version read", lambda s, ns: ns.stream_version("a\0-1"), NUL_STREAM),
    ("nul category", lambda s, ns: ns.get_category("a\0"), "categoryName must not contain the character U+0000"),
    (
        "nul correlation",
        lambda s, ns: ns.get_category("a", correlation="c\0"),
        "options.correlation must not contain the character U+0000",
    ),
    ("nul prefix", lambda s, ns: ns.list_streams(prefix="a\0"), "prefix must not contain the character U+0000"),
    ("nul cursor", lambda s, ns: ns.list_streams(cursor="a\0"), "cursor must not contain the character U+0000"),
    ("nul namespace id", lambda s, ns: s.create_namespace("a\0"), BAD_ID),
    ("nul namespace info", lambda s, ns: s.namespace_info("a\0"), BAD_ID),
    (
        "nul description",
        lambda s, ns: s.create_namespace("d", description="x\0"),
        "options.description must not contain the character U+0000",
    ),
]


@pytest.mark.parametrize("what,call,message", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_alike_and_nothing_written(store: messagedb.Store, what: str, call: Call, message: str) -> None:
    ns = store.namespace("default")
    with pytest.raises(messagedb.InvalidRequestError) as caught:
        call(store, ns)
    assert (caught.value.code, str(caught.value)) == ("INVALID_REQUEST", message), what
    assert ns.get_category("") == []


@pytest.mark.parametrize("what,call,message", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_alike_in_asyncio(url: str, what: str, call: Call, message: str) -> None:
    async def main() -> None:
        async with await messagedb.AsyncStore.open(url) as store:
            ns = store.namespace("default")
            with pytest.raises(messagedb.InvalidRequestError) as caught:
                await asyncio.wait_for(call(store, ns), 30)
            assert (caught.value.code, str(caught.value)) == ("INVALID_REQUEST", message), what
            assert await ns.get_category("") == []

    asyncio.run(asyncio.wait_for(main(), 60))


def test_at_the_limits_everything_is_kept(store: messagedb.Store) -> None:
    ns = store.namespace("default")
    longest = "a-" + "é" * 511
    assert len(longest.encode()) == 1024
    ns.write(longest, "t" * 1024, {"smile": "\U0001F600", "n": 10**300}, {"correlationStreamName": "corr-1"})
    (m,) = ns.get_stream(longest)
    assert (m.stream_name, len(m.type), m.data) == (longest, 1024, {"smile": "\U0001F600", "n": 10**300})
    assert len(ns.get_category("a", correlation="corr")) == 1


def test_the_server_answers_the_same_messages(url: str) -> None:
    """Over HTTP (serve() on the same backend): the same codes and messages as in process."""
    db_url = None if url == ":memory:" else url if url.startswith("postgres") else f"sqlite://{url}"
    token = "ns_ZGVmYXVsdA_" + "ab" * 32
    with messagedb.serve(db_url=db_url, test_mode=db_url is None, token=token) as server:
        for stream, data, message in [
            ("a\0-1", {}, NUL_STREAM),
            ("a-1", {"a": "\ud800"}, lone("message.data")),
            ("a-" + "é" * 512, {}, "streamName must be at most 1024 bytes"),
        ]:
            status, body = rpc(server.url, server.token, "stream.write", stream, {"type": "T", "data": data})
            assert (status, body["error"]["code"], body["error"]["message"]) == (400, "INVALID_REQUEST", message)
        assert rpc(server.url, server.token, "category.get", "")[1] == []
