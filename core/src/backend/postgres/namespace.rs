//! One PostgreSQL namespace schema: reads, the group-committing writer, imports and the commit log.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::AssertSqlSafe;
use sqlx::{PgConnection, PgPool};

use super::call::PgWrite;
use super::conns::PgConnections;
use super::locks::{self, consumer_lock_key};
use super::read::{self, ReadSql};
use super::schema::{map_error, namespace_lock, quote};
use super::write::PgWriter;
use crate::backend::CommitLog;
use crate::backend::{ConsumerLock, NamespaceBackend};
use crate::model::{
    BatchResult, CategoryOpts, CategorySummary, GetStreamOpts, ImportResult, ListStreamsOpts,
    Message, NewMessage, StreamSummary, WriteOpts,
};
use crate::{Error, Result, names};

/// Runs a read on a lent connection, returning it to the idle ones only when the read completed.
macro_rules! with_reader {
    ($self:ident, |$c:ident| $read:expr) => {{
        let mut reader = $self.conns.acquire().await?;
        let $c = reader.conn();
        let out = $read.await;
        if out.is_ok() {
            reader.release();
        }
        out.map_err(|e| $self.named(e))
    }};
}

/// [`with_reader`] for a read of the counts or the stream list (migration 0005), brought up to
/// date first.
macro_rules! with_counted_reader {
    ($self:ident, |$c:ident| $read:expr) => {
        with_reader!($self, |$c| async {
            read::count_up($c, &$self.sql, $self.lock).await?;
            $read.await
        })
    };
}

/// One namespace schema.
pub(crate) struct PgNamespace {
    /// The namespace id.
    id: String,
    pool: PgPool,
    conns: Arc<PgConnections>,
    schema: String,
    /// The namespace lock's key (`messagedb_namespace_lock()` in the schema).
    lock: i64,
    sql: ReadSql,
    writer: Arc<PgWriter>,
    log: Arc<CommitLog>,
    /// The newest global position the last look for external commits saw
    /// ([`PgNamespace::look_for_external_commits`]).
    looked: AtomicI64,
}

impl PgNamespace {
    pub(crate) fn new(
        pool: PgPool,
        conns: Arc<PgConnections>,
        id: &str,
        schema: &str,
        origin: &str,
    ) -> Self {
        let log = Arc::new(CommitLog::default());
        PgNamespace {
            id: id.into(),
            writer: Arc::new(PgWriter::new(
                conns.clone(),
                schema,
                format!("{schema} {origin}"),
                log.clone(),
            )),
            sql: ReadSql::new(schema),
            schema: schema.into(),
            lock: namespace_lock(schema),
            pool,
            conns,
            log,
            looked: AtomicI64::new(0),
        }
    }

    pub(crate) fn schema(&self) -> &str {
        &self.schema
    }

    /// Names this namespace in the error of a schema that is gone (see `map_error`).
    fn named(&self, e: Error) -> Error {
        match e {
            Error::NamespaceNotFound(id) if id.is_empty() => {
                Error::NamespaceNotFound(self.id.clone())
            }
            other => other,
        }
    }

    pub(crate) async fn message_count(&self) -> Result<i64> {
        with_counted_reader!(self, |c| read::message_count(c, &self.sql))
    }

    pub(crate) async fn counts(&self) -> Result<(i64, i64, Option<chrono::NaiveDateTime>)> {
        with_counted_reader!(self, |c| read::counts(c, &self.sql))
    }

    /// Commits by other processes: subscribers read storage to find them.
    pub(crate) fn external_commit(&self) {
        self.log.publish(None, None);
    }

    /// Whether subscriptions in this process follow this namespace.
    pub(crate) fn has_subscribers(&self) -> bool {
        self.log.has_subscribers()
    }

    /// Wakes the subscribers when the newest global position moved since the last look and is not
    /// the last one this process's own commits published: a commit that sent no notification
    /// (plain SQL `write_message`, an adopted Message DB schema's clients). The subscribers then
    /// read storage, by the same rules as after any other commit, so none of them skips it.
    pub(crate) async fn look_for_external_commits(&self) -> Result<()> {
        let newest = with_reader!(self, |c| read::newest(c, &self.sql))?;
        let before = self.looked.swap(newest, Ordering::AcqRel);
        if newest != before && self.log.last_global_position() != Some(newest) {
            self.external_commit();
        }
        Ok(())
    }

