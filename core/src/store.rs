//! The public handle: [`Store`] (namespaces) and [`Namespace`] (messages).

use std::sync::Arc;

use crate::backend::postgres::PostgresBackend;
use crate::backend::sqlite::{SqliteBackend, SqliteLocation};
use crate::backend::{Backend, NamespaceBackend};
use crate::model::{
    BatchResult, CategoryOpts, CategorySummary, DEFAULT_NAMESPACE, GetStreamOpts, ImportResult,
    ListStreamsOpts, Message, NamespaceCreated, NamespaceDeleted, NamespaceInfo, NamespaceOpts,
    NamespaceSummary, NewMessage, StoreOptions, StreamSummary, WriteOpts, WriteResult, batch_limit,
    now,
};
use crate::rules::{
    MAX_DESCRIPTION_BYTES, MAX_STREAM_NAME_BYTES, MAX_TYPE_BYTES, check_category,
    check_namespace_id, check_stream_name, check_text,
};
use crate::subscribe::{SubscribeOpts, Subscription};
use crate::{Error, Result, token};

/// A message store: a cheap, cloneable handle over one backend.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use messagedb::{NewMessage, Store, WriteOpts};
/// let store = Store::open("sqlite::memory:").await?;
/// let ns = store.namespace("default");
/// let written = ns
///     .write("account-1", NewMessage::new("Opened", serde_json::json!({"owner": "ada"}))?, WriteOpts::expect(-1))
///     .await?;
/// assert_eq!(written.position, 0);
/// assert_eq!(ns.get_stream("account-1", &Default::default()).await?.len(), 1);
/// # Ok::<_, messagedb::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend.kind())
            .finish()
    }
}

impl Store {
    /// Opens a store. The URL picks the backend:
    /// `sqlite::memory:` (or `:memory:`) — embedded, in memory;
    /// `sqlite://<dir>` (or a plain directory path) — embedded, one file per namespace in `<dir>`;
    /// `postgres://…` — PostgreSQL.
    ///
    /// The `default` namespace exists after open, and every namespace is migrated to the latest
    /// schema.
    ///
    /// # Errors
    /// `INVALID_REQUEST` for an unknown URL, `BACKEND_ERROR` when the database cannot be opened.
    pub async fn open(url: &str) -> Result<Store> {
        Store::open_with(url, StoreOptions::default()).await
    }

    /// [`Store::open`] with options.
    ///
    /// # Errors
    /// As [`Store::open`].
    pub async fn open_with(url: &str, options: StoreOptions) -> Result<Store> {
        let backend: Arc<dyn Backend> = if url.starts_with("postgres://")
            || url.starts_with("postgresql://")
        {
            PostgresBackend::open(url, &options).await?
        } else {
            Arc::new(SqliteBackend::open(SqliteLocation::parse(url)?, options.durability).await?)
        };
        Ok(Store { backend })
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend_kind(&self) -> &'static str {
        self.backend.kind()
    }

    /// A handle on a namespace's messages. It does no I/O: an unknown namespace fails at first use
    /// with `NAMESPACE_NOT_FOUND`.
    pub fn namespace(&self, id: &str) -> Namespace {
        Namespace {
            backend: self.backend.clone(),
            id: id.into(),
            valid_id: check_namespace_id(id).is_ok(),
        }
    }

    /// Short for [`Store::namespace`].
    pub fn ns(&self, id: &str) -> Namespace {
        self.namespace(id)
    }

    /// Creates a namespace. The token, given or generated, is returned once; only its SHA-256 is
    /// stored.
    ///
    /// # Errors
    /// `INVALID_REQUEST` for a bad id or a token that does not parse or names another namespace;
    /// `NAMESPACE_EXISTS`.
    pub async fn create_namespace(
        &self,
        id: &str,
        opts: NamespaceOpts,
    ) -> Result<NamespaceCreated> {
        check_namespace_id(id)?;
        if let Some(d) = &opts.description {
            check_text(d, "options.description", MAX_DESCRIPTION_BYTES)?;
        }
        let token = match &opts.token {
            Some(t) => {
                let named = token::parse_token(t)
                    .map_err(|e| Error::invalid(format!("Invalid token format: {e}")))?;
                if named != id {
                    return Err(Error::invalid(format!(
                        "Token is for namespace '{named}', not '{id}'"
                    )));
                }
                t.clone()
            }
            None => token::generate_token(id),
        };
        let created_at = now();
        self.backend
            .create_namespace(id, &token::hash_token(&token), &opts, created_at)
            .await?;
        Ok(NamespaceCreated {
            namespace: id.into(),
            token,
            created_at,
        })
    }

