//! Messages: one to write ([`NewMessage`]) and one stored ([`Message`]).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::json::JsonObject;
use super::time::format_time;
use crate::Result;
use crate::rules::check_type;

/// A message to write.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NewMessage {
    /// The message type (non-empty).
    pub message_type: String,
    /// The payload.
    pub data: JsonObject,
    /// Optional metadata.
    pub metadata: Option<JsonObject>,
    /// The id; generated as a UUIDv7 when `None`.
    pub id: Option<Uuid>,
}

impl NewMessage {
    /// A message of `message_type` carrying `data`, which must be a JSON object.
    ///
    /// ```
    /// let m = messagedb::NewMessage::new("Deposited", serde_json::json!({"amount": 10})).unwrap();
    /// assert_eq!(m.data.as_str(), r#"{"amount":10}"#);
    /// ```
    ///
    /// # Errors
    /// `INVALID_REQUEST` when the type is empty or `data` is not an object.
    pub fn new(message_type: impl Into<String>, data: serde_json::Value) -> Result<Self> {
        let message_type = message_type.into();
        check_type(&message_type)?;
        Ok(NewMessage {
            message_type,
            data: JsonObject::from_value(&data, "message.data")?,
            metadata: None,
            id: None,
        })
    }

    /// A message from its parts as already validated JSON objects.
    pub fn from_parts(
        message_type: impl Into<String>,
        data: JsonObject,
        metadata: Option<JsonObject>,
        id: Option<Uuid>,
    ) -> Self {
        NewMessage {
            message_type: message_type.into(),
            data,
            metadata,
            id,
        }
    }

    /// Sets the metadata (an object, or `null` for none).
    ///
    /// # Errors
    /// `INVALID_REQUEST` when it is neither an object nor null.
    pub fn with_metadata(mut self, metadata: serde_json::Value) -> Result<Self> {
        self.metadata = match metadata {
            serde_json::Value::Null => None,
            m => Some(JsonObject::from_value(&m, "message.metadata")?),
        };
        Ok(self)
    }

    /// Sets the id.
    pub fn with_id(mut self, id: Uuid) -> Self {
        self.id = Some(id);
        self
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Message {
    /// Its id.
    pub id: Uuid,
    /// The stream it belongs to.
    pub stream_name: String,
    /// Its type.
    pub message_type: String,
    /// Its position in the stream (0-based, gapless).
    pub position: i64,
    /// Its position in the namespace (from 1, increasing in commit order).
    pub global_position: i64,
    /// The payload.
    pub data: JsonObject,
    /// The metadata, `None` when the message has none.
    pub metadata: Option<JsonObject>,
    /// When it was written, UTC, microsecond precision.
    pub time: DateTime<Utc>,
}

impl Message {
    /// A message with every field given (for imports).
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        id: Uuid,
        stream_name: String,
        message_type: String,
        position: i64,
        global_position: i64,
        data: JsonObject,
        metadata: Option<JsonObject>,
        time: DateTime<Utc>,
    ) -> Self {
        Message {
            id,
            stream_name,
            message_type,
            position,
            global_position,
            data,
            metadata,
            time,
        }
    }

    /// The time as UTC RFC 3339 with `Z` and the fraction trimmed of trailing zeros
    /// (`2024-01-15T10:30:00.123456Z`), the wire format.
    pub fn time_rfc3339(&self) -> String {
        format_time(self.time)
    }
}
