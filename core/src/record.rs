//! The NDJSON record of export and import (wire-protocol.md §6): one serde type that
//! `messagedb export` writes and `/import` reads, so the two cannot drift.

use std::borrow::Cow;

use chrono::DateTime;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::model::{JsonObject, Message};
use crate::{Error, ErrorCode, Result};

/// `{"id","stream","type","pos","gpos","data","meta","time"}`: one message, positions kept.
#[derive(Debug, Serialize, Deserialize)]
pub struct Record<'a> {
    /// The message id.
    pub id: Uuid,
    /// Its stream.
    #[serde(borrow)]
    pub stream: Cow<'a, str>,
    /// Its type.
    #[serde(rename = "type", borrow)]
    pub message_type: Cow<'a, str>,
    /// Its stream position.
    pub pos: i64,
    /// Its global position.
    pub gpos: i64,
    /// Its data (a JSON object).
    #[serde(borrow)]
    pub data: &'a RawValue,
    /// Its metadata (a JSON object), `null` when none.
    #[serde(borrow, default)]
    pub meta: Option<&'a RawValue>,
    /// Its time, RFC 3339.
    #[serde(borrow)]
    pub time: Cow<'a, str>,
}

impl<'a> Record<'a> {
    /// The record of a message (as `export` writes it).
    ///
    /// # Errors
    /// When the stored data or metadata is not JSON (it always is).
    pub fn of(m: &'a Message) -> Result<Record<'a>> {
        let raw = |o: &'a JsonObject| {
            o.as_raw()
                .map_err(|e| Error::backend("a stored message is not JSON", false, e))
        };
        Ok(Record {
            id: m.id,
            stream: Cow::Borrowed(&m.stream_name),
            message_type: Cow::Borrowed(&m.message_type),
            pos: m.position,
            gpos: m.global_position,
            data: raw(&m.data)?,
            meta: m.metadata.as_ref().map(raw).transpose()?,
            time: Cow::Owned(crate::model::format_time(m.time)),
        })
    }
}

impl Record<'_> {
    /// The message the record carries, checked by the input rules of an import
    /// ([`Message::check_imported`]).
    ///
    /// # Errors
    /// `INVALID_REQUEST` naming what is wrong (data or meta not an object, a bad time, a rule).
    pub fn into_message(self) -> Result<Message> {
        let data = JsonObject::from_raw(self.data, "data")?;
        let metadata = self
            .meta
            .map(|m| JsonObject::from_raw(m, "meta"))
            .transpose()?;
        let time = DateTime::parse_from_rfc3339(&self.time)
            .map_err(|e| Error::invalid(format!("invalid time '{}': {e}", self.time)))?
            .to_utc();
        let message = Message::from_parts(
            self.id,
            self.stream.into_owned(),
            self.message_type.into_owned(),
            self.pos,
            self.gpos,
            data,
            metadata,
            time,
        );
        message.check_imported()?;
        Ok(message)
    }
}

/// The code of an `/import` error event (wire-protocol.md §6): what stopped an import, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportErrorCode {
    /// A line that is not JSON (or not UTF-8).
    InvalidJson,
    /// A record of the wrong shape, or that an input rule refuses, or that is too long.
    InvalidRecord,
    /// A position or an id already taken.
    PositionExists,
    /// Anything else: the database failed, the namespace is gone, the store closed, the body
    /// could not be read.
    ImportFailed,
}

impl ImportErrorCode {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportErrorCode::InvalidJson => "INVALID_JSON",
            ImportErrorCode::InvalidRecord => "INVALID_RECORD",
            ImportErrorCode::PositionExists => "POSITION_EXISTS",
            ImportErrorCode::ImportFailed => "IMPORT_FAILED",
        }
    }

    /// The code of an error [`crate::Namespace::import`] returned.
    pub fn of(error: &Error) -> Self {
        match error.kind() {
            ErrorCode::PositionExists | ErrorCode::DuplicateMessageId => {
                ImportErrorCode::PositionExists
            }
            ErrorCode::InvalidRequest => ImportErrorCode::InvalidRecord,
            _ => ImportErrorCode::ImportFailed,
        }
    }
}

/// One NDJSON line of an import read into its message: JSON, a record, global positions that
/// increase (`after` is the previous record's), and the rules of [`Record::into_message`].
///
/// # Errors
/// The import code and a message for people.
pub fn parse_line(
    line: &str,
    after: i64,
) -> std::result::Result<Message, (ImportErrorCode, String)> {
    let value: &RawValue = serde_json::from_str(line)
        .map_err(|e| (ImportErrorCode::InvalidJson, format!("invalid JSON: {e}")))?;
    let record: Record = serde_json::from_str(value.get()).map_err(|e| {
        (
            ImportErrorCode::InvalidRecord,
            format!("invalid record: {e}"),
        )
    })?;
    if record.gpos <= after {
        return Err((
            ImportErrorCode::InvalidRecord,
            format!("gpos {} does not increase (after {after})", record.gpos),
        ));
    }
    record
        .into_message()
        .map_err(|e| (ImportErrorCode::InvalidRecord, e.to_string()))
}