    /// Deletes a namespace and every message in it. On storage other processes may share, it
    /// returns [`token::TRUST`] after the delete committed: from then on no process accepts the
    /// namespace's token or reaches its messages.
    ///
    /// # Errors
    /// `NAMESPACE_NOT_FOUND`; `INVALID_REQUEST` for `default`, which every store keeps (its token
    /// is the admin token, and on PostgreSQL it may be an existing Message DB schema).
    pub async fn delete_namespace(&self, id: &str) -> Result<NamespaceDeleted> {
        check_namespace_id(id)?;
        if id == DEFAULT_NAMESPACE {
            return Err(Error::invalid("the default namespace cannot be deleted"));
        }
        let messages_deleted = self.backend.delete_namespace(id).await?;
        self.outlast_trust().await;
        Ok(NamespaceDeleted {
            namespace: id.into(),
            deleted_at: now(),
            messages_deleted,
        })
    }

    /// Every namespace, newest first.
    ///
    /// # Errors
    /// `BACKEND_ERROR`.
    pub async fn list_namespaces(&self) -> Result<Vec<NamespaceSummary>> {
        self.backend.list_namespaces().await
    }

    /// A namespace's details, with real counts.
    ///
    /// # Errors
    /// `NAMESPACE_NOT_FOUND`.
    pub async fn namespace_info(&self, id: &str) -> Result<NamespaceInfo> {
        check_namespace_id(id)?;
        self.backend.namespace_info(id).await
    }

    /// Whether `token` is the token of namespace `id` (constant-time hash comparison).
    ///
    /// # Errors
    /// `NAMESPACE_NOT_FOUND`.
    pub async fn verify_token(&self, id: &str, token: &str) -> Result<bool> {
        check_namespace_id(id)?;
        Ok(self
            .backend
            .token_hash(id)
            .await?
            .is_some_and(|hash| token::verify_token(token, &hash)))
    }

    /// Makes `token` the token of namespace `id` (e.g. the server's `--token` for `default`). On
    /// storage other processes may share, a change returns [`token::TRUST`] after it committed:
    /// from then on no process accepts the old token.
    ///
    /// # Errors
    /// `INVALID_REQUEST` when the token does not name `id`; `NAMESPACE_NOT_FOUND`.
    pub async fn set_token(&self, id: &str, token: &str) -> Result<()> {
        let named = token::parse_token(token)
            .map_err(|e| Error::invalid(format!("Invalid token format: {e}")))?;
        if named != id {
            return Err(Error::invalid(format!(
                "Token is for namespace '{named}', not '{id}'"
            )));
        }
        if self.verify_token(id, token).await? {
            return Ok(()); // already its token: nothing to revoke
        }
        self.backend
            .set_token_hash(id, &token::hash_token(token))
            .await?;
        self.outlast_trust().await;
        Ok(())
    }

    /// Waits until no process sharing the storage can still trust what it read of the registry
    /// before a change that just committed (see [`token::TRUST`]). Memory is never shared.
    async fn outlast_trust(&self) {
        if self.backend.shared() {
            tokio::time::sleep(token::TRUST).await;
        }
    }

    /// Closes the store: subscriptions end, later calls fail with `CLOSED`.
    pub async fn close(&self) {
        self.backend.close().await;
    }
}

/// A namespace's messages. Cheap to clone.
#[derive(Clone)]
pub struct Namespace {
    backend: Arc<dyn Backend>,
    id: Arc<str>,
    /// Checked once, when the handle is made: an id that cannot exist fails every call.
    valid_id: bool,
}

impl std::fmt::Debug for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Namespace").field("id", &self.id).finish()
    }
}

