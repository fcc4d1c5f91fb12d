//! The plain-rusqlite baseline: the schema, pragmas and SQL of messagedb's SQLite backend, called
//! directly on a connection, with none of messagedb's layers (no runtime, no queue, no trait
//! objects).

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, named_params};
use uuid::Uuid;

/// The busy timeout messagedb sets on every connection.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The stream read of messagedb's `read.rs` (from a stream position).
const STREAM_SQL: &str = "SELECT id, stream_name, type, position, global_position, data, metadata, time FROM messages WHERE stream_name = :s AND position >= :p ORDER BY position LIMIT :l";

/// The category read of messagedb's `read.rs` (no correlation, no consumer group).
const CATEGORY_SQL: &str = "SELECT id, stream_name, type, position, global_position, data, metadata, time FROM messages WHERE global_position >= :p AND category = :c ORDER BY global_position LIMIT :l";

/// The category read of messagedb's `read.rs` with a consumer group.
const CATEGORY_GROUP_SQL: &str = "SELECT id, stream_name, type, position, global_position, data, metadata, time FROM messages WHERE global_position >= :p AND category = :c AND abs(cardinal_hash % :size) = :member ORDER BY global_position LIMIT :l";

/// The insert of messagedb's `write.rs`.
const INSERT_SQL: &str = "INSERT INTO messages (position, time, stream_name, category, type, data, metadata, id, correlation, cardinal_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

/// A message read back, decoded into owned values as messagedb decodes it (JSON kept as text).
///
/// The harness only checks global positions; the other fields are decoded so that the baseline
/// does the same work as messagedb.
#[allow(dead_code)]
#[derive(Debug, Clone)]
pub struct BaselineMessage {
    /// The id.
    pub id: Uuid,
    /// The stream.
    pub stream_name: String,
    /// The type.
    pub message_type: String,
    /// The stream position.
    pub position: i64,
    /// The global position.
    pub global_position: i64,
    /// The payload as JSON text.
    pub data: String,
    /// The metadata as JSON text.
    pub metadata: Option<String>,
    /// The write time.
    pub time: DateTime<Utc>,
}

/// Why a baseline write failed.
#[derive(Debug)]
pub enum WriteError {
    /// SQLite failed.
    Sqlite(rusqlite::Error),
    /// The stream was not at the expected version (nothing written).
    Conflict {
        /// The version asked for.
        expected: i64,
        /// The stream's version.
        actual: i64,
    },
}

impl From<rusqlite::Error> for WriteError {
    fn from(e: rusqlite::Error) -> Self {
        WriteError::Sqlite(e)
    }
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Sqlite(e) => write!(f, "SQLite: {e}"),
            WriteError::Conflict { expected, actual } => {
                write!(f, "version conflict: expected {expected}, actual {actual}")
            }
        }
    }
}

impl std::error::Error for WriteError {}

/// Opens a connection with messagedb's flags and pragmas (WAL + `synchronous=FULL` on a file; a
/// private database in memory when `path` is `None`) and creates the namespace schema if needed.
pub fn open(path: Option<&Path>) -> rusqlite::Result<Connection> {
    let mut conn = match path {
        Some(p) => Connection::open_with_flags(
            p,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?,
        None => Connection::open_in_memory()?,
    };
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(64);
    // The same planner setting as the store (see core/src/sqlite/conn.rs).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    if path.is_some() {
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")?;
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version == 0 {
        let first = &messagedb::migrations::SQLITE_NAMESPACE[0];
        tx.execute_batch(first.sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", first.version))?;
    }
    tx.commit()?;
    Ok(conn)
}

/// Writes one message in its own `BEGIN IMMEDIATE … COMMIT` transaction, as messagedb's writer
/// does for a lone write. Returns the stream position and the global position.
///
/// # Errors
/// [`WriteError::Conflict`] when `expected_version` does not match; SQLite errors.
pub fn write(
    conn: &Connection,
    stream_name: &str,
    message_type: &str,
    data: &str,
    metadata: Option<&str>,
    expected_version: Option<i64>,
) -> Result<(i64, i64), WriteError> {
    conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    match insert(
        conn,
        stream_name,
        message_type,
        data,
        metadata,
        expected_version,
    ) {
        Ok(written) => {
            conn.prepare_cached("COMMIT")?.execute([])?;
            Ok(written)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// The body of a write, inside a transaction the caller holds: version check, then the insert
/// with every column messagedb fills.
///
/// # Errors
/// As [`write()`].
pub fn insert(
    conn: &Connection,
    stream_name: &str,
    message_type: &str,
    data: &str,
    metadata: Option<&str>,
    expected_version: Option<i64>,
) -> Result<(i64, i64), WriteError> {
    let version = conn
        .prepare_cached("SELECT max(position) FROM messages WHERE stream_name = ?1")?
        .query_row([stream_name], |r| r.get::<_, Option<i64>>(0))?
        .unwrap_or(-1);
    if let Some(expected) = expected_version
        && expected != version
    {
        return Err(WriteError::Conflict {
            expected,
            actual: version,
        });
    }
    let micros = Utc::now().timestamp_micros();
    let id = Uuid::now_v7();
    let position = version + 1;
    conn.prepare_cached(INSERT_SQL)?.execute(rusqlite::params![
        position,
        micros,
        stream_name,
        messagedb::category(stream_name),
        message_type,
        data,
        metadata,
        &id.as_bytes()[..],
        Option::<String>::None,
        messagedb::stream_hash(stream_name),
    ])?;
    Ok((position, conn.last_insert_rowid()))
}

/// Decodes a row of the message columns.
fn decode(row: &rusqlite::Row<'_>) -> rusqlite::Result<BaselineMessage> {
    let id: [u8; 16] = row.get(0)?;
    let micros: i64 = row.get(7)?;
    Ok(BaselineMessage {
        id: Uuid::from_bytes(id),
        stream_name: row.get(1)?,
        message_type: row.get(2)?,
        position: row.get(3)?,
        global_position: row.get(4)?,
        data: row.get(5)?,
        metadata: row.get(6)?,
        time: DateTime::from_timestamp_micros(micros).unwrap_or_default(),
    })
}

/// A stream's messages from a stream position, at most `limit`.
///
/// # Errors
/// SQLite errors.
pub fn get_stream(
    conn: &Connection,
    stream_name: &str,
    position: i64,
    limit: i64,
) -> rusqlite::Result<Vec<BaselineMessage>> {
    let mut stmt = conn.prepare_cached(STREAM_SQL)?;
    let rows = stmt.query_map(
        named_params! {":s": stream_name, ":p": position, ":l": limit},
        decode,
    )?;
    rows.collect()
}

/// A category's messages from a global position, at most `limit`, optionally only those of
/// consumer group member `(member, size)`.
///
/// # Errors
/// SQLite errors.
pub fn get_category(
    conn: &Connection,
    category: &str,
    position: i64,
    limit: i64,
    group: Option<(i64, i64)>,
) -> rusqlite::Result<Vec<BaselineMessage>> {
    match group {
        None => {
            let mut stmt = conn.prepare_cached(CATEGORY_SQL)?;
            let rows = stmt.query_map(
                named_params! {":p": position, ":l": limit, ":c": category},
                decode,
            )?;
            rows.collect()
        }
        Some((member, size)) => {
            let mut stmt = conn.prepare_cached(CATEGORY_GROUP_SQL)?;
            let rows = stmt.query_map(
                named_params! {
                    ":p": position, ":l": limit, ":c": category, ":size": size, ":member": member
                },
                decode,
            )?;
            rows.collect()
        }
    }
}
