"""The whole error table (core's ErrorCode, shared by every surface): each code's exception class,
code and HTTP status. A code added in the core fails here until Python maps it."""

from __future__ import annotations

from typing import Dict, Tuple, Type

import messagedb
from messagedb.errors import _from_code

EXPECTED: Dict[str, Tuple[Type[messagedb.MessageDBError], int]] = {
    "INVALID_REQUEST": (messagedb.InvalidRequestError, 400),
    "STREAM_VERSION_CONFLICT": (messagedb.VersionConflictError, 409),
    "DUPLICATE_MESSAGE_ID": (messagedb.DuplicateMessageIdError, 409),
    "POSITION_EXISTS": (messagedb.PositionExistsError, 409),
    "NAMESPACE_NOT_FOUND": (messagedb.NamespaceNotFoundError, 404),
    "NAMESPACE_EXISTS": (messagedb.NamespaceExistsError, 409),
    "CLOSED": (messagedb.ClosedError, 503),
    "BACKEND_ERROR": (messagedb.BackendError, 500),
    "METHOD_NOT_FOUND": (messagedb.MessageDBError, 404),
    "NOT_FOUND": (messagedb.MessageDBError, 404),
    "AUTH_REQUIRED": (messagedb.AuthError, 401),
    "AUTH_INVALID_TOKEN": (messagedb.AuthError, 401),
    "AUTH_UNAUTHORIZED": (messagedb.AuthError, 403),
    "SERVER_START_FAILED": (messagedb.MessageDBError, 500),
}


def test_every_code_of_the_table_has_its_class_and_status() -> None:
    table = messagedb.error_codes()
    assert [code for code, _, _ in table] == list(EXPECTED)
    for code, status, retryable in table:
        cls, expected_status = EXPECTED[code]
        error = _from_code(code, f"a {code} error")
        assert type(error) is cls, code
        assert (error.code, str(error), status) == (code, f"a {code} error", expected_status)
        assert retryable == (code == "BACKEND_ERROR")


def test_a_failed_server_start_is_server_start_failed() -> None:
    try:
        messagedb.serve(token="not-a-token")
    except messagedb.MessageDBError as e:
        assert e.code == "SERVER_START_FAILED"
    else:
        raise AssertionError("serve() with a bad token started")
