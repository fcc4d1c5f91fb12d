//! Storage: the traits every backend implements, the commit log they publish to, and one folder
//! per backend. This layer depends only on the model (`crate::model`), the input rules and the
//! error type; the facade (`crate::store`) and subscriptions (`crate::subscribe`) sit on top.
//!
//! The traits are crate-private: a backend is added inside this crate, next to these two, and
//! must pass the conformance suite (`core/tests/conformance`) on its own.

mod commits;
pub(crate) mod handles;
pub(crate) mod postgres;
pub(crate) mod sqlite;

pub(crate) use commits::{Commit, CommitLog};

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;
use crate::model::{
    BatchResult, CategoryOpts, CategorySummary, GetStreamOpts, ImportResult, ListStreamsOpts,
    Message, NamespaceInfo, NamespaceOpts, NamespaceSummary, NewMessage, StreamSummary, WriteOpts,
};

/// A storage backend: the namespace registry and access to each namespace's messages.
///
/// Every backend keeps the guarantees of design.md, and the conformance suite (`core/tests/`)
/// checks each of them on every backend:
///
/// 1. **No acknowledged write is lost**: a write returns only once it is durable under the
///    configured durability.
/// 2. **Readers never skip**: no read can observe global position N+1 and afterwards miss a message
///    at or below N that commits later. On SQLite global positions increase in commit order. On
///    PostgreSQL they do within a category (its lock is held from before a writer takes positions
///    until it commits); a whole-namespace read stops before a missing position until no writer
///    can still commit it.
/// 3. **Subscriptions** see every commit through the namespace's [`CommitLog`], published in
///    global-position order after the commit is visible to readers.
/// 4. **Bad input never half-writes**: a write (or batch, or import batch) lands whole or not at
///    all, and one failing write never fails the writes committed with it.
/// 5. **Namespaces are isolated**: each has its own positions, and its own storage.
///
/// Inputs reaching a backend were already validated by [`crate::Store`] (non-empty names and
/// types, batch sizes in range, JSON objects).
#[async_trait]
pub(crate) trait Backend: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn kind(&self) -> &'static str;

    /// Whether other processes may share this storage (and cache what they read of its registry
    /// for [`crate::token::TRUST`]).
    fn shared(&self) -> bool;

    /// The namespace's message storage.
    ///
    /// # Errors
    /// `NAMESPACE_NOT_FOUND`.
    async fn namespace(&self, id: &str) -> Result<Arc<dyn NamespaceBackend>>;

    /// Registers and creates a namespace with this token hash.
    ///
    /// # Errors
    /// `NAMESPACE_EXISTS`.
    async fn create_namespace(
        &self,
        id: &str,
        token_sha256: &str,
        opts: &NamespaceOpts,
        created_at: DateTime<Utc>,
    ) -> Result<()>;

    /// Removes a namespace and all its messages; returns how many messages it held.
    ///
    /// # Errors
    /// `NAMESPACE_NOT_FOUND`.
    async fn delete_namespace(&self, id: &str) -> Result<i64>;

    /// Every namespace, newest first, with real message counts.
    async fn list_namespaces(&self) -> Result<Vec<NamespaceSummary>>;

    /// A namespace's details with real counts.
    ///
    /// # Errors
    /// `NAMESPACE_NOT_FOUND`.
    async fn namespace_info(&self, id: &str) -> Result<NamespaceInfo>;

    /// The stored SHA-256 of a namespace's token (`None` when it has none yet).
    ///
    /// # Errors
    /// `NAMESPACE_NOT_FOUND`.
    async fn token_hash(&self, id: &str) -> Result<Option<String>>;

    /// Replaces the stored SHA-256 of a namespace's token.
    ///
    /// # Errors
    /// `NAMESPACE_NOT_FOUND`.
    async fn set_token_hash(&self, id: &str, token_sha256: &str) -> Result<()>;

    /// Closes every connection; later calls fail with `CLOSED`, subscriptions end.
    async fn close(&self);
}

/// One namespace's messages.
///
/// **Threads.** Callers poll these futures on threads that must not block for long: a server
/// serving thread (one per core, each serving its connections to the end), the JS main thread, an
/// asyncio worker. A method may do bounded work on the caller's thread, no more than a small read
/// costs; anything longer (a SQLite commit to a file with its fsync, the rows of a SQLite read past
/// its first [`crate::threads::INLINE_ROWS`]) runs on tokio's blocking pool, and PostgreSQL I/O
/// is asynchronous. Decided by measurement (`crate::threads`).
#[async_trait]
pub(crate) trait NamespaceBackend: Send + Sync + 'static {
    /// Writes messages (one or more) to one stream atomically at contiguous positions, checking
    /// `expected_version` against the stream's version inside the same transaction.
    ///
    /// # Errors
    /// `STREAM_VERSION_CONFLICT`, `DUPLICATE_MESSAGE_ID`, `BACKEND_ERROR`.
    async fn write(
        &self,
        stream_name: &str,
        messages: Vec<NewMessage>,
        opts: WriteOpts,
    ) -> Result<BatchResult>;

    /// A stream's messages by position.
    async fn get_stream(&self, stream_name: &str, opts: &GetStreamOpts) -> Result<Vec<Message>>;

    /// A stream's last message, optionally the last of a type.
    async fn get_last(
        &self,
        stream_name: &str,
        message_type: Option<&str>,
    ) -> Result<Option<Message>>;

    /// A stream's version: its last position, `None` when empty.
    async fn stream_version(&self, stream_name: &str) -> Result<Option<i64>>;

    /// A category's messages (every message for `""`) by global position.
    async fn get_category(&self, category: &str, opts: &CategoryOpts) -> Result<Vec<Message>>;

    /// Streams by name.
    async fn list_streams(&self, opts: &ListStreamsOpts) -> Result<Vec<StreamSummary>>;

    /// Categories by name, with counts.
    async fn list_categories(&self) -> Result<Vec<CategorySummary>>;

    /// Stores messages with their positions, global positions, ids and times kept, in one
    /// transaction. Global positions must be increasing and after the namespace's last one.
    ///
    /// # Errors
    /// `POSITION_EXISTS`, `DUPLICATE_MESSAGE_ID`.
    async fn import(&self, records: Vec<Message>) -> Result<ImportResult>;

    /// Removes every message; returns how many there were.
    async fn clear(&self) -> Result<i64>;

    /// The namespace's commit notifications, for subscriptions.
    fn commits(&self) -> &CommitLog;

    /// Called when a subscription starts: a backend that cannot be told of other processes'
    /// commits starts watching for them here.
    fn watch_other_writers(self: Arc<Self>) {}

    /// The namespace's head (its last global position, 0 when empty) and how many messages of
    /// `category` (`""` = all) come after global position `after`, counted up to `limit` along
    /// the category's index.
    async fn progress(&self, category: &str, after: i64, limit: i64) -> Result<(i64, i64)>;

    /// Takes the lock of a consumer identity (`key`, its position stream's name), trying again
    /// every `poll` until it is had; cancelled by dropping the future. The lock is released when
    /// the returned value is dropped, or when the process holding it dies.
    async fn lock_consumer(&self, key: &str, poll: Duration) -> Result<Box<dyn ConsumerLock>>;
}

/// A consumer identity's lock (consumers.md, "One active instance"), released when dropped.
#[async_trait]
pub(crate) trait ConsumerLock: Send + Sync {
    /// Whether it is still held (on PostgreSQL it dies with its connection's session); asked
    /// before a consumer hands out a message, at most every `within`.
    async fn held(&self, within: Duration) -> bool;
}