    pub(crate) fn close(&self) {
        self.log.close();
    }

    /// Takes the namespace lock (exclusive: it waits for every writer under way, and writers wait
    /// for it) and every category lock of `streams`, sorted, in `tx`.
    async fn lock_all(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        streams: &[&str],
    ) -> Result<()> {
        let mut keys: Vec<i64> = streams
            .iter()
            .map(|s| names::hash_64(names::category(s)))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(self.lock)
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
        sqlx::query("SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k ORDER BY k")
            .bind(&keys)
            .execute(&mut **tx)
            .await
            .map_err(map_error)?;
        Ok(())
    }

    /// Category "" (every message of the namespace). Writers of different categories commit in
    /// parallel, so a global position may become visible after a higher one: a page stops before
    /// a missing position until no writer can still commit it, first waiting for this process's
    /// calls under way (no database work), then for every writer holding the namespace lock.
    async fn get_all(&self, conn: &mut PgConnection, opts: &CategoryOpts) -> Result<Vec<Message>> {
        // Global positions start at 1.
        let from = opts.position.unwrap_or(1).max(1);
        let mark = self.writer.mark();
        let rows = read::get_category(conn, &self.sql, "", opts).await?;
        if read::unbroken(&rows, from, from - 1) == rows.len() {
            return Ok(rows);
        }
        self.writer.settle(mark).await;
        let rows = read::get_category(conn, &self.sql, "", opts).await?;
        if read::unbroken(&rows, from, from - 1) == rows.len() {
            return Ok(rows);
        }
        // Every position up to the last one seen was taken before this wait.
        let seen = rows.last().map_or(from - 1, |m| m.global_position);
        read::wait_for_writers(conn, self.lock).await?;
        let mut rows = read::get_category(conn, &self.sql, "", opts).await?;
        rows.truncate(read::unbroken(&rows, from, seen));
        Ok(rows)
    }

    /// Makes `next` the global position the next write takes.
    async fn set_next_global_position(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        next: i64,
    ) -> Result<()> {
        let messages = format!("{}.messages", quote(&self.schema)).replace('\'', "''");
        sqlx::query(AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('{messages}', 'global_position'), $1, false)"
        )))
        .bind(next)
        .execute(&mut **tx)
        .await
        .map_err(map_error)?;
        Ok(())
    }
}

#[async_trait]
impl NamespaceBackend for PgNamespace {
    async fn progress(&self, category: &str, after: i64, limit: i64) -> Result<(i64, i64)> {
        with_reader!(self, |c| read::progress(
            c, &self.sql, category, after, limit
        ))
    }

    async fn lock_consumer(&self, key: &str, poll: Duration) -> Result<Box<dyn ConsumerLock>> {
        locks::lock(&self.conns, consumer_lock_key(&self.schema, key), poll).await
    }

    async fn write(
        &self,
        stream_name: &str,
        messages: Vec<NewMessage>,
        opts: WriteOpts,
    ) -> Result<BatchResult> {
        self.writer
            .submit(PgWrite::new(stream_name, messages, opts.expected_version))
            .await
            .map_err(|e| self.named(e))
    }

    async fn get_stream(&self, stream_name: &str, opts: &GetStreamOpts) -> Result<Vec<Message>> {
        with_reader!(self, |c| read::get_stream(c, &self.sql, stream_name, opts))
    }

    async fn get_last(
        &self,
        stream_name: &str,
        message_type: Option<&str>,
    ) -> Result<Option<Message>> {
        with_reader!(self, |c| read::get_last(
            c,
            &self.sql,
            stream_name,
            message_type
        ))
    }

    async fn stream_version(&self, stream_name: &str) -> Result<Option<i64>> {
        with_reader!(self, |c| read::stream_version(c, &self.sql, stream_name))
    }

    async fn get_category(&self, category: &str, opts: &CategoryOpts) -> Result<Vec<Message>> {
        if category.is_empty() {
            return with_reader!(self, |c| self.get_all(c, opts));
        }
        // Within a category, commits come in global-position order (its lock is held from before
        // a writer takes positions until it commits): a read never skips.
        with_reader!(self, |c| read::get_category(c, &self.sql, category, opts))
    }

    async fn list_streams(&self, opts: &ListStreamsOpts) -> Result<Vec<StreamSummary>> {
        with_counted_reader!(self, |c| read::list_streams(c, &self.sql, opts))
    }

