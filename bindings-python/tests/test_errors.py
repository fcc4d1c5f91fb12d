"""The error table of bindings.md (sync): class, code and message of at least one case per code."""

from __future__ import annotations

import pickle
import uuid
from pathlib import Path
from typing import Any, Callable, Type

import pytest

import messagedb
from messagedb import Namespace, Store
from messagedb.errors import _from_code


def raises(cls: Type[messagedb.MessageDBError], code: str, message: str, call: Callable[[], Any]) -> Any:
    with pytest.raises(cls) as caught:
        call()
    error = caught.value
    assert isinstance(error, messagedb.MessageDBError)
    assert (error.code, str(error), error.message) == (code, message, message)
    return error


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda ns: ns.write("", "Opened", {}), "streamName must be a non-empty string"),
        (lambda ns: ns.write("account-1", "", {}), "message.type must be a non-empty string"),
        (lambda ns: ns.write("account-1", "Opened", [1]), "message.data must be an object"),
        (lambda ns: ns.write("account-1", "Opened", {}, [1]), "message.metadata must be an object"),
        (lambda ns: ns.write("account-1", "Opened", {}, id="x"), "options.id must be a UUID"),
        (lambda ns: ns.write_batch("account-1", []), "messages must be a non-empty array"),
        (lambda ns: ns.write_batch("account-1", [1]), "message must be an object"),
        (lambda ns: ns.write_batch("account-1", [{"data": {}}]), "message.type must be a non-empty string"),
        (
            lambda ns: ns.write_batch("account-1", [{"type": "A", "data": {}, "id": "x"}]),
            "message.id must be a UUID",
        ),
        (
            lambda ns: ns.get_stream("account-1", batch_size=10001),
            "options.batchSize must be <= 10000 or -1 for unlimited",
        ),
        (
            lambda ns: ns.get_category("account", consumer_group=(2, 2)),
            "options.consumerGroup.member must be < size",
        ),
        (
            lambda ns: ns.get_category("account", consumer_group=(-1, 2)),
            "options.consumerGroup.member must be non-negative",
        ),
        (
            lambda ns: ns.get_category("account", consumer_group=(0, 0)),
            "options.consumerGroup.size must be positive",
        ),
        (lambda ns: ns.get_last(""), "streamName must be a non-empty string"),
        (lambda ns: ns.stream_version(""), "streamName must be a non-empty string"),
        (lambda ns: ns.subscribe(), "Either 'stream', 'category', or 'all=true' parameter required"),
        (
            lambda ns: ns.subscribe(stream="a-1", category="a"),
            "Cannot specify both 'stream' and 'category'",
        ),
        (
            lambda ns: ns.subscribe(category="a", all=True),
            "Cannot combine 'all' with 'stream' or 'category'",
        ),
        (
            lambda ns: ns.subscribe(category="account", consumer_group=(2, 2)),
            "Invalid consumer group: member must be < size",
        ),
        (lambda ns: ns.list_streams(limit=0), "limit must be between 1 and 1000"),
    ],
)
def test_invalid_request(ns: Namespace, call: Callable[[Namespace], Any], message: str) -> None:
    error = raises(messagedb.InvalidRequestError, "INVALID_REQUEST", message, lambda: call(ns))
    assert isinstance(error, ValueError)


def test_invalid_request_on_the_store(store: Store) -> None:
    raises(
        messagedb.InvalidRequestError,
        "INVALID_REQUEST",
        "the default namespace cannot be deleted",
        lambda: store.delete_namespace("default"),
    )
    raises(
        messagedb.InvalidRequestError,
        "INVALID_REQUEST",
        "namespace ID must be 1-128 characters of A-Z, a-z, 0-9, '_', '.' and '-'",
        lambda: store.create_namespace("no spaces"),
    )
    raises(
        messagedb.InvalidRequestError,
        "INVALID_REQUEST",
        "unknown store URL scheme: 'mysql://x' (expected sqlite:// or postgres://)",
        lambda: Store.open("mysql://x"),
    )
    raises(
        messagedb.InvalidRequestError,
        "INVALID_REQUEST",
        "durability must be 'full', 'normal' or 'off'",
        lambda: Store.open(":memory:", durability="sometimes"),  # type: ignore[arg-type]
    )


