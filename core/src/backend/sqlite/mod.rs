//! The embedded SQLite backend: a metadata database (the namespace registry) and one database per
//! namespace, as files in a directory (WAL) or in memory.

mod conn;
mod locks;
mod namespace;
mod read;
mod write;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use self::conn::{map_error, migrate, open_connection};
use self::namespace::SqliteNamespace;
use crate::backend::handles::{Closable, Handles};
use crate::backend::{Backend, NamespaceBackend};
use crate::migrations::SQLITE_METADATA;
use crate::model::{DEFAULT_NAMESPACE, Durability, JsonObject, now};
use crate::model::{NamespaceInfo, NamespaceOpts, NamespaceSummary};
use crate::{Error, Result};

/// The metadata file's name inside a store directory.
const METADATA_FILE: &str = "metadata.sqlite3";
/// The folder of namespace databases inside a store directory.
const NAMESPACE_DIR: &str = "namespaces";

/// The SQLite backend.
pub(crate) struct SqliteBackend {
    dir: Option<PathBuf>,
    durability: Durability,
    meta: Mutex<Connection>,
    /// Namespace databases by id; the registry's creation time tells one namespace of an id from
    /// a later one (crate::backend::handles).
    namespaces: Handles<SqliteNamespace, i64>,
    closed: AtomicBool,
}

struct NamespaceRow {
    id: String,
    description: String,
    created_at: i64,
    metadata: Option<String>,
}

impl SqliteBackend {
    /// Opens the store, migrates the registry and every namespace, and makes sure `default` exists.
    pub(crate) async fn open(location: SqliteLocation, durability: Durability) -> Result<Self> {
        let dir = match location {
            SqliteLocation::Memory => None,
            SqliteLocation::Directory(dir) => {
                std::fs::create_dir_all(dir.join(NAMESPACE_DIR)).map_err(|e| {
                    Error::backend(format!("cannot create {}: {e}", dir.display()), false, e)
                })?;
                Some(dir)
            }
        };
        let mut meta = open_connection(
            dir.as_ref().map(|d| d.join(METADATA_FILE)).as_deref(),
            durability,
        )?;
        migrate(&mut meta, SQLITE_METADATA, None)?;
        meta.execute(
            "INSERT OR IGNORE INTO namespaces (id, description, created_at) VALUES (?1, 'Default namespace', ?2)",
            params![DEFAULT_NAMESPACE, now().timestamp_micros()],
        )
        .map_err(map_error)?;
        let backend = SqliteBackend {
            namespaces: Handles::new(dir.is_some()),
            dir,
            durability,
            meta: Mutex::new(meta),
            closed: AtomicBool::new(false),
        };
        let asked = Instant::now();
        for row in backend.rows()? {
            backend.open_namespace(&row.id, row.created_at, asked, None)?;
        }
        Ok(backend)
    }

    fn meta(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        Ok(self.meta.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn rows(&self) -> Result<Vec<NamespaceRow>> {
        let meta = self.meta()?;
        let mut stmt = meta
            .prepare_cached(
                "SELECT id, description, created_at, metadata FROM namespaces ORDER BY created_at DESC, id",
            )
            .map_err(map_error)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(NamespaceRow {
                    id: r.get(0)?,
                    description: r.get(1)?,
                    created_at: r.get(2)?,
                    metadata: r.get(3)?,
                })
            })
            .map_err(map_error)?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(map_error)
    }

