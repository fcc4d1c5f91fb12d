//! Messages: one to write ([`NewMessage`]) and one stored ([`Message`]).

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use uuid::Uuid;

use super::json::JsonObject;
use super::time::format_time;
use crate::Result;
use crate::rules;

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
        rules::check_type(&message_type)?;
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

    /// The rules of a written message ([`rules::check_message`]); the fields are public, so the
    /// store checks them again before a write.
    pub(crate) fn check(&self) -> Result<()> {
        rules::check_message(
            &self.message_type,
            self.metadata.as_ref().map(JsonObject::as_str),
        )
    }
}

/// A message to write as a surface receives it, before any rule: the type, the data and metadata
/// as raw JSON, the id as text. The server fills it from the request's JSON (already parsed), the
/// npm package and the Python package from JSON text of their values
/// ([`JsonObject::parse_raw`]); [`MessageInput::parse`] applies every rule, so the three answer
/// bad input alike.
#[derive(Debug, Clone, Copy)]
pub struct MessageInput<'a> {
    /// The message type.
    pub message_type: &'a str,
    /// The data (must be an object); `None` when absent.
    pub data: Option<&'a RawValue>,
    /// The metadata (an object, or `null` for none); `None` for none.
    pub metadata: Option<&'a RawValue>,
    /// The id: absent or `""` = generated, else a UUID.
    pub id: Option<&'a str>,
}

impl MessageInput<'_> {
    /// The message, checked: a non-empty type, data and metadata that are JSON objects within the
    /// rules of [`rules::check_json`], an id that is a UUID. `id_field` names where the id came
    /// from in the error message (`"message.id"`, or `"options.id"` for a single write).
    ///
    /// # Errors
    /// `INVALID_REQUEST`, naming the first field that breaks a rule.
    pub fn parse(self, id_field: &str) -> Result<NewMessage> {
        rules::check_type(self.message_type)?;
        let data = match self.data {
            Some(raw) => JsonObject::from_raw(raw, "message.data")?,
            None => return Err(crate::Error::invalid("message.data must be an object")),
        };
        let metadata = match self.metadata.filter(|m| m.get().trim() != "null") {
            Some(raw) => Some(JsonObject::from_raw(raw, "message.metadata")?),
            None => None,
        };
        let id = rules::message_id(self.id, id_field)?;
        Ok(NewMessage::from_parts(
            self.message_type,
            data,
            metadata,
            id,
        ))
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

    /// The rules of an imported message: those of a written one, a stream name, and positions
    /// within [`rules::MAX_IMPORTED_POSITION`].
    ///
    /// # Errors
    /// `INVALID_REQUEST`.
    pub fn check_imported(&self) -> Result<()> {
        rules::check_stream_name(&self.stream_name)?;
        rules::check_message(
            &self.message_type,
            self.metadata.as_ref().map(JsonObject::as_str),
        )?;
        rules::check_imported_positions(self.position, self.global_position)
    }
}
