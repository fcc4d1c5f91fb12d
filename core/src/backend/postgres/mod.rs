//! The PostgreSQL backend: a registry schema (`messagedb`) and one Message DB compatible schema per
//! namespace. The `default` namespace is the schema `message_store` (or the URL's `?schema=`), so
//! Message DB clients work against it unchanged, and an existing Message DB database is served as
//! it is.

mod call;
mod conns;
mod locks;
mod namespace;
mod read;
mod schema;
mod write;

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
use crate::backend::handles::{Closable, Handles};
use crate::backend::{Backend, NamespaceBackend};
use crate::model::{DEFAULT_NAMESPACE, StoreOptions, now};
use crate::model::{NamespaceInfo, NamespaceOpts, NamespaceSummary};
use crate::rules::check_namespace_id;
use crate::{Error, Result};

/// The schema of the `default` namespace unless the URL names another.
const DEFAULT_SCHEMA: &str = "message_store";
/// Connections in each pool unless the URL or the options say otherwise.
const POOL_SIZE: u32 = 16;
/// How long a call waits for a connection unless the URL or the options say otherwise.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a namespace with subscribers looks for commits that sent no notification, unless
/// the options say otherwise (`StoreOptions::external_poll`).
const EXTERNAL_POLL: Duration = Duration::from_secs(1);

/// The PostgreSQL backend.
pub(crate) struct PostgresBackend {
    pool: PgPool,
    conns: Arc<PgConnections>,
    default_schema: String,
    /// Identifies this store in notifications, so that it ignores its own.
    origin: String,
    namespaces: Handles<PgNamespace, String>,
    /// The notification listener and the watch for commits that sent none; aborted at close.
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    closed: AtomicBool,
}

/// The start of a notification telling that a namespace schema was deleted (no schema name
/// starts with `!`).
const DELETED: &str = "!deleted ";

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
    pub(crate) async fn open(url: &str, store: &StoreOptions) -> Result<Arc<Self>> {
        let params = split_params(url)?;
        let default_schema = params.schema;
        let options = PgConnectOptions::from_str(&params.url)
            .map_err(|e| Error::invalid(format!("invalid PostgreSQL URL: {e}")))?;
        let pool_size = params.pool_size.or(store.pool_size).unwrap_or(POOL_SIZE);
        let wait = params
            .acquire_timeout
            .or(store.acquire_timeout)
            .unwrap_or(ACQUIRE_TIMEOUT);
        let conns = Arc::new(PgConnections::new(
            options.clone(),
            pool_size as usize,
            wait,
        ));
        let pool = PgPoolOptions::new()
            // One more for the listener, which keeps its connection.
            .max_connections(pool_size + 1)
            // A ping before every query would double the round trips of a read.
            .test_before_acquire(false)
            .acquire_timeout(wait)
            .connect_with(options)
            .await
            .map_err(map_error)?;
        let origin = uuid::Uuid::now_v7().simple().to_string();
        let backend = Arc::new(PostgresBackend {
            pool,
            conns,
            default_schema,
            origin,
            namespaces: Handles::new(true),
            tasks: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        });
        backend.migrate_all().await?;
        backend.listen().await?;
        backend.watch(store.external_poll.unwrap_or(EXTERNAL_POLL));
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
                    Ok(n) if n.payload().starts_with(DELETED) => {
                        backend.forget_schema(&n.payload()[DELETED.len()..]);
                    }
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
        self.tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(task);
        Ok(())
    }

    /// Every `every`, looks for commits that sent no notification in each namespace that has
    /// subscribers here ([`PgNamespace::look_for_external_commits`]).
    fn watch(self: &Arc<Self>, every: Duration) {
        let weak = Arc::downgrade(self);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(backend) = weak.upgrade() else {
                    return;
                };
                if backend.closed.load(Ordering::Acquire) {
                    return;
                }
                let followed: Vec<_> = backend
                    .namespaces
                    .all()
                    .into_iter()
                    .filter(|ns| ns.has_subscribers())
                    .collect();
                drop(backend);
                for ns in followed {
                    // Best effort: a look that fails is made again at the next tick.
                    let _ = ns.look_for_external_commits().await;
                }
            }
        });
        self.tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(task);
    }

    fn each_namespace(&self, f: impl Fn(&PgNamespace)) {
        self.namespaces.each(f);
    }

    /// Drops and closes this process's handle on a schema that was deleted: its subscriptions
    /// end.
    fn forget_schema(&self, schema: &str) {
        self.namespaces.forget_where(|_, ns| ns.schema() == schema);
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

    /// The namespace's schema handle, confirmed by the registry within `token::TRUST`
    /// (crate::backend::handles): a schema another process deleted, maybe with the namespace created again
    /// in a new schema, is never used past that.
    async fn pg_namespace(&self, id: &str) -> Result<Arc<PgNamespace>> {
        self.check_open()?;
        if let Some(ns) = self.namespaces.fresh(id) {
            return Ok(ns);
        }
        // Taken before the read: the handle is trusted from what the registry said then.
        let asked = Instant::now();
        let row = match self.row(id).await {
            Ok(row) => row,
            Err(e) => {
                if matches!(e, Error::NamespaceNotFound(_)) {
                    self.namespaces.forget(id);
                }
                return Err(e);
            }
        };
        let schema = row.schema.clone();
        self.namespaces.confirm(id, row.schema, asked, || {
            Ok(Arc::new(PgNamespace::new(
                self.pool.clone(),
                self.conns.clone(),
                id,
                &schema,
                &self.origin,
            )))
        })
    }
}

