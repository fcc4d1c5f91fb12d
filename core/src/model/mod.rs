//! The model: messages, their JSON and times, the options of each operation and what operations
//! return, and the options a store is opened with. It depends on nothing else in the crate but
//! the error type and the input rules; everything else depends on it.

mod config;
mod json;
mod message;
mod options;
mod results;
mod time;

pub use config::{DEFAULT_NAMESPACE, Durability, StoreOptions};
pub use json::JsonObject;
pub use message::{Message, MessageInput, NewMessage};
pub(crate) use options::batch_limit;
pub use options::{
    CategoryOpts, ConsumerGroup, DEFAULT_BATCH_SIZE, GetStreamOpts, ListStreamsOpts,
    MAX_BATCH_SIZE, NamespaceOpts, WriteOpts,
};
pub use results::{
    BatchResult, CategorySummary, ImportResult, NamespaceCreated, NamespaceDeleted, NamespaceInfo,
    NamespaceSummary, StreamSummary, WriteResult,
};
pub use time::format_time;
pub(crate) use time::now;
