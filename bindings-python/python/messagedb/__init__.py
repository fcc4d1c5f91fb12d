"""messagedb: a message store on the Message DB model, embedded (SQLite) or on PostgreSQL.

Streams, categories, optimistic concurrency, consumer groups, subscriptions and durable consumers,
in-process through a Rust core. :class:`Store` blocks (releasing the GIL); :class:`AsyncStore` is for asyncio.

Examples
--------
>>> import messagedb
>>> with messagedb.Store.open(":memory:") as store:
...     ns = store.namespace("default")
...     ns.write("account-1", "Opened", {"owner": "ada"}, expected_version=-1)
...     [m.type for m in ns.get_stream("account-1")]
WriteResult(position=0, global_position=1)
['Opened']
"""

from messagedb._native import (
    AsyncConsumer,
    AsyncConsumerMessage,
    AsyncNamespace,
    AsyncStore,
    AsyncSubscription,
    BatchResult,
    CategorySummary,
    Consumer,
    ConsumerInfo,
    ConsumerMessage,
    Message,
    Namespace,
    NamespaceCreated,
    NamespaceDeleted,
    NamespaceInfo,
    NamespaceSummary,
    ParkedMessage,
    ReplayResult,
    Server,
    Store,
    StreamSummary,
    Subscription,
    WriteResult,
    __version__,
    cardinal_id,
    category,
    consumer_group_member,
    error_codes,
    hash64,
    id,
    is_category,
    serve,
)
from messagedb.consumers import AsyncConsumerHandle, ConsumerHandle
from messagedb.errors import (
    AuthError,
    BackendError,
    ClosedError,
    DuplicateMessageIdError,
    InvalidRequestError,
    MessageDBError,
    NamespaceExistsError,
    NamespaceNotFoundError,
    PositionExistsError,
    VersionConflictError,
)

__all__ = [
    "AsyncConsumer",
    "AsyncConsumerHandle",
    "AsyncConsumerMessage",
    "AsyncNamespace",
    "AsyncStore",
    "AsyncSubscription",
    "AuthError",
    "BackendError",
    "BatchResult",
    "CategorySummary",
    "ClosedError",
    "Consumer",
    "ConsumerHandle",
    "ConsumerInfo",
    "ConsumerMessage",
    "DuplicateMessageIdError",
    "InvalidRequestError",
    "Message",
    "MessageDBError",
    "Namespace",
    "NamespaceCreated",
    "NamespaceDeleted",
    "NamespaceExistsError",
    "NamespaceInfo",
    "NamespaceNotFoundError",
    "NamespaceSummary",
    "ParkedMessage",
    "PositionExistsError",
    "ReplayResult",
    "Server",
    "Store",
    "StreamSummary",
    "Subscription",
    "VersionConflictError",
    "WriteResult",
    "__version__",
    "cardinal_id",
    "category",
    "consumer_group_member",
    "error_codes",
    "hash64",
    "id",
    "is_category",
    "serve",
]
