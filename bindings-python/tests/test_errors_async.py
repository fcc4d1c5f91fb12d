"""The error table of bindings.md (asyncio): class, code and message of one case per code."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable, Type

import pytest

import messagedb
from messagedb import AsyncNamespace, AsyncStore


async def raises(
    cls: Type[messagedb.MessageDBError], code: str, message: str, call: Callable[[], Awaitable[Any]]
) -> Any:
    with pytest.raises(cls) as caught:
        await call()
    error = caught.value
    assert isinstance(error, messagedb.MessageDBError)
    assert (error.code, str(error)) == (code, message)
    return error


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda ns: ns.write("", "Opened", {}), "streamName must be a non-empty string"),
        (lambda ns: ns.write("account-1", "Opened", [1]), "message.data must be an object"),
        (lambda ns: ns.write_batch("account-1", []), "messages must be a non-empty array"),
        (
            lambda ns: ns.get_category("account", batch_size=10001),
            "options.batchSize must be <= 10000 or -1 for unlimited",
        ),
        (lambda ns: ns.subscribe(all=True, stream="a-1"), "Cannot combine 'all' with 'stream' or 'category'"),
    ],
)
async def test_invalid_request(
    ans: AsyncNamespace, call: Callable[[AsyncNamespace], Awaitable[Any]], message: str
) -> None:
    error = await raises(messagedb.InvalidRequestError, "INVALID_REQUEST", message, lambda: call(ans))
    assert isinstance(error, ValueError)


async def test_version_conflict(ans: AsyncNamespace) -> None:
    error = await raises(
        messagedb.VersionConflictError,
        "STREAM_VERSION_CONFLICT",
        "Expected version 4, stream is at version -1",
        lambda: ans.write("account-1", "Deposited", {}, expected_version=4),
    )
    assert (error.stream, error.expected, error.actual) == ("account-1", 4, -1)


async def test_duplicate_message_id(ans: AsyncNamespace) -> None:
    given = str(uuid.uuid4())
    await ans.write("account-1", "Opened", {}, id=given)
    await raises(
        messagedb.DuplicateMessageIdError,
        "DUPLICATE_MESSAGE_ID",
        f"Message ID '{given}' already exists",
        lambda: ans.write_batch("account-1", [{"type": "Again", "data": {}, "id": given}]),
    )


async def test_namespace_not_found(astore: AsyncStore) -> None:
    error = await raises(
        messagedb.NamespaceNotFoundError,
        "NAMESPACE_NOT_FOUND",
        "Namespace 'nowhere' not found",
        lambda: astore.namespace_info("nowhere"),
    )
    assert isinstance(error, LookupError)
    await raises(
        messagedb.NamespaceNotFoundError,
        "NAMESPACE_NOT_FOUND",
        "Namespace 'nowhere' not found",
        lambda: astore.namespace("nowhere").subscribe(stream="a-1"),
    )


async def test_namespace_exists(astore: AsyncStore) -> None:
    await astore.create_namespace("tenant-a")
    await raises(
        messagedb.NamespaceExistsError,
        "NAMESPACE_EXISTS",
        "Namespace 'tenant-a' already exists",
        lambda: astore.create_namespace("tenant-a"),
    )


async def test_closed(url: str) -> None:
    store = await AsyncStore.open(url)
    await store.close()
    await raises(
        messagedb.ClosedError,
        "CLOSED",
        "The store is closed",
        lambda: store.namespace("default").get_last("a-1"),
    )


async def test_backend_error(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("x")
    await raises(
        messagedb.BackendError,
        "BACKEND_ERROR",
        f"cannot create {not_a_directory}: Not a directory (os error 20)",
        lambda: AsyncStore.open(str(not_a_directory)),
    )
