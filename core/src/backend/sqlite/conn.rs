//! Opening SQLite connections, migrating them, and mapping SQLite's errors and rows.

use std::path::Path;
use std::time::Duration;

use chrono::DateTime;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, OpenFlags, Row};
use uuid::Uuid;

use crate::migrations::Migration;
use crate::model::Durability;
use crate::model::{JsonObject, Message};
use crate::{Error, Result};

/// How long a connection waits for another process's lock before failing as retryable.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens a database file (or a private in-memory database when `path` is `None`) with our pragmas.
pub(crate) fn open_connection(path: Option<&Path>, durability: Durability) -> Result<Connection> {
    let conn = match path {
        Some(p) => Connection::open_with_flags(
            p,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ),
        None => Connection::open_in_memory(),
    }
    .map_err(map_error)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(map_error)?;
    conn.set_prepared_statement_cache_capacity(64);
    // Without the query planner stability guarantee, binding `LIMIT ?` marks a cached statement
    // expired, and every read would be parsed and planned again.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .map_err(map_error)?;
    if path.is_some() {
        let synchronous = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
            Durability::Off => "OFF",
        };
        conn.execute_batch(&format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous};"
        ))
        .map_err(map_error)?;
    }
    Ok(conn)
}

/// The schema version a database is at (SQLite's `user_version`).
pub(crate) fn schema_version(conn: &Connection) -> Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(map_error)
}

/// Applies the migrations past the database's version, up to `upto` (all when `None`), each in
/// its own transaction with the version bump.
pub(crate) fn migrate(
    conn: &mut Connection,
    migrations: &[Migration],
    upto: Option<i64>,
) -> Result<i64> {
    let mut version = schema_version(conn)?;
    for m in migrations {
        if m.version <= version || upto.is_some_and(|u| m.version > u) {
            continue;
        }
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(map_error)?;
        // Another process may have migrated while we waited for the lock.
        if schema_version(&tx)? >= m.version {
            version = schema_version(&tx)?;
            continue;
        }
        tx.execute_batch(m.sql)
            .map_err(|e| Error::backend(format!("migration {} failed: {e}", m.name), false, e))?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", m.version))
            .map_err(map_error)?;
        tx.commit().map_err(map_error)?;
        version = m.version;
    }
    Ok(version)
}

/// The one place SQLite errors become messagedb errors.
pub(crate) fn map_error(e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(f, Some(msg)) = &e
        && f.code == ErrorCode::ConstraintViolation
    {
        if msg.contains("messages.id") {
            return Error::DuplicateMessageId(String::new());
        }
        if msg.contains("messages.stream_name") || msg.contains("messages.global_position") {
            return Error::PositionExists {
                message: msg.clone(),
                record: None,
            };
        }
    }
    let retryable = matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    );
    Error::backend(format!("SQLite: {e}"), retryable, e)
}

/// A message query: `SELECT <the columns message_from_row reads> FROM messages <rest>`.
macro_rules! select_messages {
    ($rest:literal) => {
        concat!(
            "SELECT id, stream_name, type, position, global_position, data, metadata, time FROM messages ",
            $rest
        )
    };
}
pub(crate) use select_messages;

/// A message from a row of [`select_messages`].
pub(crate) fn message_from_row(row: &Row<'_>) -> rusqlite::Result<Message> {
    let id: [u8; 16] = row.get(0)?;
    let data: String = row.get(5)?;
    let metadata: Option<String> = row.get(6)?;
    let micros: i64 = row.get(7)?;
    Ok(Message {
        id: Uuid::from_bytes(id),
        stream_name: row.get(1)?,
        message_type: row.get(2)?,
        position: row.get(3)?,
        global_position: row.get(4)?,
        data: JsonObject::from_stored(data),
        metadata: metadata.map(JsonObject::from_stored),
        time: DateTime::from_timestamp_micros(micros).unwrap_or_default(),
    })
}