    fn row(&self, id: &str) -> Result<NamespaceRow> {
        self.meta()?
            .prepare_cached(
                "SELECT id, description, created_at, metadata FROM namespaces WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([id], |r| {
                    Ok(NamespaceRow {
                        id: r.get(0)?,
                        description: r.get(1)?,
                        created_at: r.get(2)?,
                        metadata: r.get(3)?,
                    })
                })
                .optional()
            })
            .map_err(map_error)?
            .ok_or_else(|| Error::NamespaceNotFound(id.into()))
    }

    fn path_of(&self, id: &str) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(NAMESPACE_DIR).join(format!("{id}.sqlite3")))
    }

    /// Keeps (opening it when needed) the database of the namespace created at `created_at`
    /// (registry time), as the registry said at `asked`; `upto` limits its migrations (upgrade
    /// tests).
    fn open_namespace(
        &self,
        id: &str,
        created_at: i64,
        asked: Instant,
        upto: Option<i64>,
    ) -> Result<Arc<SqliteNamespace>> {
        self.namespaces.confirm(id, created_at, asked, || {
            SqliteNamespace::open(self.path_of(id), self.durability, upto).map(Arc::new)
        })
    }

    fn sqlite_namespace(&self, id: &str) -> Result<Arc<SqliteNamespace>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        if let Some(ns) = self.namespaces.fresh(id) {
            return Ok(ns);
        }
        // Another process sharing the directory may have created, deleted or re-created it.
        let asked = Instant::now();
        match self.row(id) {
            Ok(row) => self.open_namespace(id, row.created_at, asked, None),
            Err(e) => {
                if matches!(e, Error::NamespaceNotFound(_)) {
                    self.namespaces.forget(id);
                }
                Err(e)
            }
        }
    }

    /// Creates a namespace whose database stops at migration `version` (upgrade tests).
    fn create_at_version(&self, id: &str, version: i64) -> Result<()> {
        let created_at = now();
        self.register(id, "", None, created_at)?;
        self.open_namespace(
            id,
            created_at.timestamp_micros(),
            Instant::now(),
            Some(version),
        )
        .map(|_| ())
    }

    fn register(
        &self,
        id: &str,
        token_sha256: &str,
        opts: Option<&NamespaceOpts>,
        created_at: DateTime<Utc>,
    ) -> Result<()> {
        let meta = self.meta()?;
        let inserted = meta
            .execute(
                "INSERT INTO namespaces (id, description, created_at, token_sha256, metadata)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING",
                params![
                    id,
                    opts.and_then(|o| o.description.as_deref()).unwrap_or(""),
                    created_at.timestamp_micros(),
                    (!token_sha256.is_empty()).then_some(token_sha256),
                    opts.and_then(|o| o.metadata.as_ref()).map(|m| m.as_str()),
                ],
            )
            .map_err(map_error)?;
        if inserted == 0 {
            return Err(Error::NamespaceExists(id.into()));
        }
        Ok(())
    }
}

fn remove_database_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    let _ = std::fs::remove_dir_all(locks::folder_of(path));
}

#[async_trait]
impl Backend for SqliteBackend {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn shared(&self) -> bool {
        self.dir.is_some()
    }

    async fn namespace(&self, id: &str) -> Result<Arc<dyn NamespaceBackend>> {
        Ok(self.sqlite_namespace(id)?)
    }

    async fn create_namespace(
        &self,
        id: &str,
        token_sha256: &str,
        opts: &NamespaceOpts,
        created_at: DateTime<Utc>,
    ) -> Result<()> {
        if self.row(id).is_ok() {
            return Err(Error::NamespaceExists(id.into()));
        }
        // A database file without a registry row is left over from an interrupted delete.
        if let Some(path) = self.path_of(id)
            && self.namespaces.get(id).is_none()
        {
            remove_database_files(&path);
        }
        self.register(id, token_sha256, Some(opts), created_at)?;
        let micros = created_at.timestamp_micros();
        if let Err(e) = self.open_namespace(id, micros, Instant::now(), None) {
            let _ = self
                .meta()?
                .execute("DELETE FROM namespaces WHERE id = ?1", [id]);
            return Err(e);
        }
        Ok(())
    }

    async fn delete_namespace(&self, id: &str) -> Result<i64> {
        let ns = self.sqlite_namespace(id)?;
        let count = ns.read_counted(read::message_count).await?;
        let deleted = self
            .meta()?
            .execute("DELETE FROM namespaces WHERE id = ?1", [id])
            .map_err(map_error)?;
        if deleted == 0 {
            return Err(Error::NamespaceNotFound(id.into()));
        }
        self.namespaces.forget(id);
        drop(ns);
        if let Some(path) = self.path_of(id) {
            remove_database_files(&path);
        }
        Ok(count)
    }

