//! The PostgreSQL backend: a registry schema (`messagedb`) and one Message DB compatible schema per
//! namespace. The `default` namespace is the schema `message_store` (or the URL's `?schema=`), so
//! Message DB clients work against it unchanged, and an existing Message DB database is served as
//! it is.

mod conns;
mod namespace;
mod read;
mod schema;
mod write;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{PgPool, Row};

use self::conns::PgConnections;
use self::namespace::PgNamespace;
use self::schema::{
    REGISTRY_LOCK, latest_namespace_version, map_error, migrate_namespace, migrate_registry, quote,
    schema_for,
};
use crate::backend::{Backend, NamespaceBackend};
use crate::model::{NamespaceInfo, NamespaceOpts, NamespaceSummary};
use crate::store::{DEFAULT_NAMESPACE, now};
use crate::{Error, Result, check_namespace_id};

/// The schema of the `default` namespace unless the URL names another.
const DEFAULT_SCHEMA: &str = "message_store";
/// Connections in the pool.
const POOL_SIZE: u32 = 16;

/// The PostgreSQL backend.
pub(crate) struct PostgresBackend {
    pool: PgPool,
    conns: Arc<PgConnections>,
    default_schema: String,
    /// Identifies this store in notifications, so that it ignores its own.
    origin: String,
    namespaces: RwLock<HashMap<String, Arc<PgNamespace>>>,
    listener: Mutex<Option<tokio::task::JoinHandle<()>>>,
    closed: AtomicBool,
}

struct Registered {
    id: String,
    schema: String,
    description: String,
    created_at: DateTime<Utc>,
    metadata: Option<String>,
}

fn registered(row: &sqlx::postgres::PgRow) -> sqlx::Result<Registered> {
    Ok(Registered {
        id: row.try_get(0)?,
        schema: row.try_get(1)?,
        description: row.try_get(2)?,
        created_at: row.try_get(3)?,
        metadata: row.try_get(4)?,
    })
}

const REGISTRY_COLUMNS: &str = "id, schema_name, description, created_at, metadata::text";

impl PostgresBackend {
    /// Connects, migrates the registry and every namespace schema, adopts or creates the default
    /// namespace's schema, and starts listening for other processes' commits.
    pub(crate) async fn open(url: &str) -> Result<Arc<Self>> {
        let (url, default_schema) = split_schema_param(url)?;
        let options = PgConnectOptions::from_str(&url)
            .map_err(|e| Error::invalid(format!("invalid PostgreSQL URL: {e}")))?;
        let conns = Arc::new(PgConnections::new(options.clone(), POOL_SIZE as usize));
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            // A ping before every query would double the round trips of a read.
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(map_error)?;
        let origin = uuid::Uuid::now_v7().simple().to_string();
        let backend = Arc::new(PostgresBackend {
            pool,
            conns,
            default_schema,
            origin,
            namespaces: RwLock::new(HashMap::new()),
            listener: Mutex::new(None),
            closed: AtomicBool::new(false),
        });
        backend.migrate_all().await?;
        backend.listen().await?;
        Ok(backend)
    }

    /// A transaction holding the registry lock (registry changes and migrations, across
    /// processes).
    async fn registry_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        let mut tx = self.pool.begin().await.map_err(map_error)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(REGISTRY_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        Ok(tx)
    }

