//! The messages, the options of each operation and what operations return.

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::rules::{check_json, check_type};
use crate::{Error, Result};

/// A JSON object, kept as its text so that every value round-trips exactly (large integers too).
///
/// Text from callers is validated once; text read back from storage is trusted (it was validated
/// when written) and only parsed when serialized. Equality compares the text.
#[derive(Clone)]
pub struct JsonObject(String);

impl PartialEq for JsonObject {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for JsonObject {}

impl JsonObject {
    /// Parses JSON text that must be an object. `what` names the value in the error message
    /// (`"message.data"` → "message.data must be an object").
    ///
    /// # Errors
    /// `INVALID_REQUEST` when the text is not JSON or not an object.
    pub fn from_json(text: &str, what: &str) -> Result<Self> {
        let raw: &RawValue = serde_json::from_str(text)
            .map_err(|e| Error::invalid(format!("{what} is not valid JSON: {e}")))?;
        Self::from_raw(raw, what)
    }

    /// Takes already parsed raw JSON that must be an object.
    ///
    /// # Errors
    /// `INVALID_REQUEST` when it is not an object.
    pub fn from_raw(raw: &RawValue, what: &str) -> Result<Self> {
        if !raw.get().trim_start().starts_with('{') {
            return Err(Error::invalid(format!("{what} must be an object")));
        }
        check_json(raw.get(), what)?;
        Ok(JsonObject(raw.get().to_owned()))
    }

    /// Converts a `serde_json::Value` that must be an object.
    ///
    /// # Errors
    /// `INVALID_REQUEST` when it is not an object.
    pub fn from_value(value: &serde_json::Value, what: &str) -> Result<Self> {
        if !value.is_object() {
            return Err(Error::invalid(format!("{what} must be an object")));
        }
        let text = serde_json::to_string(value)
            .map_err(|e| Error::invalid(format!("{what} cannot be encoded: {e}")))?;
        check_json(&text, what)?;
        Ok(JsonObject(text))
    }

    /// Text read back from storage, trusted to be the object it was written as.
    pub(crate) fn from_stored(text: String) -> Self {
        JsonObject(text)
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The JSON as a raw value, for embedding in a larger serialized document without re-encoding.
    ///
    /// # Errors
    /// When stored text is not JSON (a corrupt database).
    pub fn as_raw(&self) -> serde_json::Result<&RawValue> {
        serde_json::from_str(&self.0)
    }

    /// Parses the object into a `serde_json::Value`.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.0).unwrap_or(serde_json::Value::Null)
    }
}

impl std::fmt::Debug for JsonObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for JsonObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.as_raw()
            .map_err(serde::ser::Error::custom)?
            .serialize(serializer)
    }
}

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

/// Formats a time as the wire format: RFC 3339, `Z`, microseconds with trailing zeros trimmed.
pub fn format_time(time: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    let nanos = time.nanosecond();
    let year = time.year();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        // Outside the common shape (a leap second, a year of other than four digits).
        return slow_format_time(time);
    }
    let mut s = String::with_capacity(27);
    let _ = write!(
        s,
        "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        time.month(),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    );
    let mut micros = nanos / 1000;
    if micros > 0 {
        let mut digits = 6;
        while micros.is_multiple_of(10) {
            micros /= 10;
            digits -= 1;
        }
        let _ = write!(s, ".{micros:0digits$}");
    }
    s.push('Z');
    s
}

fn slow_format_time(time: DateTime<Utc>) -> String {
    let mut s = time.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
    while s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    s.push('Z');
    s
}

fn wire_time<S: Serializer>(
    time: &DateTime<Utc>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_time(*time))
}

/// Serializes an optional time in the wire format, `null` when absent.
fn wire_time_opt<S: Serializer>(
    time: &Option<DateTime<Utc>>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    match time {
        Some(t) => serializer.serialize_str(&format_time(*t)),
        None => serializer.serialize_none(),
    }
}

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

/// Options of a write.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct WriteOpts {
    /// The version the stream must be at (-1: the stream must have no messages).
    pub expected_version: Option<i64>,
}

impl WriteOpts {
    /// Expect the stream at `version` (-1 = empty).
    pub fn expect(version: i64) -> Self {
        WriteOpts {
            expected_version: Some(version),
        }
    }
}

/// The default number of messages a read returns.
pub const DEFAULT_BATCH_SIZE: i64 = 1000;
/// The largest batch size a read accepts (besides -1, unlimited).
pub const MAX_BATCH_SIZE: i64 = 10_000;

/// Options of a stream read.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct GetStreamOpts {
    /// First stream position to return (inclusive; default 0; negative = from the start).
    pub position: Option<i64>,
    /// When given, replaces `position`: messages with a global position ≥ this, still in stream order.
    pub global_position: Option<i64>,
    /// How many messages at most (default 1000, max 10000; -1, 0 or negative = unlimited).
    pub batch_size: Option<i64>,
}

impl GetStreamOpts {
    /// Start at this stream position (inclusive).
    pub fn position(mut self, position: i64) -> Self {
        self.position = Some(position);
        self
    }

    /// Start at this global position instead (inclusive), still in stream order.
    pub fn global_position(mut self, global_position: i64) -> Self {
        self.global_position = Some(global_position);
        self
    }

