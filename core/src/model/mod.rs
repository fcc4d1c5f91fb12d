//! The model: messages, their JSON and times, the options of each operation and what operations
//! return.

mod json;
mod message;
mod options;
mod results;
mod time;

pub use json::JsonObject;
pub use message::{Message, NewMessage};
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