    async fn migrate_all(&self) -> Result<()> {
        let mut tx = self.registry_tx().await?;
        migrate_registry(&mut tx).await?;
        let has_default: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM messagedb.namespaces WHERE id = $1)")
                .bind(DEFAULT_NAMESPACE)
                .fetch_one(&mut *tx)
                .await
                .map_err(map_error)?;
        if !has_default {
            // An existing Message DB schema is adopted as it is (version 1 is Message DB itself).
            let message_db: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'messages')",
            )
            .bind(&self.default_schema)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_error)?;
            if !message_db {
                sqlx::raw_sql(AssertSqlSafe(format!(
                    "CREATE SCHEMA IF NOT EXISTS {}",
                    quote(&self.default_schema)
                )))
                .execute(&mut *tx)
                .await
                .map_err(map_error)?;
            }
            sqlx::query(
                "INSERT INTO messagedb.namespaces (id, schema_name, description, created_at, schema_version)
                 VALUES ($1, $2, 'Default namespace', $3, $4)",
            )
            .bind(DEFAULT_NAMESPACE)
            .bind(&self.default_schema)
            .bind(now())
            .bind(if message_db { 1 } else { 0 })
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        }
        let outdated: Vec<(String, i32)> = sqlx::query_as(
            "SELECT schema_name, schema_version FROM messagedb.namespaces WHERE schema_version < $1",
        )
        .bind(latest_namespace_version() as i32)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_error)?;
        for (schema, version) in outdated {
            let latest = migrate_namespace(&mut tx, &schema, i64::from(version)).await?;
            sqlx::query(
                "UPDATE messagedb.namespaces SET schema_version = $2 WHERE schema_name = $1",
            )
            .bind(&schema)
            .bind(latest as i32)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        }
        tx.commit().await.map_err(map_error)
    }

    /// Listens on channel `messagedb`: a commit of another process wakes that namespace's
    /// subscribers, which then read storage.
    async fn listen(self: &Arc<Self>) -> Result<()> {
        let mut listener = PgListener::connect_with(&self.pool)
            .await
            .map_err(map_error)?;
        listener.listen("messagedb").await.map_err(map_error)?;
        let weak = Arc::downgrade(self);
        let task = tokio::spawn(async move {
            loop {
                let received = listener.recv().await;
                let Some(backend) = weak.upgrade() else {
                    return;
                };
                if backend.closed.load(Ordering::Acquire) {
                    return;
                }
                match received {
                    Ok(n) => {
                        let mut parts = n.payload().splitn(2, ' ');
                        let (schema, origin) = (parts.next().unwrap_or(""), parts.next());
                        if origin != Some(backend.origin.as_str()) {
                            backend.each_namespace(|ns| {
                                if ns.schema() == schema {
                                    ns.external_commit();
                                }
                            });
                        }
                    }
                    Err(_) => {
                        // Notifications may have been lost while the connection was down.
                        backend.each_namespace(PgNamespace::external_commit);
                        drop(backend);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        *self.listener.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
        Ok(())
    }

    fn each_namespace(&self, f: impl Fn(&PgNamespace)) {
        for ns in self
            .namespaces
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
        {
            f(ns);
        }
    }

    async fn row(&self, id: &str) -> Result<Registered> {
        self.check_open()?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REGISTRY_COLUMNS} FROM messagedb.namespaces WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?
        .ok_or_else(|| Error::NamespaceNotFound(id.into()))?;
        registered(&row).map_err(map_error)
    }

    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        Ok(())
    }

    async fn pg_namespace(&self, id: &str) -> Result<Arc<PgNamespace>> {
        self.check_open()?;
        if let Some(ns) = self
            .namespaces
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
        {
            return Ok(ns.clone());
        }
        let row = self.row(id).await?;
        let mut map = self.namespaces.write().unwrap_or_else(|p| p.into_inner());
        let ns = map.entry(id.into()).or_insert_with(|| {
            Arc::new(PgNamespace::new(
                self.pool.clone(),
                self.conns.clone(),
                &row.schema,
                &self.origin,
            ))
        });
        Ok(ns.clone())
    }
}

/// Takes `schema=<name>` out of the URL's query: the default namespace's schema.
fn split_schema_param(url: &str) -> Result<(String, String)> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.into(), DEFAULT_SCHEMA.into()));
    };
    let mut schema = DEFAULT_SCHEMA.to_string();
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.strip_prefix("schema=") {
            Some(s) => schema = s.into(),
            None => kept.push(pair),
        }
    }
    if schema.is_empty()
        || schema.len() > 63
        || !schema
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(Error::invalid(format!(
            "invalid schema '{schema}': use letters, digits and '_' (at most 63)"
        )));
    }
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, schema))
}

#[async_trait]
impl Backend for PostgresBackend {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    async fn namespace(&self, id: &str) -> Result<Arc<dyn NamespaceBackend>> {
        Ok(self.pg_namespace(id).await?)
    }