/// What the URL's query says beyond the connection: the default namespace's schema, the pool size
/// and the connection wait. These parameters are taken out; the rest goes to the driver.
struct UrlParams {
    url: String,
    schema: String,
    pool_size: Option<u32>,
    acquire_timeout: Option<Duration>,
}

fn split_params(url: &str) -> Result<UrlParams> {
    let mut params = UrlParams {
        url: url.into(),
        schema: DEFAULT_SCHEMA.into(),
        pool_size: None,
        acquire_timeout: None,
    };
    let Some((base, query)) = url.split_once('?') else {
        return Ok(params);
    };
    let mut kept = Vec::new();
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "schema" => params.schema = value.into(),
            "pool_size" => match value.parse::<u32>() {
                Ok(n @ 1..=10_000) => params.pool_size = Some(n),
                _ => {
                    return Err(Error::invalid(
                        "pool_size must be an integer from 1 to 10000",
                    ));
                }
            },
            "acquire_timeout" => match value.parse::<f64>() {
                Ok(s) if s > 0.0 && s <= 3600.0 => {
                    params.acquire_timeout = Some(Duration::from_secs_f64(s));
                }
                _ => {
                    return Err(Error::invalid(
                        "acquire_timeout must be a number of seconds above 0 and at most 3600",
                    ));
                }
            },
            _ => kept.push(pair),
        }
    }
    let schema = &params.schema;
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
    params.url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok(params)
}

#[async_trait]
impl Backend for PostgresBackend {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    fn shared(&self) -> bool {
        true
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
        let mut tx = self.registry_tx().await?;
        let number: i64 = sqlx::query_scalar("SELECT nextval('messagedb.namespace_schemas')")
            .fetch_one(&mut *tx)
            .await
            .map_err(map_error)?;
        let schema = schema_for(id, number);
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
        // Delivered at commit: other processes close their handles on the schema at once (and
        // stop trusting them after token::TRUST in any case).
        sqlx::query("SELECT pg_notify('messagedb', $1)")
            .bind(format!("{DELETED}{}", ns.schema()))
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        tx.commit().await.map_err(map_error)?;
        self.forget_schema(ns.schema());
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
        for task in self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            task.abort();
        }
        self.namespaces.close_all();
        self.conns.close();
        self.pool.close().await;
    }
}

impl Closable for PgNamespace {
    fn close(&self) {
        PgNamespace::close(self);
    }
}