def test_version_conflict(ns: Namespace) -> None:
    error = raises(
        messagedb.VersionConflictError,
        "STREAM_VERSION_CONFLICT",
        "Expected version 0, stream is at version -1",
        lambda: ns.write("account-1", "Deposited", {}, expected_version=0),
    )
    assert (error.stream, error.expected, error.actual) == ("account-1", 0, -1)
    ns.write("account-1", "Opened", {})
    error = raises(
        messagedb.VersionConflictError,
        "STREAM_VERSION_CONFLICT",
        "Expected version -1, stream is at version 0",
        lambda: ns.write_batch("account-1", [{"type": "A", "data": {}}], expected_version=-1),
    )
    assert (error.expected, error.actual) == (-1, 0)


def test_duplicate_message_id(ns: Namespace) -> None:
    given = str(uuid.uuid4())
    ns.write("account-1", "Opened", {}, id=given)
    raises(
        messagedb.DuplicateMessageIdError,
        "DUPLICATE_MESSAGE_ID",
        f"Message ID '{given}' already exists",
        lambda: ns.write("account-2", "Opened", {}, id=given),
    )


def test_namespace_not_found(store: Store) -> None:
    error = raises(
        messagedb.NamespaceNotFoundError,
        "NAMESPACE_NOT_FOUND",
        "Namespace 'nowhere' not found",
        lambda: store.namespace("nowhere").write("account-1", "Opened", {}),
    )
    assert isinstance(error, LookupError)
    for call in (
        lambda: store.namespace_info("nowhere"),
        lambda: store.delete_namespace("nowhere"),
        lambda: store.list_streams("nowhere"),
        lambda: store.namespace("nowhere").get_stream("account-1"),
    ):
        raises(messagedb.NamespaceNotFoundError, "NAMESPACE_NOT_FOUND", "Namespace 'nowhere' not found", call)


def test_namespace_exists(store: Store) -> None:
    store.create_namespace("tenant-a")
    raises(
        messagedb.NamespaceExistsError,
        "NAMESPACE_EXISTS",
        "Namespace 'tenant-a' already exists",
        lambda: store.create_namespace("tenant-a"),
    )


def test_closed(url: str) -> None:
    store = Store.open(url)
    ns = store.namespace("default")
    store.close()
    raises(messagedb.ClosedError, "CLOSED", "The store is closed", lambda: ns.write("a-1", "A", {}))
    raises(messagedb.ClosedError, "CLOSED", "The store is closed", lambda: store.list_namespaces())


def test_backend_error(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("x")
    error = raises(
        messagedb.BackendError,
        "BACKEND_ERROR",
        f"cannot create {not_a_directory}: Not a directory (os error 20)",
        lambda: Store.open(str(not_a_directory)),
    )
    assert error.retryable is False


def test_auth_codes_map_to_auth_error() -> None:
    # The embedded store never raises AUTH_*; the server does (see test_serve.py).
    for code in ("AUTH_REQUIRED", "AUTH_INVALID_TOKEN", "AUTH_UNAUTHORIZED"):
        error = _from_code(code, "Token not authorized for namespace")
        assert isinstance(error, messagedb.AuthError) and error.code == code


def test_unknown_codes_keep_their_code() -> None:
    error = _from_code("A_NEWER_SERVERS_CODE", "something new")
    assert type(error) is messagedb.MessageDBError and error.code == "A_NEWER_SERVERS_CODE"


def test_the_hierarchy() -> None:
    for cls in (
        messagedb.InvalidRequestError,
        messagedb.VersionConflictError,
        messagedb.DuplicateMessageIdError,
        messagedb.PositionExistsError,
        messagedb.NamespaceNotFoundError,
        messagedb.NamespaceExistsError,
        messagedb.AuthError,
        messagedb.ClosedError,
        messagedb.BackendError,
    ):
        assert issubclass(cls, messagedb.MessageDBError)
    assert issubclass(messagedb.InvalidRequestError, ValueError)
    assert issubclass(messagedb.NamespaceNotFoundError, LookupError)


def test_errors_pickle_with_their_attributes(ns: Namespace) -> None:
    with pytest.raises(messagedb.VersionConflictError) as caught:
        ns.write("account-1", "Opened", {}, expected_version=3)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert type(copy) is messagedb.VersionConflictError
    assert (copy.code, str(copy), copy.expected, copy.actual) == (
        "STREAM_VERSION_CONFLICT",
        "Expected version 3, stream is at version -1",
        3,
        -1,
    )
