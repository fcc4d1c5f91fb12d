//! messagedb: a message store on the Message DB model — streams, categories, optimistic
//! concurrency, consumer groups and subscriptions — on embedded SQLite or PostgreSQL.
//!
//! Open a [`Store`] with [`Store::open`], take a [`Namespace`] with [`Store::namespace`], and write
//! and read messages there. Every error has a stable [`Error::code`].
#![forbid(unsafe_code)]

mod backend;
mod error;
mod handles;
pub mod migrations;
mod model;
mod names;
mod postgres;
pub mod record;
pub mod rules;
mod sqlite;
mod store;
mod subscribe;
pub mod token;

pub use backend::{Backend, NamespaceBackend};
pub use error::{Error, ErrorCode, Result};
pub use model::{
    BatchResult, CategoryOpts, CategorySummary, ConsumerGroup, DEFAULT_BATCH_SIZE, GetStreamOpts,
    ImportResult, JsonObject, ListStreamsOpts, MAX_BATCH_SIZE, Message, NamespaceCreated,
    NamespaceDeleted, NamespaceInfo, NamespaceOpts, NamespaceSummary, NewMessage, StreamSummary,
    WriteOpts, WriteResult, format_time,
};
pub use names::{
    cardinal_id, category, group_member, hash_64, id, in_consumer_group, is_category, stream_hash,
};
pub use rules::check_namespace_id;
/// Test support (upgrade tests); not a stable API.
#[doc(hidden)]
pub use sqlite::testing;
pub use store::{DEFAULT_NAMESPACE, Durability, Export, Namespace, Store, StoreOptions};
pub use subscribe::{Commit, CommitLog, SubscribeOpts, Subscription, SubscriptionTarget};
