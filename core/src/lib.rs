//! messagedb: a message store on the Message DB model — streams, categories, optimistic
//! concurrency, consumer groups and subscriptions — on embedded SQLite or PostgreSQL.
//!
//! Open a [`Store`] with [`Store::open`], take a [`Namespace`] with [`Store::namespace`], and write
//! and read messages there. Every error has a stable [`Error::code`]. Durable consumers are in
//! [`consumer`]; the HTTP server is the `messagedb-server` crate. The user guide is `docs/` in the
//! repository (getting started, concepts, references, operations).
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use messagedb::{CategoryOpts, ConsumerGroup, ErrorCode, NewMessage, Store, SubscribeOpts, WriteOpts};
//! use serde_json::json;
//!
//! let store = Store::open("sqlite::memory:").await?; // or "sqlite://./data", or "postgres://…"
//! let ns = store.namespace("default");
//!
//! // Write with an expected version: -1 = the stream must not exist yet.
//! ns.write("account-1", NewMessage::new("Opened", json!({"owner": "ada"}))?, WriteOpts::expect(-1)).await?;
//! ns.write_batch("account-1", vec![
//!     NewMessage::new("Deposited", json!({"amount": 10}))?,
//!     NewMessage::new("Deposited", json!({"amount": 5}))?,
//! ], WriteOpts::expect(0)).await?;
//!
//! // A writer that read an older version is refused, and nothing is written.
//! let stale = ns.write("account-1", NewMessage::new("Closed", json!({}))?, WriteOpts::expect(0)).await;
//! assert_eq!(stale.unwrap_err().kind(), ErrorCode::VersionConflict);
//!
//! // Read a stream, a category, one member's share of a category.
//! let history = ns.get_stream("account-1", &Default::default()).await?;
//! assert_eq!(history.iter().map(|m| m.position).collect::<Vec<_>>(), [0, 1, 2]);
//! let page = ns.get_category("account", &CategoryOpts::default().position(2).batch_size(100)).await?;
//! assert_eq!(page.len(), 2);
//! let member = ConsumerGroup::new(0, 2)?;
//! let _mine = ns.get_category("account", &CategoryOpts::default().consumer_group(member)).await?;
//!
//! // Subscribe: history, then live, each message once and in order.
//! let mut sub = ns.subscribe(SubscribeOpts::category("account")).await?;
//! let first = sub.next().await.expect("a message")?;
//! assert_eq!((first.stream_name.as_str(), first.global_position), ("account-1", 1));
//! # Ok::<_, messagedb::Error>(()) }).unwrap();
//! ```
#![forbid(unsafe_code)]

mod backend;
pub mod consumer;
mod error;
pub mod migrations;
mod model;
mod names;
pub mod record;
pub mod rules;
mod store;
mod subscribe;
pub mod threads;
pub mod token;

/// Test support (upgrade tests); not a stable API.
#[doc(hidden)]
pub use backend::sqlite::testing;
pub use error::{Error, ErrorCode, Result};
pub use model::{
    BatchResult, CategoryOpts, CategorySummary, ConsumerGroup, DEFAULT_BATCH_SIZE, GetStreamOpts,
    ImportResult, JsonObject, ListStreamsOpts, MAX_BATCH_SIZE, Message, MessageInput,
    NamespaceCreated, NamespaceDeleted, NamespaceInfo, NamespaceOpts, NamespaceSummary, NewMessage,
    StreamSummary, WriteOpts, WriteResult, format_time,
};
pub use model::{DEFAULT_NAMESPACE, Durability, StoreOptions};
pub use names::{
    cardinal_id, category, consumer_group_member, group_member, hash_64, id, in_consumer_group,
    is_category, stream_hash,
};
pub use rules::check_namespace_id;
pub use store::{Export, Namespace, Store};
pub use subscribe::{SubscribeOpts, Subscription, SubscriptionTarget};
