//! Schema names, identifier quoting, migrations and the one place PostgreSQL errors are mapped.

use sqlx::AssertSqlSafe;
use sqlx::{PgConnection, Postgres, Transaction};

use crate::migrations::{Migration, POSTGRES_METADATA, POSTGRES_NAMESPACE};
use crate::{Error, Result, names};

/// How much of a namespace id a schema name shows (with `ns_`, `#` and a 19-digit number it fits
/// PostgreSQL's 63-byte identifiers).
const SCHEMA_ID_PREFIX: usize = 40;
/// Advisory lock key serializing registry changes and migrations across processes.
pub(crate) const REGISTRY_LOCK: i64 = 0x6d65_7373_6167_6564; // "messaged"

/// The schema of namespace `id` (other than the default one), `number` from the registry's
/// sequence: `ns_<id, at most 40 characters>#<number>`. Unique by construction: `#` is in no id,
/// and each number is taken once.
pub(crate) fn schema_for(id: &str, number: i64) -> String {
    // Namespace ids are ASCII (check_namespace_id), so any byte index is a char boundary.
    let shown = &id[..id.len().min(SCHEMA_ID_PREFIX)];
    format!("ns_{shown}#{number}")
}

/// A double-quoted identifier (namespace ids are validated, but quote anyway).
pub(crate) fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// The advisory lock key every writer of a namespace schema holds, shared, until it commits
/// (`messagedb_namespace_lock()` in the schema computes the same).
pub(crate) fn namespace_lock(schema: &str) -> i64 {
    names::hash_64(&format!("messagedb:{schema}"))
}

/// The latest namespace schema version.
pub(crate) fn latest_namespace_version() -> i64 {
    POSTGRES_NAMESPACE.last().map_or(0, |m| m.version)
}

/// Creates the registry schema and applies its migrations (under the registry lock).
pub(crate) async fn migrate_registry(tx: &mut Transaction<'_, Postgres>) -> Result<()> {
    sqlx::raw_sql(
        "CREATE SCHEMA IF NOT EXISTS messagedb;
         CREATE TABLE IF NOT EXISTS messagedb.migrations (
             version integer PRIMARY KEY,
             name text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         );",
    )
    .execute(&mut **tx)
    .await
    .map_err(map_error)?;
    let applied: Option<i32> = sqlx::query_scalar("SELECT max(version) FROM messagedb.migrations")
        .fetch_one(&mut **tx)
        .await
        .map_err(map_error)?;
    for m in POSTGRES_METADATA {
        if m.version <= i64::from(applied.unwrap_or(0)) {
            continue;
        }
        apply(tx, m).await?;
        sqlx::query("INSERT INTO messagedb.migrations (version, name) VALUES ($1, $2)")
            .bind(m.version as i32)
            .bind(m.name)
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
    }
    Ok(())
}

/// Applies the namespace migrations after `from` to `schema`; returns the new version.
pub(crate) async fn migrate_namespace(
    conn: &mut PgConnection,
    schema: &str,
    from: i64,
) -> Result<i64> {
    sqlx::raw_sql(AssertSqlSafe(format!(
        "SET LOCAL search_path TO {}",
        quote(schema)
    )))
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;
    let mut version = from;
    for m in POSTGRES_NAMESPACE.iter().filter(|m| m.version > from) {
        sqlx::raw_sql(AssertSqlSafe(m.sql))
            .execute(&mut *conn)
            .await
            .map_err(|e| Error::backend(format!("migration {} failed: {e}", m.name), false, e))?;
        version = m.version;
    }
    sqlx::raw_sql("SET LOCAL search_path TO DEFAULT")
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    Ok(version)
}

async fn apply(tx: &mut Transaction<'_, Postgres>, m: &Migration) -> Result<()> {
    sqlx::raw_sql(AssertSqlSafe(m.sql))
        .execute(&mut **tx)
        .await
        .map_err(|e| Error::backend(format!("migration {} failed: {e}", m.name), false, e))?;
    Ok(())
}

/// The one place PostgreSQL errors become messagedb errors. A namespace schema that is gone (it
/// was deleted, maybe by another process) is `NAMESPACE_NOT_FOUND` with an empty id, which the
/// namespace fills in.
pub(crate) fn map_error(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::PoolClosed => return Error::Closed,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // invalid_schema_name, undefined_table, undefined_function
            if matches!(code.as_ref(), "3F000" | "42P01" | "42883") {
                return Error::NamespaceNotFound(String::new());
            }
            // sequence_generator_limit_exceeded: global positions past MAX_GLOBAL_POSITION.
            if code == "2200H" {
                return crate::rules::positions_exhausted();
            }
            if code == "23505" {
                match db.constraint() {
                    Some("messages_id") => return Error::DuplicateMessageId(String::new()),
                    Some("messages_stream" | "messages_pkey") => {
                        return Error::PositionExists {
                            message: db.message().to_string(),
                            record: None,
                        };
                    }
                    _ => {}
                }
            }
            // Serialization failure, deadlock, shutdown, too many connections.
            let retryable = matches!(code.as_ref(), "40001" | "40P01" | "57P01" | "53300");
            return Error::backend(format!("PostgreSQL: {}", db.message()), retryable, e);
        }
        _ => {}
    }
    let retryable = matches!(
        e,
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::WorkerCrashed
    );
    Error::backend(format!("PostgreSQL: {e}"), retryable, e)
}
