//! The NDJSON record of export and import (wire-protocol.md §6): one serde type that
//! `messagedb export` writes and `/import` reads, so the two cannot drift.

use std::borrow::Cow;

use chrono::DateTime;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::model::{JsonObject, Message};
use crate::{Error, Result, rules};

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

impl Record<'_> {
    /// The message the record carries, checked by the input rules of an import
    /// ([`rules::check_imported`]).
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
        rules::check_imported(&message)?;
        Ok(message)
    }
}