    async fn list_namespaces(&self) -> Result<Vec<NamespaceSummary>> {
        let mut out = Vec::new();
        for row in self.rows()? {
            let message_count = self
                .sqlite_namespace(&row.id)?
                .read_counted(read::message_count)
                .await?;
            out.push(NamespaceSummary {
                namespace: row.id,
                description: row.description,
                created_at: DateTime::from_timestamp_micros(row.created_at).unwrap_or_default(),
                message_count,
            });
        }
        Ok(out)
    }

    async fn namespace_info(&self, id: &str) -> Result<NamespaceInfo> {
        let row = self.row(id)?;
        let (message_count, stream_count, last) = self
            .sqlite_namespace(id)?
            .read_counted(read::counts)
            .await?;
        Ok(NamespaceInfo {
            namespace: row.id,
            description: row.description,
            created_at: DateTime::from_timestamp_micros(row.created_at).unwrap_or_default(),
            message_count,
            stream_count,
            last_activity: last.and_then(DateTime::from_timestamp_micros),
            metadata: row.metadata.map(JsonObject::from_stored),
        })
    }

    async fn token_hash(&self, id: &str) -> Result<Option<String>> {
        self.meta()?
            .prepare_cached("SELECT token_sha256 FROM namespaces WHERE id = ?1")
            .and_then(|mut s| {
                s.query_row([id], |r| r.get::<_, Option<String>>(0))
                    .optional()
            })
            .map_err(map_error)?
            .ok_or_else(|| Error::NamespaceNotFound(id.into()))
    }

    async fn set_token_hash(&self, id: &str, token_sha256: &str) -> Result<()> {
        let n = self
            .meta()?
            .execute(
                "UPDATE namespaces SET token_sha256 = ?2 WHERE id = ?1",
                params![id, token_sha256],
            )
            .map_err(map_error)?;
        if n == 0 {
            return Err(Error::NamespaceNotFound(id.into()));
        }
        Ok(())
    }

    async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.namespaces.close_all();
    }
}

/// Support for the upgrade tests: databases at an older schema version, and schema dumps.
pub mod testing {
    use std::path::Path;

    use super::*;

    /// Creates namespace `id` in the store directory `dir` with its database at migration `version`.
    ///
    /// # Errors
    /// As creating a namespace.
    pub async fn create_sqlite_namespace_at(dir: &Path, id: &str, version: i64) -> Result<()> {
        let backend =
            SqliteBackend::open(SqliteLocation::Directory(dir.into()), Durability::Full).await?;
        backend.create_at_version(id, version)?;
        backend.close().await;
        Ok(())
    }

    /// The schema version and the `CREATE` statements of namespace `id`'s database in `dir`.
    ///
    /// # Errors
    /// `BACKEND_ERROR` when the file cannot be read.
    pub fn sqlite_namespace_schema(dir: &Path, id: &str) -> Result<(i64, Vec<String>)> {
        let path = dir.join(NAMESPACE_DIR).join(format!("{id}.sqlite3"));
        let conn = open_connection(Some(&path), Durability::Full)?;
        let mut stmt = conn
            .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name")
            .map_err(map_error)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(map_error)?;
        let schema = rows
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(map_error)?;
        Ok((conn::schema_version(&conn)?, schema))
    }
}

impl Closable for SqliteNamespace {
    fn close(&self) {
        SqliteNamespace::close(self);
    }
}

/// Where a SQLite store lives.
#[derive(Debug, Clone)]
pub(crate) enum SqliteLocation {
    Memory,
    Directory(std::path::PathBuf),
}

impl SqliteLocation {
    /// Reads a store URL that is not PostgreSQL's: `sqlite::memory:`, `sqlite://<dir>` or a path.
    pub(crate) fn parse(url: &str) -> Result<SqliteLocation> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if rest.is_empty() {
            return Err(Error::invalid(format!("not a store URL: '{url}'")));
        }
        if rest == ":memory:" {
            return Ok(SqliteLocation::Memory);
        }
        if rest.contains("://") {
            return Err(Error::invalid(format!(
                "unknown store URL scheme: '{url}' (expected sqlite:// or postgres://)"
            )));
        }
        Ok(SqliteLocation::Directory(rest.into()))
    }
}