    /// Return at most this many messages (-1 = unlimited).
    pub fn batch_size(mut self, batch_size: i64) -> Self {
        self.batch_size = Some(batch_size);
        self
    }
}

/// A consumer group member: `member` of `size` (0 ≤ member < size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerGroup {
    /// This consumer's member number.
    pub member: i64,
    /// How many members the group has.
    pub size: i64,
}

impl ConsumerGroup {
    /// Checks the rules of wire-protocol.md §3.
    ///
    /// # Errors
    /// `INVALID_REQUEST` with the wire messages.
    pub fn new(member: i64, size: i64) -> Result<Self> {
        if member < 0 {
            return Err(Error::invalid(
                "options.consumerGroup.member must be non-negative",
            ));
        }
        if size <= 0 {
            return Err(Error::invalid(
                "options.consumerGroup.size must be positive",
            ));
        }
        if member >= size {
            return Err(Error::invalid(
                "options.consumerGroup.member must be < size",
            ));
        }
        Ok(ConsumerGroup { member, size })
    }

    /// A group from optional parts: both (checked as [`ConsumerGroup::new`]) or neither (`None`).
    ///
    /// # Errors
    /// `INVALID_REQUEST` "options.consumerGroup requires both member and size" for one alone.
    pub fn from_parts(member: Option<i64>, size: Option<i64>) -> Result<Option<Self>> {
        match (member, size) {
            (None, None) => Ok(None),
            (Some(member), Some(size)) => ConsumerGroup::new(member, size).map(Some),
            _ => Err(Error::invalid(
                "options.consumerGroup requires both member and size",
            )),
        }
    }
}

/// Options of a category read.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CategoryOpts {
    /// First global position to return (inclusive; default 1).
    pub position: Option<i64>,
    /// How many messages at most (default 1000, max 10000; -1, 0 or negative = unlimited).
    pub batch_size: Option<i64>,
    /// Keep only messages whose `metadata.correlationStreamName` has this category (`""` = all).
    pub correlation: Option<String>,
    /// Keep only the streams of this consumer group member (applied before the batch limit).
    pub consumer_group: Option<ConsumerGroup>,
}

impl CategoryOpts {
    /// Start at this global position (inclusive).
    pub fn position(mut self, position: i64) -> Self {
        self.position = Some(position);
        self
    }

    /// Return at most this many messages (-1 = unlimited).
    pub fn batch_size(mut self, batch_size: i64) -> Self {
        self.batch_size = Some(batch_size);
        self
    }

    /// Keep only messages correlated with this category.
    pub fn correlation(mut self, category: impl Into<String>) -> Self {
        self.correlation = Some(category.into());
        self
    }

    /// Keep only this consumer group member's streams.
    pub fn consumer_group(mut self, group: ConsumerGroup) -> Self {
        self.consumer_group = Some(group);
        self
    }
}

/// The effective limit of a batch size option, `None` = unlimited.
pub(crate) fn batch_limit(batch_size: Option<i64>) -> Result<Option<i64>> {
    match batch_size.unwrap_or(DEFAULT_BATCH_SIZE) {
        n if n > MAX_BATCH_SIZE => Err(Error::invalid(
            "options.batchSize must be <= 10000 or -1 for unlimited",
        )),
        n if n <= 0 => Ok(None),
        n => Ok(Some(n)),
    }
}

/// A namespace to create.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct NamespaceOpts {
    /// Free text.
    pub description: Option<String>,
    /// The namespace's token (must name this namespace); generated when `None`.
    pub token: Option<String>,
    /// Free JSON metadata.
    pub metadata: Option<JsonObject>,
}

impl NamespaceOpts {
    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the token (it must name the namespace).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Sets the metadata.
    pub fn metadata(mut self, metadata: JsonObject) -> Self {
        self.metadata = Some(metadata);
        self
    }
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

/// Options of a stream listing.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ListStreamsOpts {
    /// Only names starting with this (plain prefix, no wildcards).
    pub prefix: Option<String>,
    /// Only names after this one (exclusive, byte order).
    pub cursor: Option<String>,
    /// How many at most (1..=1000, default 100).
    pub limit: Option<i64>,
}

impl ListStreamsOpts {
    /// Only names starting with this.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Only names after this one.
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// At most this many (1..=1000).
    pub fn limit(mut self, limit: i64) -> Self {
        self.limit = Some(limit);
        self
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_time_matches_the_general_formatting() {
        let mut t = 1_700_000_000_123_456_789_i64; // nanoseconds since the epoch
        for step in 0..5000_i64 {
            // Steps that give every count of trailing zeros in the microseconds.
            t += step * 1_000 * (1 + step % 7) * 10_i64.pow((step % 7) as u32);
            let time = DateTime::from_timestamp_nanos(t);
            assert_eq!(format_time(time), slow_format_time(time), "{t}");
        }
        let whole = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(format_time(whole), "2023-11-14T22:13:20Z");
        let early = DateTime::from_timestamp(-62_135_596_800 - 86_400, 5_000).unwrap();
        assert_eq!(format_time(early), slow_format_time(early));
    }
}