    async fn create_namespace(
        &self,
        id: &str,
        token_sha256: &str,
        opts: &NamespaceOpts,
        created_at: DateTime<Utc>,
    ) -> Result<()> {
        self.check_open()?;
        check_namespace_id(id)?;
        let schema = schema_for(id);
        let mut tx = self.registry_tx().await?;
        let inserted = sqlx::query(
            "INSERT INTO messagedb.namespaces (id, schema_name, description, created_at, token_sha256, metadata, schema_version)
             VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(&schema)
        .bind(opts.description.as_deref().unwrap_or(""))
        .bind(created_at)
        .bind(token_sha256)
        .bind(opts.metadata.as_ref().map(|m| m.as_str()))
        .bind(latest_namespace_version() as i32)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if inserted.rows_affected() == 0 {
            return Err(Error::NamespaceExists(id.into()));
        }
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE SCHEMA {}", quote(&schema))))
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        migrate_namespace(&mut tx, &schema, 0).await?;
        tx.commit().await.map_err(map_error)
    }

    async fn delete_namespace(&self, id: &str) -> Result<i64> {
        let ns = self.pg_namespace(id).await?;
        let mut tx = self.registry_tx().await?;
        let count: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT count(*) FROM {}.messages",
            quote(ns.schema())
        )))
        .fetch_one(&mut *tx)
        .await
        .map_err(map_error)?;
        let deleted = sqlx::query("DELETE FROM messagedb.namespaces WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        if deleted.rows_affected() == 0 {
            return Err(Error::NamespaceNotFound(id.into()));
        }
        sqlx::raw_sql(AssertSqlSafe(format!(
            "DROP SCHEMA {} CASCADE",
            quote(ns.schema())
        )))
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        tx.commit().await.map_err(map_error)?;
        self.namespaces
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        ns.close();
        Ok(count)
    }

    async fn list_namespaces(&self) -> Result<Vec<NamespaceSummary>> {
        self.check_open()?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REGISTRY_COLUMNS} FROM messagedb.namespaces ORDER BY created_at DESC, id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let r = registered(row).map_err(map_error)?;
            let message_count = self.pg_namespace(&r.id).await?.message_count().await?;
            out.push(NamespaceSummary {
                namespace: r.id,
                description: r.description,
                created_at: r.created_at,
                message_count,
            });
        }
        Ok(out)
    }

    async fn namespace_info(&self, id: &str) -> Result<NamespaceInfo> {
        let r = self.row(id).await?;
        let (message_count, stream_count, last) = self.pg_namespace(id).await?.counts().await?;
        Ok(NamespaceInfo {
            namespace: r.id,
            description: r.description,
            created_at: r.created_at,
            message_count,
            stream_count,
            last_activity: last.map(|t| t.and_utc()),
            metadata: r.metadata.map(crate::model::JsonObject::from_stored),
        })
    }

    async fn token_hash(&self, id: &str) -> Result<Option<String>> {
        self.check_open()?;
        sqlx::query_scalar::<_, Option<String>>(
            "SELECT token_sha256 FROM messagedb.namespaces WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?
        .ok_or_else(|| Error::NamespaceNotFound(id.into()))
    }

    async fn set_token_hash(&self, id: &str, token_sha256: &str) -> Result<()> {
        self.check_open()?;
        let n = sqlx::query("UPDATE messagedb.namespaces SET token_sha256 = $2 WHERE id = $1")
            .bind(id)
            .bind(token_sha256)
            .execute(&self.pool)
            .await
            .map_err(map_error)?;
        if n.rows_affected() == 0 {
            return Err(Error::NamespaceNotFound(id.into()));
        }
        Ok(())
    }

    async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        if let Some(task) = self
            .listener
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            task.abort();
        }
        let map = std::mem::take(&mut *self.namespaces.write().unwrap_or_else(|p| p.into_inner()));
        for ns in map.values() {
            ns.close();
        }
        self.conns.close();
        self.pool.close().await;
    }
}
