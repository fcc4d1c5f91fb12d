"""Type stubs of the native module ``messagedb._native`` (PyO3)."""

import datetime
from types import TracebackType
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Literal,
    Mapping,
    Optional,
    Tuple,
    Type,
    Union,
    final,
)
from uuid import UUID

from typing_extensions import disjoint_base

from messagedb.consumers import AsyncConsumerHandle, ConsumerHandle

__version__: str

__all__ = [
    "__version__",
    "_bench_rust_writes",
    "AsyncConsumer",
    "AsyncConsumerMessage",
    "AsyncNamespace",
    "AsyncStore",
    "AsyncSubscription",
    "BatchResult",
    "CategorySummary",
    "Consumer",
    "ConsumerInfo",
    "ConsumerMessage",
    "Message",
    "Namespace",
    "NamespaceCreated",
    "NamespaceDeleted",
    "NamespaceInfo",
    "NamespaceSummary",
    "ParkedMessage",
    "ReplayResult",
    "Server",
    "Store",
    "StreamSummary",
    "Subscription",
    "WriteResult",
    "cardinal_id",
    "category",
    "consumer_group_member",
    "error_codes",
    "hash64",
    "id",
    "is_category",
    "serve",
]

_JsonObject = Dict[str, Any]
_Durability = Literal["full", "normal", "off"]
_MessageId = Union[str, UUID]
_Start = Union[Literal["beginning", "end"], int]
_OnError = Literal["park", "stop"]
_Nacked = Literal["retrying", "parked", "stopped"]
_Outcome = Literal["replayed", "discarded"]

