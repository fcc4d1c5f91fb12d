//! messagedb: a message store on the Message DB model — streams, categories, optimistic
//! concurrency, consumer groups and subscriptions — on embedded SQLite or PostgreSQL.
//!
//! Open a [`Store`] with [`Store::open`], take a [`Namespace`] with [`Store::namespace`], and write
//! and read messages there. Every error has a stable [`Error::code`].
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
    cardinal_id, category, group_member, hash_64, id, in_consumer_group, is_category, stream_hash,
};
pub use rules::check_namespace_id;
pub use store::{Export, Namespace, Store};
pub use subscribe::{SubscribeOpts, Subscription, SubscriptionTarget};
