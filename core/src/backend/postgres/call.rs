//! One call of a namespace's `messagedb_write`: the writes it carries, what each write's row of
//! the answer means, and how a failed call fails its writers.

use sqlx::Row;
use uuid::Uuid;

use super::schema::map_error;
use crate::model::{BatchResult, Message, NewMessage};
use crate::{Error, Result};

/// One queued write.
pub(crate) struct PgWrite {
    pub(super) stream_name: String,
    pub(super) messages: Vec<NewMessage>,
    pub(super) expected_version: Option<i64>,
    /// Each message's id, given or generated once here: a write run again after a failed call
    /// carries the same ids, so it can never land twice.
    pub(super) ids: Vec<Uuid>,
    /// Whether the caller gave ids (the function then checks them before inserting).
    pub(super) ids_given: bool,
}

impl PgWrite {
    pub(crate) fn new(
        stream_name: &str,
        messages: Vec<NewMessage>,
        expected_version: Option<i64>,
    ) -> Self {
        let ids_given = messages.iter().any(|m| m.id.is_some());
        let ids = messages
            .iter()
            .map(|m| m.id.unwrap_or_else(Uuid::now_v7))
            .collect();
        PgWrite {
            stream_name: stream_name.into(),
            messages,
            expected_version,
            ids,
            ids_given,
        }
    }
}

/// A failed call of `messagedb_write`.
pub(super) struct CallError {
    pub(super) error: Error,
    /// PostgreSQL answered the statement with an error, so its transaction rolled back and nothing
    /// of the call was written. Otherwise (the connection failed, an answer did not decode) the
    /// call may have committed.
    pub(super) rolled_back: bool,
}

impl CallError {
    pub(super) fn from_sqlx(e: sqlx::Error) -> Self {
        CallError {
            rolled_back: matches!(e, sqlx::Error::Database(_)),
            error: map_error(e),
        }
    }

    /// An error found after PostgreSQL answered: the call committed.
    pub(super) fn after_commit(error: Error) -> Self {
        CallError {
            error,
            rolled_back: false,
        }
    }
}

#[allow(clippy::type_complexity)]
pub(super) fn outcome(
    row: &sqlx::postgres::PgRow,
    w: &PgWrite,
    keep: bool,
) -> sqlx::Result<(Result<BatchResult>, Option<Vec<Message>>)> {
    let error: Option<String> = row.try_get(4)?;
    match error.as_deref() {
        Some("STREAM_VERSION_CONFLICT") => {
            return Ok((
                Err(Error::VersionConflict {
                    stream: w.stream_name.clone(),
                    expected: w.expected_version.unwrap_or_default(),
                    actual: row.try_get(5)?,
                }),
                None,
            ));
        }
        Some(_) => {
            let id: Option<Uuid> = row.try_get(6)?;
            return Ok((
                Err(Error::DuplicateMessageId(
                    id.map(|i| i.to_string()).unwrap_or_default(),
                )),
                None,
            ));
        }
        None => {}
    }
    let position: i64 = row.try_get(1)?;
    let global_position: i64 = row.try_get(2)?;
    let last_global_position: i64 = row.try_get(3)?;
    let time = row.try_get::<chrono::NaiveDateTime, _>(7)?.and_utc();
    let n = w.messages.len() as i64;
    // One INSERT numbers its rows in order; its global positions are contiguous unless a writer
    // outside messagedb took sequence values meanwhile, in which case subscribers read storage.
    let contiguous = last_global_position - global_position + 1 == n;
    let messages = (keep && contiguous).then(|| {
        w.messages
            .iter()
            .zip(&w.ids)
            .enumerate()
            .map(|(i, (m, id))| Message {
                id: *id,
                stream_name: w.stream_name.clone(),
                message_type: m.message_type.clone(),
                position: position + i as i64,
                global_position: global_position + i as i64,
                data: m.data.clone(),
                metadata: m.metadata.clone(),
                time,
            })
            .collect()
    });
    Ok((
        Ok(BatchResult {
            position,
            global_position,
            last_position: position + n - 1,
            last_global_position,
        }),
        messages,
    ))
}

/// The same error for every writer of a failed call (the driver's source stays with none of them).
pub(super) fn clone_error(e: &Error) -> Error {
    match e {
        Error::Closed => Error::Closed,
        Error::Backend {
            message, retryable, ..
        } => Error::Backend {
            message: message.clone(),
            retryable: *retryable,
            source: None,
        },
        other => Error::Backend {
            message: other.to_string(),
            retryable: false,
            source: None,
        },
    }
}