@disjoint_base
class Message:
    """A stored message (immutable).

    Attributes
    ----------
    id : str
        The message id (a UUID).
    stream_name : str
        The stream it belongs to.
    type : str
        The message type.
    position : int
        Its position in the stream (0-based, gapless).
    global_position : int
        Its position in the namespace (from 1, in commit order).
    data : dict
        The payload.
    metadata : dict or None
        The metadata, ``None`` when the message has none.
    time : datetime.datetime
        When it was written (aware, UTC, microsecond precision).
    """

    __match_args__ = (
        "id",
        "stream_name",
        "type",
        "position",
        "global_position",
        "data",
        "metadata",
        "time",
    )
    @property
    def id(self) -> str:
        """The message id (a UUID string)."""
    @property
    def stream_name(self) -> str:
        """The stream it belongs to."""
    @property
    def type(self) -> str:
        """The message type."""
    @property
    def position(self) -> int:
        """Its position in the stream."""
    @property
    def global_position(self) -> int:
        """Its position in the namespace."""
    @property
    def data(self) -> _JsonObject:
        """The payload (a dict)."""
    @property
    def metadata(self) -> Optional[_JsonObject]:
        """The metadata (a dict), or ``None``."""
    @property
    def time(self) -> datetime.datetime:
        """When it was written (aware, UTC)."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class WriteResult:
    """Where a message was written.

    Attributes
    ----------
    position : int
        Its stream position.
    global_position : int
        Its global position in the namespace.
    """

    __match_args__ = ("position", "global_position")
    def __new__(cls, position: int, global_position: int) -> "WriteResult": ...
    @property
    def position(self) -> int: ...
    @property
    def global_position(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class BatchResult:
    """Where a batch was written: contiguous positions from the first message to the last.

    Attributes
    ----------
    position, global_position : int
        Positions of the first message.
    last_position, last_global_position : int
        Positions of the last message.
    """

    __match_args__ = ("position", "global_position", "last_position", "last_global_position")
    def __new__(
        cls, position: int, global_position: int, last_position: int, last_global_position: int
    ) -> "BatchResult": ...
    @property
    def position(self) -> int: ...
    @property
    def global_position(self) -> int: ...
    @property
    def last_position(self) -> int: ...
    @property
    def last_global_position(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class NamespaceCreated:
    """A namespace just created, with its token (shown this once; only its hash is stored).

    Attributes
    ----------
    namespace : str
    token : str
    created_at : datetime.datetime
    """

    __match_args__ = ("namespace", "token", "created_at")
    @property
    def namespace(self) -> str: ...
    @property
    def token(self) -> str: ...
    @property
    def created_at(self) -> datetime.datetime: ...

@final
class NamespaceDeleted:
    """A namespace just deleted.

    Attributes
    ----------
    namespace : str
    deleted_at : datetime.datetime
    messages_deleted : int
    """

    __match_args__ = ("namespace", "deleted_at", "messages_deleted")
    @property
    def namespace(self) -> str: ...
    @property
    def deleted_at(self) -> datetime.datetime: ...
    @property
    def messages_deleted(self) -> int: ...

@final
class NamespaceSummary:
    """A namespace in a listing.

    Attributes
    ----------
    namespace : str
    description : str
    created_at : datetime.datetime
    message_count : int
    """

    __match_args__ = ("namespace", "description", "created_at", "message_count")
    @property
    def namespace(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def created_at(self) -> datetime.datetime: ...
    @property
    def message_count(self) -> int: ...

@final
class NamespaceInfo:
    """A namespace's details.

    Attributes
    ----------
    namespace : str
    description : str
    created_at : datetime.datetime
    message_count, stream_count : int
    last_activity : datetime.datetime or None
        Time of its newest message, ``None`` when it is empty.
    metadata : dict or None
    """

    __match_args__ = (
        "namespace",
        "description",
        "created_at",
        "message_count",
        "stream_count",
        "last_activity",
        "metadata",
    )
    @property
    def namespace(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def created_at(self) -> datetime.datetime: ...
    @property
    def message_count(self) -> int: ...
    @property
    def stream_count(self) -> int: ...
    @property
    def last_activity(self) -> Optional[datetime.datetime]: ...
    @property
    def metadata(self) -> Optional[_JsonObject]:
        """The metadata given at creation (a dict), or ``None``."""

@final
class StreamSummary:
    """A stream in a listing.

    Attributes
    ----------
    stream : str
    version : int
        Position of its last message.
    last_activity : datetime.datetime
    """

    __match_args__ = ("stream", "version", "last_activity")
    @property
    def stream(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def last_activity(self) -> datetime.datetime: ...

@final
class CategorySummary:
    """A category in a listing.

    Attributes
    ----------
    category : str
    stream_count, message_count : int
    """

    __match_args__ = ("category", "stream_count", "message_count")
    @property
    def category(self) -> str: ...
    @property
    def stream_count(self) -> int: ...
    @property
    def message_count(self) -> int: ...

@final
class Subscription:
    """Messages as they come: the history from the start position, then live ones, exactly once
    and in order.

    Iterating blocks (with the GIL released) until the next message commits; Ctrl-C interrupts a
    waiting iteration (``KeyboardInterrupt``). The iteration ends
    when the subscription, the store or the namespace is closed. Closing it (``close()``, a
    ``with`` block, or dropping the last reference) frees it at once.
    """

    def __iter__(self) -> Iterator[Message]: ...
    def __next__(self) -> Message: ...
    def close(self) -> None:
        """Ends the subscription; a thread blocked in ``next()`` sees the end of the iteration."""
    @property
    def closed(self) -> bool:
        """Whether the subscription has ended."""
    def __enter__(self) -> "Subscription": ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Literal[False]: ...

@final
class AsyncSubscription:
    """Messages as they come, for ``async for``: the history from the start position, then live
    ones, exactly once and in order.

    The iteration ends when the subscription, the store or the namespace is closed. Closing it
    (``aclose()``, an ``async with`` block, or dropping the last reference) frees it at once;
    cancelling a task waiting in ``__anext__`` loses no message.
    """

    def __aiter__(self) -> "AsyncSubscription": ...
    def __anext__(self) -> Awaitable[Message]: ...
    def _fetch(self) -> Awaitable[bool]: ...
    def _take(self) -> Optional[Message]: ...
    def aclose(self) -> Awaitable[None]:
        """Ends the subscription (an awaitable, like an async generator's ``aclose``)."""
    def close(self) -> None:
        """Ends the subscription now; a task waiting in ``__anext__`` sees the end of the iteration."""
    @property
    def closed(self) -> bool:
        """Whether the subscription has ended."""
    def __aenter__(self) -> Awaitable["AsyncSubscription"]: ...
    def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Awaitable[Literal[False]]: ...

@final
class ConsumerMessage(Message):
    """A message handed out by a ``Consumer``: a ``Message`` to acknowledge (``ack()``) once handled,
    or to report as failed (``nack(error)``).
    """

    def ack(self) -> None:
        """Acknowledges the message: it is handled, and the consumer's position moves past it.

        Raises
        ------
        InvalidRequestError
            It is not the message the consumer handed out last (or it was acknowledged already).
        ClosedError
            The consumer is closed.
        BackendError
        """
    def nack(self, error: Union[str, BaseException]) -> _Nacked:
        """Reports that handling the message failed: it is handed out again after the retry delay
        or, when every try failed, parked (and the consumer goes on) or the consumer stops, as
        ``on_error`` says.

        Parameters
        ----------
        error : str or BaseException
            Why; an exception is recorded as ``"<type name>: <message>"``.

        Returns
        -------
        str
            ``"retrying"``, ``"parked"`` or ``"stopped"``.

        Raises
        ------
        InvalidRequestError, ClosedError, BackendError
            As ``ack``.
        """

@final
class AsyncConsumerMessage(Message):
    """A message handed out by an ``AsyncConsumer``: a ``Message`` to acknowledge
    (``await m.ack()``) once handled, or to report as failed (``await m.nack(error)``).
    """

    def ack(self) -> Awaitable[None]:
        """Acknowledges the message (an awaitable; see ``ConsumerMessage.ack``)."""
    def nack(self, error: Union[str, BaseException]) -> Awaitable[_Nacked]:
        """Reports that handling the message failed: an awaitable of ``"retrying"``, ``"parked"`` or
        ``"stopped"`` (see ``ConsumerMessage.nack``).
        """

@final
class ConsumerInfo:
    """A consumer's progress.

    Attributes
    ----------
    position : int or None
        The global position of the last message it handled (recorded, or acknowledged in this
        run); ``None`` before its first.
    head : int
        The namespace's last global position (0 when it is empty).
    lag : int
        Messages of its category after its position (counted up to a million).
    handled : int
        Messages handled in this run (0 for a consumer not running here).
    parked : int
        Parked messages not replayed or discarded yet.
    active : bool
        Whether this is the active instance of its identity (``False`` for a standby or a
        consumer not running here).
    """

    __match_args__ = ("position", "head", "lag", "handled", "parked", "active")
    @property
    def position(self) -> Optional[int]: ...
    @property
    def head(self) -> int: ...
    @property
    def lag(self) -> int: ...
    @property
    def handled(self) -> int: ...
    @property
    def parked(self) -> int: ...
    @property
    def active(self) -> bool: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class ParkedMessage:
    """A message that failed every try and was parked.

    Attributes
    ----------
    stream : str
        The parked message's stream.
    position : int
        Its position in that stream.
    global_position : int
        Its global position (which names it for ``settle_parked``).
    type : str
        Its type.
    id : str
        Its id.
    error : str
        The error of its last try.
    attempts : int
        How many times it was tried.
    parked_at : datetime.datetime
        When it was parked.
    """

    __match_args__ = (
        "stream",
        "position",
        "global_position",
        "type",
        "id",
        "error",
        "attempts",
        "parked_at",
    )
    @property
    def stream(self) -> str:
        """The parked message's stream."""
    @property
    def position(self) -> int:
        """Its position in that stream."""
    @property
    def global_position(self) -> int:
        """Its global position."""
    @property
    def type(self) -> str:
        """Its type."""
    @property
    def id(self) -> str:
        """Its id."""
    @property
    def error(self) -> str:
        """The error of its last try."""
    @property
    def attempts(self) -> int:
        """How many times it was tried."""
    @property
    def parked_at(self) -> datetime.datetime:
        """When it was parked (aware, UTC)."""

@final
class ReplayResult:
    """What a replay of parked messages did.

    Attributes
    ----------
    replayed : int
        Parked messages the handler handled this time (each now recorded as replayed).
    failed : list of tuple of (ParkedMessage, str)
        Those it failed again, with the error; they stay parked.
    """

    __match_args__ = ("replayed", "failed")
    def __new__(cls, replayed: int, failed: List[Tuple[ParkedMessage, str]]) -> "ReplayResult": ...
    @property
    def replayed(self) -> int: ...
    @property
    def failed(self) -> List[Tuple[ParkedMessage, str]]:
        """The parked messages the handler failed again, with the errors."""

@final
class Consumer:
    """A durable consumer of a category in pull form (from ``Namespace.consumer``): it resumes after
    the position it recorded last, hands out each message once and in order, and records its
    progress in the store.

    Iterate it for messages and acknowledge each one (``ack()``) or report its failure
    (``nack(error)``) before taking the next. The first iteration waits as a standby until this is
    the one active instance of its identity, in any process. Iterating blocks (with the GIL
    released); Ctrl-C interrupts a waiting iteration (``KeyboardInterrupt``), and leaving the
    ``with`` block then stops it cleanly.

    The position is recorded every ``position_update_interval`` messages, after
    ``position_update_idle`` seconds without new ones, and on ``close()`` (or leaving the ``with``
    block, or the iteration ending): delivery is exactly once and in order within a run, and at
    least once across a crash (at most ``position_update_interval - 1`` messages are handed out
    again, and those handled while the last recording was being written). Dropping it without
    ``close()`` is such a crash: it lets go of the identity but records nothing more.
    """

    def __iter__(self) -> Iterator[ConsumerMessage]: ...
    def __next__(self) -> ConsumerMessage: ...
    def close(self) -> None:
        """Stops the consumer: records the position of the acknowledged messages and lets another
        instance take over. A thread blocked in ``next()`` (or waiting as a standby) sees the end
        of the iteration; a message handed out and not acknowledged is handed out again at the next
        start. Closing again does nothing.

        Raises
        ------
        BackendError
            The position could not be recorded.
        """
    def info(self) -> ConsumerInfo:
        """The consumer's progress (``ConsumerInfo``)."""
    @property
    def active(self) -> bool:
        """Whether this is the active instance of its identity (``False`` before the first iteration,
        for a standby and once closed).
        """
    @property
    def closed(self) -> bool:
        """Whether the consumer was closed (or ended with its store)."""
    def __enter__(self) -> "Consumer": ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Literal[False]: ...

@final
class AsyncConsumer:
    """A durable consumer of a category in pull form, for ``async for`` (from
    ``AsyncNamespace.consumer``); see ``Consumer``.

    Acknowledge each message (``await m.ack()``) or report its failure (``await m.nack(error)``)
    before taking the next. The first iteration waits as a standby until this is the one active
    instance of its identity. Use ``async with`` (or ``aclose()``) to stop it cleanly, recording
    its position: a ``break`` out of ``async for`` alone does not. Cancelling a task waiting in
    ``__anext__`` loses no message.
    """

    def __aiter__(self) -> "AsyncConsumer": ...
    def __anext__(self) -> Awaitable[AsyncConsumerMessage]: ...
    def _fetch(self) -> Awaitable[bool]: ...
    def _take(self) -> Optional[AsyncConsumerMessage]: ...
    def aclose(self) -> Awaitable[None]:
        """Stops the consumer (an awaitable): records the position of the acknowledged messages and
        lets another instance take over; a task waiting in ``__anext__`` sees the end of the
        iteration (see ``Consumer.close``).
        """
    def info(self) -> Awaitable[ConsumerInfo]:
        """The consumer's progress: an awaitable of ``ConsumerInfo``."""
    @property
    def active(self) -> bool:
        """Whether this is the active instance of its identity (``False`` before the first iteration,
        for a standby and once closed).
        """
    @property
    def closed(self) -> bool:
        """Whether the consumer was closed (or ended with its store)."""
    def __aenter__(self) -> Awaitable["AsyncConsumer"]: ...
    def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Awaitable[Literal[False]]: ...

@final
class Namespace:
    """The messages of one namespace (from ``Store.namespace``). Cheap; it does no I/O until used.

    Every method blocks until the store answers, with the GIL released, so other Python threads
    run meanwhile.
    """

    @property
    def id(self) -> str:
        """The namespace id."""
    def write(
        self,
        stream: str,
        type: str,
        data: Mapping[str, Any],
        metadata: Optional[Mapping[str, Any]] = None,
        *,
        id: Optional[_MessageId] = None,
        expected_version: Optional[int] = None,
    ) -> WriteResult:
        """Write one message.

        Parameters
        ----------
        stream : str
            The stream, e.g. ``"account-123"``.
        type : str
            The message type (non-empty).
        data : Mapping
            The payload: a JSON object.
        metadata : Mapping, optional
            A JSON object, or ``None`` for none.
        id : str or uuid.UUID, optional
            The message id; a UUIDv7 is generated when ``None`` or ``""``.
        expected_version : int, optional
            The version the stream must be at (-1: it must be empty), checked atomically.

        Returns
        -------
        WriteResult
            The message's stream position and global position.

        Raises
        ------
        InvalidRequestError
            An empty stream name or type, data that is not an object, an id that is not a UUID.
        VersionConflictError
            The stream is not at ``expected_version``; nothing was written.
        DuplicateMessageIdError
            A message with this id exists in the namespace.
        NamespaceNotFoundError, ClosedError, BackendError
        """
    def write_batch(
        self,
        stream: str,
        messages: Iterable[Mapping[str, Any]],
        *,
        expected_version: Optional[int] = None,
    ) -> BatchResult:
        """Write several messages to one stream atomically: all at contiguous positions, or none.

        Parameters
        ----------
        stream : str
            The stream.
        messages : iterable of Mapping
            Each ``{"type": str, "data": dict, "metadata": dict | None, "id": str | None}``.
        expected_version : int, optional
            The version the stream must be at before the batch (-1: empty).

        Returns
        -------
        BatchResult
            Positions of the first and the last message.

        Raises
        ------
        InvalidRequestError
            An empty batch or an invalid message.
        VersionConflictError, DuplicateMessageIdError, NamespaceNotFoundError, ClosedError, BackendError
        """
    def get_stream(
        self,
        stream: str,
        *,
        position: Optional[int] = None,
        global_position: Optional[int] = None,
        batch_size: Optional[int] = None,
    ) -> List[Message]:
        """Read a stream's messages in position order.

        Parameters
        ----------
        stream : str
            The stream.
        position : int, optional
            First stream position to return (inclusive; default 0).
        global_position : int, optional
            When given, replaces ``position``: messages with a global position at or after it.
        batch_size : int, optional
            How many at most (default 1000, at most 10000; -1 or 0 = unlimited).

        Returns
        -------
        list of Message

        Raises
        ------
        InvalidRequestError
            An empty stream name, a batch size over 10000.
        NamespaceNotFoundError, ClosedError, BackendError
        """
    def get_last(self, stream: str, *, type: Optional[str] = None) -> Optional[Message]:
        """A stream's last message, optionally the last one of a type.

        Parameters
        ----------
        stream : str
            The stream.
        type : str, optional
            Only messages of this type (``None`` or ``""``: any).

        Returns
        -------
        Message or None
            ``None`` when the stream has no (such) message.
        """
    def stream_version(self, stream: str) -> Optional[int]:
        """A stream's version: the position of its last message.

        Returns
        -------
        int or None
            ``None`` when the stream has no messages.
        """
    def get_category(
        self,
        category: str,
        *,
        position: Optional[int] = None,
        batch_size: Optional[int] = None,
        correlation: Optional[str] = None,
        consumer_group: Optional[Tuple[int, int]] = None,
    ) -> List[Message]:
        """Read a category's messages in global order.

        Parameters
        ----------
        category : str
            The category (``""``: every message of the namespace). A name with ``-`` is a stream,
            not a category, and returns nothing.
        position : int, optional
            First global position to return (inclusive; default 1).
        batch_size : int, optional
            How many at most (default 1000, at most 10000; -1 or 0 = unlimited).
        correlation : str, optional
            Only messages whose ``metadata["correlationStreamName"]`` is in this category.
        consumer_group : tuple of (int, int), optional
            ``(member, size)``: only the streams of this member of a consumer group.

        Returns
        -------
        list of Message

        Raises
        ------
        InvalidRequestError
            A batch size over 10000, or a consumer group with ``member < 0``, ``size <= 0`` or
            ``member >= size``.
        NamespaceNotFoundError, ClosedError, BackendError
        """
    def subscribe(
        self,
        *,
        stream: Optional[str] = None,
        category: Optional[str] = None,
        all: bool = False,
        position: int = 0,
        consumer_group: Optional[Tuple[int, int]] = None,
    ) -> Subscription:
        """Subscribe to a stream, a category or the whole namespace: history, then live.

        Parameters
        ----------
        stream : str, optional
            Follow this stream (``position`` is a stream position).
        category : str, optional
            Follow this category (``position`` is a global position).
        all : bool
            Follow every message of the namespace (``position`` is a global position).
        position : int
            Where to start (inclusive).
        consumer_group : tuple of (int, int), optional
            ``(member, size)``, with ``category``: only this member's streams.

        Returns
        -------
        Subscription
            An iterator of messages; close it (or use ``with``) when done.

        Raises
        ------
        InvalidRequestError
            Not exactly one of ``stream``, ``category`` and ``all``; a bad consumer group.
        NamespaceNotFoundError, ClosedError
        """
    def list_streams(
        self,
        *,
        prefix: Optional[str] = None,
        cursor: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> List[StreamSummary]:
        """The namespace's streams in byte order of their names.

        Parameters
        ----------
        prefix : str, optional
            Only names starting with this (a plain prefix, no wildcards).
        cursor : str, optional
            Only names after this one (exclusive): the last name of the previous page.
        limit : int, optional
            How many at most (1..1000, default 100).

        Returns
        -------
        list of StreamSummary
        """
    def list_categories(self) -> List[CategorySummary]:
        """The namespace's categories with their stream and message counts."""
    def consume(
        self,
        category: str,
        name: str,
        handler: Callable[[ConsumerMessage], object],
        *,
        consumer_group: Optional[Tuple[int, int]] = None,
        correlation: Optional[str] = None,
        start: _Start = "beginning",
        position_update_interval: int = 100,
        position_update_idle: float = 1.0,
        retry_attempts: int = 3,
        retry_initial_delay: float = 0.1,
        retry_max_delay: float = 10.0,
        on_error: _OnError = "park",
        lease: float = 5.0,
    ) -> ConsumerHandle:
        """Start a consumer of a category with a handler, in a background thread.

        A consumer is a named, durable reader: it resumes after the position it recorded last,
        hands each message to ``handler`` once and in order, records its progress in the store, and
        only one instance of it (in any process) is active at a time; another waits as a standby
        and takes over within ``lease`` seconds after the first stops or dies. A handler that
        raises an ``Exception`` fails the message: it is retried with a growing delay, then parked
        (see ``parked``) and the consumer goes on, or the consumer stops (``on_error="stop"``).

        Delivery is exactly once and in order within a run, and at least once across a crash (at
        most ``position_update_interval - 1`` messages are handed out again, and those handled
        while the last recording was being written in the background).

        Parameters
        ----------
        category : str
            The category (``""``: every message of the namespace but consumers' own records).
        name : str
            The consumer's name: 1 to 128 characters of ``[A-Za-z0-9_.-]``.
        handler : callable
            Called with each ``Message``; returning is success.
        consumer_group : tuple of (int, int), optional
            ``(member, size)``: this member's streams only (a different identity per member).
        correlation : str, optional
            Only messages whose ``metadata["correlationStreamName"]`` is in this category.
        start : {"beginning", "end"} or int
            Where to start when no position is recorded: the first message (default), after the
            namespace's last one when it opens, or at a global position.
        position_update_interval : int
            Record the position after this many handled messages (default 100).
        position_update_idle : float
            Record an unrecorded position after this many seconds without messages (default 1).
        retry_attempts : int
            Tries after the first failure before the message is parked (default 3; 0 parks at
            once).
        retry_initial_delay, retry_max_delay : float
            Seconds before the first retry (default 0.1), doubling up to the maximum (default 10).
        on_error : {"park", "stop"}
            What a message that failed every try does: park it and go on (default), or stop.
        lease : float
            Within how many seconds a standby takes over (default 5).

        Returns
        -------
        ConsumerHandle
            ``stop()`` stops it cleanly (recording its position); also a context manager.

        Raises
        ------
        InvalidRequestError
            A bad category, name, consumer group or option value.
        """
    def consumer(
        self,
        category: str,
        name: str,
        *,
        consumer_group: Optional[Tuple[int, int]] = None,
        correlation: Optional[str] = None,
        start: _Start = "beginning",
        position_update_interval: int = 100,
        position_update_idle: float = 1.0,
        retry_attempts: int = 3,
        retry_initial_delay: float = 0.1,
        retry_max_delay: float = 10.0,
        on_error: _OnError = "park",
        lease: float = 5.0,
    ) -> Consumer:
        """A consumer of a category in pull form: iterate it and acknowledge each message.

        The options are those of ``consume``. It waits as a standby on its first iteration until
        it is the one active instance of its identity.

        Returns
        -------
        Consumer
            An iterator of ``ConsumerMessage``; close it (or use ``with``) to record its position.

        Raises
        ------
        InvalidRequestError
            A bad category, name, consumer group or option value.
        """
    def consumer_position(
        self, category: str, name: str, *, consumer_group: Optional[Tuple[int, int]] = None
    ) -> Optional[int]:
        """The global position a consumer recorded last (``None`` when it recorded none).

        Raises
        ------
        InvalidRequestError
            A bad category, name or consumer group.
        """
    def set_consumer_position(
        self,
        category: str,
        name: str,
        position: int,
        *,
        consumer_group: Optional[Tuple[int, int]] = None,
    ) -> None:
        """Record a consumer's position, to reset or rewind it: it resumes after ``position``.

        Raises
        ------
        InvalidRequestError
            A negative position; a bad category, name or consumer group.
        """
    def consumer_info(
        self, category: str, name: str, *, consumer_group: Optional[Tuple[int, int]] = None
    ) -> ConsumerInfo:
        """A consumer's progress seen from outside it: its recorded position, the head, its lag and
        how many messages it parked (``handled`` 0, ``active`` False).
        """
    def parked(
        self, category: str, name: str, *, consumer_group: Optional[Tuple[int, int]] = None
    ) -> List[ParkedMessage]:
        """The messages a consumer parked and that were not replayed or discarded since, oldest
        first.

        Returns
        -------
        list of ParkedMessage
        """
    def parked_message(self, parked: ParkedMessage) -> Optional[Message]:
        """The message that was parked, read from its stream (``None`` when it is gone)."""
    def settle_parked(
        self,
        category: str,
        name: str,
        global_position: int,
        outcome: _Outcome,
        *,
        consumer_group: Optional[Tuple[int, int]] = None,
    ) -> None:
        """Record what became of a parked message (named by its global position).

        Parameters
        ----------
        outcome : {"replayed", "discarded"}
            Handled again, or given up.

        Raises
        ------
        InvalidRequestError
            No outstanding parked message of the consumer has this global position.
        """
    def replay_parked(
        self,
        category: str,
        name: str,
        handler: Callable[[Message], object],
        *,
        consumer_group: Optional[Tuple[int, int]] = None,
    ) -> ReplayResult:
        """Hand a consumer's parked messages to ``handler`` again, oldest first.

        One it handles is recorded as replayed; one it fails (raising an ``Exception``) stays
        parked. A parked message whose original is gone is discarded.

        Returns
        -------
        ReplayResult
            How many were replayed, and those that failed again with their errors.
        """
    def discard_parked(
        self, category: str, name: str, *, consumer_group: Optional[Tuple[int, int]] = None
    ) -> int:
        """Give up every outstanding parked message of a consumer; returns how many."""

@final
class AsyncNamespace:
    """The messages of one namespace (from ``AsyncStore.namespace``). Cheap; it does no I/O until
    used. Every method returns an awaitable.
    """

    @property
    def id(self) -> str:
        """The namespace id."""
    def write(
        self,
        stream: str,
        type: str,
        data: Mapping[str, Any],
        metadata: Optional[Mapping[str, Any]] = None,
        *,
        id: Optional[_MessageId] = None,
        expected_version: Optional[int] = None,
    ) -> Awaitable[WriteResult]:
        """Write one message: an awaitable of ``WriteResult`` (see ``Namespace.write``)."""
    def write_batch(
        self,
        stream: str,
        messages: Iterable[Mapping[str, Any]],
        *,
        expected_version: Optional[int] = None,
    ) -> Awaitable[BatchResult]:
        """Write several messages to one stream atomically: an awaitable of ``BatchResult`` (see
        ``Namespace.write_batch``).
        """
    def get_stream(
        self,
        stream: str,
        *,
        position: Optional[int] = None,
        global_position: Optional[int] = None,
        batch_size: Optional[int] = None,
    ) -> Awaitable[List[Message]]:
        """Read a stream's messages in position order: an awaitable of a list of ``Message`` (see
        ``Namespace.get_stream``).
        """
    def get_last(self, stream: str, *, type: Optional[str] = None) -> Awaitable[Optional[Message]]:
        """A stream's last message, optionally of a type: an awaitable of a ``Message`` or ``None``
        (see ``Namespace.get_last``).
        """
    def stream_version(self, stream: str) -> Awaitable[Optional[int]]:
        """A stream's version: an awaitable of the position of its last message, ``None`` when it is
        empty.
        """
    def get_category(
        self,
        category: str,
        *,
        position: Optional[int] = None,
        batch_size: Optional[int] = None,
        correlation: Optional[str] = None,
        consumer_group: Optional[Tuple[int, int]] = None,
    ) -> Awaitable[List[Message]]:
        """Read a category's messages in global order: an awaitable of a list of ``Message`` (see
        ``Namespace.get_category``).
        """
    def subscribe(
        self,
        *,
        stream: Optional[str] = None,
        category: Optional[str] = None,
        all: bool = False,
        position: int = 0,
        consumer_group: Optional[Tuple[int, int]] = None,
    ) -> Awaitable[AsyncSubscription]:
        """Subscribe to a stream, a category or the whole namespace: an awaitable of an
        ``AsyncSubscription`` (see ``Namespace.subscribe``).
        """
    def list_streams(
        self,
        *,
        prefix: Optional[str] = None,
        cursor: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> Awaitable[List[StreamSummary]]:
        """The namespace's streams in byte order of their names."""
    def list_categories(self) -> Awaitable[List[CategorySummary]]:
        """The namespace's categories with their stream and message counts."""
    def consume(
        self,
        category: str,
        name: str,
        handler: Callable[[AsyncConsumerMessage], object],
        *,
        consumer_group: Optional[Tuple[int, int]] = None,
        correlation: Optional[str] = None,
        start: _Start = "beginning",
        position_update_interval: int = 100,
        position_update_idle: float = 1.0,
        retry_attempts: int = 3,
        retry_initial_delay: float = 0.1,
        retry_max_delay: float = 10.0,
        on_error: _OnError = "park",
        lease: float = 5.0,
    ) -> Awaitable[AsyncConsumerHandle]:
        """Start a consumer of a category with a handler, in an asyncio task: an awaitable of an
        ``AsyncConsumerHandle``. The handler may be a coroutine function or a plain function (which
        runs on the event loop). Options as ``Namespace.consume``.
        """
    def consumer(
        self,
        category: str,
        name: str,
        *,
        consumer_group: Optional[Tuple[int, int]] = None,
        correlation: Optional[str] = None,
        start: _Start = "beginning",
        position_update_interval: int = 100,
        position_update_idle: float = 1.0,
        retry_attempts: int = 3,
        retry_initial_delay: float = 0.1,
        retry_max_delay: float = 10.0,
        on_error: _OnError = "park",
        lease: float = 5.0,
    ) -> AsyncConsumer:
        """A consumer of a category in pull form, for ``async for`` and ``async with`` (not an
        awaitable). Options as ``Namespace.consume``.
        """
    def consumer_position(
        self, category: str, name: str, *, consumer_group: Optional[Tuple[int, int]] = None
    ) -> Awaitable[Optional[int]]:
        """The global position a consumer recorded last: an awaitable of an int or ``None``."""
    def set_consumer_position(
        self,
        category: str,
        name: str,
        position: int,
        *,
        consumer_group: Optional[Tuple[int, int]] = None,
    ) -> Awaitable[None]:
        """Record a consumer's position, to reset or rewind it (an awaitable)."""
    def consumer_info(
        self, category: str, name: str, *, consumer_group: Optional[Tuple[int, int]] = None
    ) -> Awaitable[ConsumerInfo]:
        """A consumer's progress seen from outside it: an awaitable of ``ConsumerInfo``."""
    def parked(
        self, category: str, name: str, *, consumer_group: Optional[Tuple[int, int]] = None
    ) -> Awaitable[List[ParkedMessage]]:
        """A consumer's outstanding parked messages: an awaitable of a list of ``ParkedMessage``."""
    def parked_message(self, parked: ParkedMessage) -> Awaitable[Optional[Message]]:
        """The message that was parked: an awaitable of a ``Message`` or ``None`` when it is gone."""
    def settle_parked(
        self,
        category: str,
        name: str,
        global_position: int,
        outcome: _Outcome,
        *,
        consumer_group: Optional[Tuple[int, int]] = None,
    ) -> Awaitable[None]:
        """Record what became of a parked message (an awaitable; see ``Namespace.settle_parked``)."""
    def replay_parked(
        self,
        category: str,
        name: str,
        handler: Callable[[Message], object],
        *,
        consumer_group: Optional[Tuple[int, int]] = None,
    ) -> Awaitable[ReplayResult]:
        """Hand a consumer's parked messages to ``handler`` (a coroutine function or a plain
        function) again: an awaitable of ``ReplayResult`` (see ``Namespace.replay_parked``).
        """
    def discard_parked(
        self, category: str, name: str, *, consumer_group: Optional[Tuple[int, int]] = None
    ) -> Awaitable[int]:
        """Give up every outstanding parked message of a consumer: an awaitable of how many."""

@final
class Store:
    """A message store, embedded SQLite (in memory or files) or PostgreSQL.

    Open one with ``Store.open(url)``; take a namespace's messages with ``store.namespace(id)``.
    Every call blocks until the store answers, with the GIL released. Usable as a context manager
    (closes on exit).

    Examples
    --------
    >>> with Store.open(":memory:") as store:
    ...     ns = store.namespace("default")
    ...     ns.write("account-1", "Opened", {"owner": "ada"})
    WriteResult(position=0, global_position=1)
    """

    @staticmethod
    def open(url: str, *, durability: Optional[_Durability] = None) -> "Store":
        """Open a store; the URL picks the backend.

        Parameters
        ----------
        url : str
            ``":memory:"`` (or ``"sqlite::memory:"``): embedded, in memory; a directory path (or
            ``"sqlite://dir"``): embedded, one file per namespace; ``"postgres://…"``: PostgreSQL.
        durability : {"full", "normal", "off"}, optional
            How hard a SQLite file database works to keep an acknowledged write (default
            ``"full"``: on disk before the call returns).

        Returns
        -------
        Store
            The ``default`` namespace exists, every namespace is at the latest schema.

        Raises
        ------
        InvalidRequestError
            An unknown URL scheme.
        BackendError
            The database cannot be opened.
        """
    @property
    def backend(self) -> Literal["sqlite", "postgres"]:
        """``"sqlite"`` or ``"postgres"``."""
    def namespace(self, id: str) -> Namespace:
        """A handle on a namespace's messages (no I/O: an unknown namespace fails at first use)."""
    def ns(self, id: str) -> Namespace:
        """Short for ``namespace``."""
    def create_namespace(
        self,
        id: str,
        *,
        description: Optional[str] = None,
        token: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> NamespaceCreated:
        """Create a namespace.

        Parameters
        ----------
        id : str
            1–128 characters of ``A-Z a-z 0-9 _ . -``.
        description : str, optional
            Free text.
        token : str, optional
            Its token (``ns_<base64url(id)>_<64 hex>``); generated when ``None``.
        metadata : Mapping, optional
            Free JSON metadata.

        Returns
        -------
        NamespaceCreated
            With the token, shown this once (only its hash is stored).

        Raises
        ------
        InvalidRequestError
            A bad id, or a token that does not parse or names another namespace.
        NamespaceExistsError
            The namespace exists already.
        """
    def delete_namespace(self, id: str) -> NamespaceDeleted:
        """Delete a namespace and every message in it.

        Raises
        ------
        NamespaceNotFoundError
            No such namespace.
        InvalidRequestError
            ``"default"``, which every store keeps.
        """
    def list_namespaces(self) -> List[NamespaceSummary]:
        """Every namespace, newest first."""
    def namespace_info(self, id: str) -> NamespaceInfo:
        """A namespace's details, with real counts.

        Raises
        ------
        NamespaceNotFoundError
            No such namespace.
        """
    def list_streams(
        self,
        namespace: str,
        *,
        prefix: Optional[str] = None,
        cursor: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> List[StreamSummary]:
        """A namespace's streams in byte order of their names.

        Parameters
        ----------
        namespace : str
            The namespace id.
        prefix : str, optional
            Only names starting with this (a plain prefix, no wildcards).
        cursor : str, optional
            Only names after this one (exclusive): the last name of the previous page.
        limit : int, optional
            How many at most (1..1000, default 100).

        Raises
        ------
        InvalidRequestError
            A limit outside 1..1000.
        NamespaceNotFoundError
            No such namespace.
        """
    def list_categories(self, namespace: str) -> List[CategorySummary]:
        """A namespace's categories with their stream and message counts."""
    def close(self) -> None:
        """Closes the store: subscriptions end, later calls raise ``ClosedError``."""
    def __enter__(self) -> "Store": ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Literal[False]: ...

@final
class AsyncStore:
    """A message store for asyncio, embedded SQLite (in memory or files) or PostgreSQL.

    Open one with ``await AsyncStore.open(url)``; take a namespace's messages with
    ``store.namespace(id)``. Every I/O method returns an awaitable. Usable as an async context
    manager (closes on exit).

    Examples
    --------
    >>> async def main() -> None:
    ...     async with await AsyncStore.open(":memory:") as store:
    ...         await store.namespace("default").write("account-1", "Opened", {"owner": "ada"})
    """

    @staticmethod
    def open(url: str, *, durability: Optional[_Durability] = None) -> Awaitable["AsyncStore"]:
        """Opens a store: ``":memory:"``, a directory path, ``"sqlite://dir"`` or ``"postgres://…"``."""
    @property
    def backend(self) -> Literal["sqlite", "postgres"]:
        """``"sqlite"`` or ``"postgres"``."""
    def namespace(self, id: str) -> AsyncNamespace:
        """A handle on a namespace's messages (no I/O: an unknown namespace fails at first use)."""
    def ns(self, id: str) -> AsyncNamespace:
        """Short for ``namespace``."""
    def create_namespace(
        self,
        id: str,
        *,
        description: Optional[str] = None,
        token: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> Awaitable[NamespaceCreated]:
        """Creates a namespace; the result carries its token, shown this once."""
    def delete_namespace(self, id: str) -> Awaitable[NamespaceDeleted]:
        """Deletes a namespace and every message in it."""
    def list_namespaces(self) -> Awaitable[List[NamespaceSummary]]:
        """Every namespace, newest first."""
    def namespace_info(self, id: str) -> Awaitable[NamespaceInfo]:
        """A namespace's details, with real counts."""
    def list_streams(
        self,
        namespace: str,
        *,
        prefix: Optional[str] = None,
        cursor: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> Awaitable[List[StreamSummary]]:
        """A namespace's streams in byte order of their names."""
    def list_categories(self, namespace: str) -> Awaitable[List[CategorySummary]]:
        """A namespace's categories with their stream and message counts."""
    def close(self) -> Awaitable[None]:
        """Closes the store (awaitable): subscriptions end, later calls raise ``ClosedError``."""
    def __aenter__(self) -> Awaitable["AsyncStore"]: ...
    def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Awaitable[Literal[False]]: ...

@final
class Server:
    """A running server (from ``serve``). Usable as a context manager (closes on exit).

    Attributes
    ----------
    url : str
        ``http://127.0.0.1:<port>`` (or the bound host).
    port : int
        The bound port.
    token : str
        The ``default`` namespace's token (the admin token).
    backend : str
        ``"sqlite"`` or ``"postgres"``.
    """

    @property
    def url(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def token(self) -> str: ...
    @property
    def backend(self) -> Literal["sqlite", "postgres"]: ...
    @property
    def closed(self) -> bool:
        """Whether ``close`` was called."""
    def close(self, grace: float = 1.0) -> None:
        """Stops the server: no new connections, open ones get ``grace`` seconds to finish."""
    def __enter__(self) -> "Server": ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Literal[False]: ...

def serve(
    port: int = 0,
    test_mode: bool = True,
    db_url: Optional[str] = None,
    token: Optional[str] = None,
    data_dir: Optional[str] = None,
    host: Optional[str] = None,
) -> Server:
    """Start the server of ``messagedb serve`` in this process, on the shared runtime.

    Parameters
    ----------
    port : int
        The port; 0 picks a free one.
    test_mode : bool
        In-memory SQLite (unless ``db_url`` is given) and relaxed authentication.
    db_url : str, optional
        ``"postgres://…"`` or ``"sqlite://<dir>"``.
    token : str, optional
        The ``default`` namespace's token; generated (the well-known test token in test mode)
        when ``None``.
    data_dir : str, optional
        The SQLite directory without ``db_url`` and test mode (default ``./messagedb-data``).
    host : str, optional
        The address to bind (default ``127.0.0.1``, loopback only: test mode's ``default`` token
        is public; ``"0.0.0.0"`` or ``"::"`` listens on every interface).

    Returns
    -------
    Server
        With its ``url``, ``port`` and ``token``; close it (or use ``with``) when done.

    Raises
    ------
    InvalidRequestError
        A port outside 0–65535.
    MessageDBError
        Code ``"SERVER_START_FAILED"``: a bad token, a store that cannot be opened, a port in use.
    """

def category(name: str) -> str:
    """The category of a stream: the text before the first ``-`` (the whole name when there is none).

    Examples
    --------
    >>> category("account-123+retry")
    'account'
    """

def id(name: str) -> Optional[str]:
    """The id of a stream: the text after the first ``-``, ``None`` when there is no ``-``."""

def cardinal_id(name: str) -> Optional[str]:
    """The cardinal id of a stream: its id up to the first ``+``, ``None`` when there is no id."""

def error_codes() -> List[Tuple[str, int, bool]]:
    """Every error code of messagedb, as ``(code, http_status, retryable)``: the table every surface
    shares (core's ``ErrorCode``). ``retryable`` says whether an error of that code may succeed when
    tried again (``BACKEND_ERROR`` only; each such error says whether it does).
    """

def is_category(name: str) -> bool:
    """Whether a name is a category (has no ``-``) rather than one entity's stream."""

def hash64(value: str) -> int:
    """Message DB's ``hash_64``: the first 8 bytes of MD5(utf-8 value), big-endian, signed.

    Examples
    --------
    >>> hash64("abc")
    -8070080442485551184
    """

def consumer_group_member(name: str, size: int) -> Optional[int]:
    """The member of a consumer group of ``size`` members that reads a stream:
    ``abs(hash64(cardinal id)) % size``; ``None`` for a stream without an id (no member reads it)
    and for a size below 1.

    Examples
    --------
    >>> consumer_group_member("account-123", 2)
    1
    """

def _bench_rust_writes(url: str, n: int) -> float:
    """Opens ``url`` and writes ``n`` messages through the Rust API, in the loop ``bench.py`` runs through
    ``Store.write``; returns the seconds the writes took (opening excluded).
    """