    async fn list_categories(&self) -> Result<Vec<CategorySummary>> {
        with_counted_reader!(self, |c| read::list_categories(c, &self.sql))
    }

    async fn import(&self, records: Vec<Message>) -> Result<ImportResult> {
        let s = quote(&self.schema);
        let mut tx = self.pool.begin().await.map_err(map_error)?;
        let streams: Vec<&str> = records.iter().map(|m| m.stream_name.as_str()).collect();
        self.lock_all(&mut tx, &streams).await?;
        let last: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT coalesce(max(global_position), 0) FROM {s}.messages"
        )))
        .fetch_one(&mut *tx)
        .await
        .map_err(map_error)?;
        let first = records.first().map_or(0, |m| m.global_position);
        if first <= last {
            return Err(Error::PositionExists {
                message: format!(
                    "global position {first} is not after the namespace's last global position {last}"
                ),
                record: Some(0),
            });
        }
        let gps: Vec<i64> = records.iter().map(|m| m.global_position).collect();
        let positions: Vec<i64> = records.iter().map(|m| m.position).collect();
        let ids: Vec<uuid::Uuid> = records.iter().map(|m| m.id).collect();
        // Under the namespace lock no messagedb writer races these checks.
        let taken: Option<(String, i64)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT m.stream_name, m.position FROM {s}.messages m
             JOIN unnest($1::text[], $2::bigint[]) AS r(s, p) ON m.stream_name = r.s AND m.position = r.p
             LIMIT 1"
        )))
        .bind(&streams)
        .bind(&positions)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_error)?;
        if let Some((stream, position)) = taken {
            return Err(Error::PositionExists {
                message: format!("position {position} of stream '{stream}' exists"),
                record: records
                    .iter()
                    .position(|m| m.stream_name == stream && m.position == position),
            });
        }
        let duplicate: Option<uuid::Uuid> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT id FROM {s}.messages WHERE id = ANY($1) LIMIT 1"
        )))
        .bind(&ids)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_error)?;
        if let Some(id) = duplicate {
            return Err(Error::DuplicateMessageId(id.to_string()));
        }
        let times: Vec<chrono::NaiveDateTime> =
            records.iter().map(|m| m.time.naive_utc()).collect();
        let types: Vec<&str> = records.iter().map(|m| m.message_type.as_str()).collect();
        let data: Vec<&str> = records.iter().map(|m| m.data.as_str()).collect();
        let metadata: Vec<Option<&str>> = records
            .iter()
            .map(|m| m.metadata.as_ref().map(|j| j.as_str()))
            .collect();
        let inserted = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {s}.messages (global_position, position, time, stream_name, type, data, metadata, id)
             SELECT g, p, t, s, ty, d::jsonb, m::jsonb, i
             FROM unnest($1::bigint[], $2::bigint[], $3::timestamp[], $4::text[], $5::text[], $6::text[], $7::text[], $8::uuid[])
                  AS r(g, p, t, s, ty, d, m, i)"
        )))
        .bind(&gps)
        .bind(&positions)
        .bind(&times)
        .bind(&streams)
        .bind(&types)
        .bind(&data)
        .bind(&metadata)
        .bind(&ids)
        .execute(&mut *tx)
        .await;
        // Duplicates within the records themselves.
        inserted.map_err(map_error)?;
        let max = gps.last().copied().unwrap_or(last);
        self.set_next_global_position(&mut tx, max + 1).await?;
        tx.commit().await.map_err(map_error)?;
        self.log.publish(None, None);
        self.writer.announce();
        Ok(ImportResult {
            imported: records.len() as u64,
            last_global_position: max,
        })
    }

    async fn clear(&self) -> Result<i64> {
        let s = quote(&self.schema);
        let mut tx = self.pool.begin().await.map_err(map_error)?;
        self.lock_all(&mut tx, &[]).await?;
        let deleted = sqlx::query(AssertSqlSafe(format!("DELETE FROM {s}.messages")))
            .execute(&mut *tx)
            .await
            .map_err(map_error)?
            .rows_affected();
        self.set_next_global_position(&mut tx, 1).await?;
        tx.commit().await.map_err(map_error)?;
        self.log.publish(None, None);
        self.writer.announce();
        Ok(deleted as i64)
    }

    fn commits(&self) -> &CommitLog {
        &self.log
    }
}
