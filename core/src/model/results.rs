//! What operations return, serialized to their wire form.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::json::JsonObject;
use super::time::{wire_time, wire_time_opt};

/// Where a write landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteResult {
    /// The stream position of the (first) message written.
    pub position: i64,
    /// The global position of the (first) message written.
    pub global_position: i64,
}

/// Where a batch landed: contiguous positions from the first to the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResult {
    /// Stream position of the first message.
    pub position: i64,
    /// Global position of the first message.
    pub global_position: i64,
    /// Stream position of the last message.
    pub last_position: i64,
    /// Global position of the last message.
    pub last_global_position: i64,
}

/// A namespace just created, with its token (shown this once; only its hash is stored).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NamespaceCreated {
    /// The namespace id.
    pub namespace: String,
    /// The token.
    pub token: String,
    /// When it was created.
    #[serde(serialize_with = "wire_time")]
    pub created_at: DateTime<Utc>,
}

/// A namespace in a listing.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NamespaceSummary {
    /// The namespace id.
    pub namespace: String,
    /// Its description ("" when none).
    pub description: String,
    /// When it was created.
    #[serde(serialize_with = "wire_time")]
    pub created_at: DateTime<Utc>,
    /// How many messages it holds.
    pub message_count: i64,
}

/// A namespace's details.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NamespaceInfo {
    /// The namespace id.
    pub namespace: String,
    /// Its description ("" when none).
    pub description: String,
    /// When it was created.
    #[serde(serialize_with = "wire_time")]
    pub created_at: DateTime<Utc>,
    /// How many messages it holds.
    pub message_count: i64,
    /// How many streams it holds.
    pub stream_count: i64,
    /// Time of its newest message, `None` when empty.
    #[serde(serialize_with = "wire_time_opt")]
    pub last_activity: Option<DateTime<Utc>>,
    /// Its metadata, if any was given at creation.
    #[serde(skip)] // not on the wire (wire-protocol.md §3)
    pub metadata: Option<JsonObject>,
}

/// A namespace just deleted.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NamespaceDeleted {
    /// The namespace id.
    pub namespace: String,
    /// When it was deleted.
    #[serde(serialize_with = "wire_time")]
    pub deleted_at: DateTime<Utc>,
    /// How many messages it held.
    pub messages_deleted: i64,
}

/// A stream in a listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StreamSummary {
    /// The stream name.
    pub stream: String,
    /// Its version (position of its last message).
    pub version: i64,
    /// Time of its last message.
    #[serde(serialize_with = "wire_time")]
    pub last_activity: DateTime<Utc>,
}

/// A category in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CategorySummary {
    /// The category name.
    pub category: String,
    /// How many streams it has.
    pub stream_count: i64,
    /// How many messages it has.
    pub message_count: i64,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportResult {
    /// How many messages were imported.
    pub imported: u64,
    /// The last global position imported (0 when none).
    pub last_global_position: i64,
}
