"""The exceptions of messagedb: one hierarchy under :class:`MessageDBError`.

Every exception carries the stable ``code`` of the error (the server's wire code), and the same
message text as the Rust crate, the npm package and the server. The class is chosen from the
code, never from the message.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Type

__all__ = [
    "MessageDBError",
    "InvalidRequestError",
    "VersionConflictError",
    "DuplicateMessageIdError",
    "PositionExistsError",
    "NamespaceNotFoundError",
    "NamespaceExistsError",
    "AuthError",
    "ClosedError",
    "BackendError",
]


class MessageDBError(Exception):
    """Base class of every messagedb error.

    Parameters
    ----------
    message : str
        What went wrong, for people.
    code : str, optional
        The stable error code; defaults to the class's code.

    Attributes
    ----------
    code : str
        The stable error code, e.g. ``"INVALID_REQUEST"``.
    message : str
        The message text.
    """

    code: str = "MESSAGEDB_ERROR"

    def __init__(self, message: str, *, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __reduce__(self) -> Any:
        # Keyword-only attributes do not survive Exception's default pickling.
        return (_restore, (type(self), self.message, dict(self.__dict__)))


class InvalidRequestError(MessageDBError, ValueError):
    """The input was rejected before anything was written (``INVALID_REQUEST``)."""

    code = "INVALID_REQUEST"


class VersionConflictError(MessageDBError):
    """The stream was not at the expected version; nothing was written
    (``STREAM_VERSION_CONFLICT``).

    Attributes
    ----------
    stream : str
        The stream written to.
    expected : int
        The version the writer expected (-1: the stream must be empty).
    actual : int
        The stream's actual version (-1 when it has no messages).
    """

    code = "STREAM_VERSION_CONFLICT"

    def __init__(
        self,
        message: str,
        *,
        stream: str = "",
        expected: int = -1,
        actual: int = -1,
        code: Optional[str] = None,
    ) -> None:
        super().__init__(message, code=code)
        self.stream = stream
        self.expected = expected
        self.actual = actual


class DuplicateMessageIdError(MessageDBError):
    """A message with this id already exists in the namespace (``DUPLICATE_MESSAGE_ID``)."""

    code = "DUPLICATE_MESSAGE_ID"


class PositionExistsError(MessageDBError):
    """An imported position or global position is taken (``POSITION_EXISTS``)."""

    code = "POSITION_EXISTS"


class NamespaceNotFoundError(MessageDBError, LookupError):
    """No namespace with this id (``NAMESPACE_NOT_FOUND``)."""

    code = "NAMESPACE_NOT_FOUND"


class NamespaceExistsError(MessageDBError):
    """A namespace with this id exists already (``NAMESPACE_EXISTS``)."""

    code = "NAMESPACE_EXISTS"


class AuthError(MessageDBError):
    """A server refused the token (``AUTH_*`` codes; the embedded store never raises it)."""

    code = "AUTH_UNAUTHORIZED"


class ClosedError(MessageDBError):
    """The store (or the subscription) is closed (``CLOSED``)."""

    code = "CLOSED"


class BackendError(MessageDBError):
    """The database failed (``BACKEND_ERROR``).

    Attributes
    ----------
    retryable : bool
        Whether the same call may succeed when tried again (busy database, lost connection).
    """

    code = "BACKEND_ERROR"

    def __init__(
        self, message: str, *, retryable: bool = False, code: Optional[str] = None
    ) -> None:
        super().__init__(message, code=code)
        self.retryable = retryable


_BY_CODE: Dict[str, Type[MessageDBError]] = {
    cls.code: cls
    for cls in (
        InvalidRequestError,
        VersionConflictError,
        DuplicateMessageIdError,
        PositionExistsError,
        NamespaceNotFoundError,
        NamespaceExistsError,
        ClosedError,
        BackendError,
    )
}


def _restore(cls: Type[MessageDBError], message: str, state: Dict[str, Any]) -> MessageDBError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


def _from_code(code: str, message: str, extra: Optional[Dict[str, Any]] = None) -> MessageDBError:
    """The exception of an error code (used by the native module and for server answers)."""
    if code.startswith("AUTH_"):
        cls: Type[MessageDBError] = AuthError
    else:
        cls = _BY_CODE.get(code, MessageDBError)
    return cls(message, code=code, **(extra or {}))