impl Namespace {
    /// The namespace id.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) async fn storage(&self) -> Result<Arc<dyn NamespaceBackend>> {
        if !self.valid_id {
            check_namespace_id(&self.id)?;
        }
        self.backend.namespace(&self.id).await
    }

    /// Writes one message. `opts.expected_version` (-1 = the stream must be empty) is checked
    /// atomically with the insert.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use messagedb::{Error, NewMessage, Store, WriteOpts};
    /// let ns = Store::open("sqlite::memory:").await?.namespace("default");
    /// let opened = NewMessage::new("Opened", serde_json::json!({"owner": "ada"}))?;
    /// let w = ns.write("account-1", opened, WriteOpts::expect(-1)).await?;
    /// assert_eq!((w.position, w.global_position), (0, 1));
    ///
    /// // Written again with the same expectation: refused, with what the stream is at.
    /// let again = NewMessage::new("Opened", serde_json::json!({"owner": "bob"}))?;
    /// match ns.write("account-1", again, WriteOpts::expect(-1)).await {
    ///     Err(Error::VersionConflict { expected, actual, .. }) => assert_eq!((expected, actual), (-1, 0)),
    ///     other => panic!("expected a conflict, got {other:?}"),
    /// }
    /// # Ok::<_, messagedb::Error>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// `INVALID_REQUEST`, `STREAM_VERSION_CONFLICT` (nothing written), `DUPLICATE_MESSAGE_ID`,
    /// `NAMESPACE_NOT_FOUND`, `BACKEND_ERROR`.
    pub async fn write(
        &self,
        stream_name: &str,
        message: NewMessage,
        opts: WriteOpts,
    ) -> Result<WriteResult> {
        check_stream_name(stream_name)?;
        message.check()?;
        let r = self
            .storage()
            .await?
            .write(stream_name, vec![message], opts)
            .await?;
        Ok(WriteResult {
            position: r.position,
            global_position: r.global_position,
        })
    }

    /// Writes several messages to one stream atomically: all at contiguous positions, or none.
    ///
    /// # Errors
    /// As [`Namespace::write`]; `INVALID_REQUEST` for an empty batch.
    pub async fn write_batch(
        &self,
        stream_name: &str,
        messages: Vec<NewMessage>,
        opts: WriteOpts,
    ) -> Result<BatchResult> {
        check_stream_name(stream_name)?;
        if messages.is_empty() {
            return Err(Error::invalid("messages must be a non-empty array"));
        }
        for m in &messages {
            m.check()?;
        }
        self.storage()
            .await?
            .write(stream_name, messages, opts)
            .await
    }

    /// A stream's messages in position order.
    ///
    /// # Errors
    /// `INVALID_REQUEST` for a batch size over 10000.
    pub async fn get_stream(
        &self,
        stream_name: &str,
        opts: &GetStreamOpts,
    ) -> Result<Vec<Message>> {
        check_stream_name(stream_name)?;
        batch_limit(opts.batch_size)?;
        self.storage().await?.get_stream(stream_name, opts).await
    }

    /// A stream's last message, optionally the last of a type (`None`/`""` = any).
    ///
    /// # Errors
    /// `INVALID_REQUEST` for an empty stream name.
    pub async fn get_last(
        &self,
        stream_name: &str,
        message_type: Option<&str>,
    ) -> Result<Option<Message>> {
        check_stream_name(stream_name)?;
        let message_type = message_type.filter(|t| !t.is_empty());
        if let Some(t) = message_type {
            check_text(t, "options.type", MAX_TYPE_BYTES)?;
        }
        self.storage()
            .await?
            .get_last(stream_name, message_type)
            .await
    }

    /// A stream's version (its last position), `None` when it has no messages.
    ///
    /// # Errors
    /// `INVALID_REQUEST` for an empty stream name.
    pub async fn stream_version(&self, stream_name: &str) -> Result<Option<i64>> {
        check_stream_name(stream_name)?;
        self.storage().await?.stream_version(stream_name).await
    }

    /// A category's messages in global order; `""` reads every message of the namespace.
    /// A name with `-` is not a category and returns nothing.
    ///
    /// A reader pages with the last global position it saw plus one; a consumer group member
    /// gets every message of the streams whose cardinal id hashes to it (all of a stream's
    /// messages go to one member).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use messagedb::{CategoryOpts, ConsumerGroup, NewMessage, Store, WriteOpts};
    /// let ns = Store::open("sqlite::memory:").await?.namespace("default");
    /// for i in 1..=5 {
    ///     let m = NewMessage::new("Opened", serde_json::json!({"n": i}))?;
    ///     ns.write(&format!("account-{i}"), m, WriteOpts::default()).await?;
    /// }
    /// let mut position = 1;
    /// let mut seen = Vec::new();
    /// loop {
    ///     let page = ns.get_category("account", &CategoryOpts::default().position(position).batch_size(2)).await?;
    ///     let Some(last) = page.last() else { break };
    ///     position = last.global_position + 1;
    ///     seen.extend(page.iter().map(|m| m.stream_name.clone()));
    /// }
    /// assert_eq!(seen.len(), 5);
    ///
    /// let members = [ConsumerGroup::new(0, 2)?, ConsumerGroup::new(1, 2)?];
    /// let mut total = 0;
    /// for g in members {
    ///     total += ns.get_category("account", &CategoryOpts::default().consumer_group(g)).await?.len();
    /// }
    /// assert_eq!(total, 5); // each stream to exactly one member
    /// # Ok::<_, messagedb::Error>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// `INVALID_REQUEST` for a batch size over 10000.
    pub async fn get_category(&self, category: &str, opts: &CategoryOpts) -> Result<Vec<Message>> {
        batch_limit(opts.batch_size)?;
        check_category(category)?;
        if let Some(c) = &opts.correlation {
            check_text(c, "options.correlation", MAX_STREAM_NAME_BYTES)?;
        }
        if category.contains('-') {
            self.storage().await?;
            return Ok(Vec::new());
        }
        self.storage().await?.get_category(category, opts).await
    }

    /// Streams in byte order of their names.
    ///
    /// # Errors
    /// `INVALID_REQUEST` for a limit outside 1..=1000.
    pub async fn list_streams(&self, opts: &ListStreamsOpts) -> Result<Vec<StreamSummary>> {
        if let Some(limit) = opts.limit
            && !(1..=1000).contains(&limit)
        {
            return Err(Error::invalid("limit must be between 1 and 1000"));
        }
        for (text, what) in [(&opts.prefix, "prefix"), (&opts.cursor, "cursor")] {
            if let Some(t) = text {
                check_text(t, what, MAX_STREAM_NAME_BYTES)?;
            }
        }
        self.storage().await?.list_streams(opts).await
    }

    /// Categories in byte order, with stream and message counts.
    ///
    /// # Errors
    /// `NAMESPACE_NOT_FOUND`.
    pub async fn list_categories(&self) -> Result<Vec<CategorySummary>> {
        self.storage().await?.list_categories().await
    }

    /// Subscribes: every matching message at or after the start position, history then live,
    /// exactly once and in order.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use messagedb::{NewMessage, Store, SubscribeOpts, WriteOpts};
    /// use std::time::Duration;
    /// let ns = Store::open("sqlite::memory:").await?.namespace("default");
    /// ns.write("account-1", NewMessage::new("Opened", serde_json::json!({}))?, WriteOpts::default()).await?;
    /// let mut sub = ns.subscribe(SubscribeOpts::category("account")).await?;
    /// // Written after the subscription began: handed out live, after the history.
    /// ns.write("account-2", NewMessage::new("Opened", serde_json::json!({}))?, WriteOpts::default()).await?;
    /// for expected in ["account-1", "account-2"] {
    ///     let next = tokio::time::timeout(Duration::from_secs(10), sub.next()).await;
    ///     let m = next.expect("within 10 s").expect("open")?;
    ///     assert_eq!(m.stream_name, expected);
    /// }
    /// # Ok::<_, messagedb::Error>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// `INVALID_REQUEST`, `NAMESPACE_NOT_FOUND`.
    pub async fn subscribe(&self, opts: SubscribeOpts) -> Result<Subscription> {
        Subscription::new(self.storage().await?, opts)
    }

    /// Imports messages keeping their ids, positions, global positions and times, in one
    /// transaction. Global positions must increase and come after the namespace's last one.
    ///
    /// # Errors
    /// `INVALID_REQUEST`, `POSITION_EXISTS`, `DUPLICATE_MESSAGE_ID` (nothing of the batch written).
    pub async fn import(&self, records: Vec<Message>) -> Result<ImportResult> {
        let mut last = 0;
        for r in &records {
            r.check_imported()?;
            if r.global_position <= last {
                return Err(Error::invalid("global positions must be increasing"));
            }
            last = r.global_position;
        }
        if records.is_empty() {
            return Ok(ImportResult {
                imported: 0,
                last_global_position: 0,
            });
        }
        self.storage()
            .await?
            .import(records)
            .await
            .map_err(|e| self.named(e))
    }

    /// Names this namespace in the error of storage that is gone (a backend that found its
    /// storage deleted by another process does not know the id).
    fn named(&self, e: Error) -> Error {
        match e {
            Error::NamespaceNotFound(id) if id.is_empty() => {
                Error::NamespaceNotFound(self.id.to_string())
            }
            other => other,
        }
    }

    /// Removes every message of the namespace (before a forced import); returns how many.
    ///
    /// # Errors
    /// `NAMESPACE_NOT_FOUND`.
    pub async fn clear(&self) -> Result<i64> {
        self.storage()
            .await?
            .clear()
            .await
            .map_err(|e| self.named(e))
    }

    /// Reads the whole namespace in global order, a page at a time, from `from` (a global position).
    pub fn export(&self, from: i64) -> Export {
        Export {
            namespace: self.clone(),
            next: from.max(1),
            done: false,
        }
    }
}

/// Pages of a namespace's messages in global order (see [`Namespace::export`]).
#[derive(Debug)]
pub struct Export {
    namespace: Namespace,
    next: i64,
    done: bool,
}

impl Export {
    /// The next page (up to 1000 messages), empty at the end.
    ///
    /// # Errors
    /// `NAMESPACE_NOT_FOUND`, `BACKEND_ERROR`.
    pub async fn next_page(&mut self) -> Result<Vec<Message>> {
        if self.done {
            return Ok(Vec::new());
        }
        let opts = CategoryOpts {
            position: Some(self.next),
            batch_size: Some(1000),
            ..Default::default()
        };
        let page = self.namespace.get_category("", &opts).await?;
        match page.last() {
            Some(m) => self.next = m.global_position + 1,
            None => self.done = true,
        }
        Ok(page)
    }
}
