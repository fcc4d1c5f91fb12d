//! One SQLite namespace database: its writer, its read connections and its commit log.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::Connection;

use super::conn::{migrate, open_connection};
use super::locks::ConsumerLocks;
use super::read;
use super::write::{SqliteWriter, WriteOp, WriteOutcome};
use crate::backend::CommitLog;
use crate::backend::{ConsumerLock, NamespaceBackend};
use crate::migrations::SQLITE_NAMESPACE;
use crate::model::Durability;
use crate::model::{
    BatchResult, CategoryOpts, CategorySummary, GetStreamOpts, ImportResult, ListStreamsOpts,
    Message, NewMessage, StreamSummary, WriteOpts, batch_limit,
};
use crate::threads::{self, INLINE_ROWS};
use crate::{Error, Result};

/// Read connections kept open per file database.
const READ_POOL_SIZE: usize = 4;
/// How often a file database with subscribers is checked for other processes' commits.
const OTHER_WRITERS_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// Where reads run: on the one connection of an in-memory database, or on a pool over a file.
enum Readers {
    Shared(Arc<Mutex<Connection>>),
    Pool {
        path: PathBuf,
        idle: Mutex<Vec<Connection>>,
    },
}

/// The read side of a namespace, shared with reads that run on the blocking pool.
struct Reads {
    readers: Readers,
    closed: AtomicBool,
}

/// One namespace's database.
pub(crate) struct SqliteNamespace {
    writer: Arc<SqliteWriter>,
    reads: Arc<Reads>,
    log: Arc<CommitLog>,
    /// Whether a task watches the file for other processes' commits.
    watching: AtomicBool,
    locks: ConsumerLocks,
}

impl SqliteNamespace {
    /// Opens (creating if needed) and migrates a namespace database; `None` = in memory.
    /// `upto` stops the migrations at a version (for upgrade tests).
    pub(crate) fn open(
        path: Option<PathBuf>,
        durability: Durability,
        upto: Option<i64>,
    ) -> Result<Self> {
        let mut conn = open_connection(path.as_deref(), durability)?;
        let locks = ConsumerLocks::of(path.as_deref());
        migrate(&mut conn, SQLITE_NAMESPACE, upto)?;
        let conn = Arc::new(Mutex::new(conn));
        let log = Arc::new(CommitLog::default());
        let readers = match &path {
            None => Readers::Shared(conn.clone()),
            Some(p) => Readers::Pool {
                path: p.clone(),
                idle: Mutex::new(Vec::new()),
            },
        };
        Ok(SqliteNamespace {
            writer: Arc::new(SqliteWriter::new(conn, path.is_some(), log.clone())),
            reads: Arc::new(Reads {
                readers,
                closed: AtomicBool::new(false),
            }),
            log,
            watching: AtomicBool::new(false),
            locks,
        })
    }

    /// Runs a read on a read connection, on the caller's thread.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.reads.run(f)
    }

    /// Runs a read of the counts or the list of streams, brought up to date first by the writer
    /// when messages were written since (migration 0002), a step at a time.
    pub(crate) async fn read_counted<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T>,
    ) -> Result<T> {
        // Each count-up adds a step; writes may land between steps.
        while self.read(read::uncounted)? {
            self.submit(WriteOp::CountUp).await?;
        }
        self.read(f)
    }

    /// Runs a read on tokio's blocking pool (on the caller's thread outside a runtime).
    async fn read_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let reads = self.reads.clone();
        if tokio::runtime::Handle::try_current().is_err() {
            return reads.run(f);
        }
        tokio::task::spawn_blocking(move || reads.run(f))
            .await
            .map_err(|e| Error::backend("a read's thread failed", false, e))?
    }

    /// A read of more than [`INLINE_ROWS`] rows (`limit`, `None` = unlimited) in two parts: `first`
    /// reads the first [`INLINE_ROWS`] on the caller's thread; when it fills them, `rest` makes
    /// the read of the rows after its last one (with how many are left, -1 = unlimited), which
    /// runs on the blocking pool.
    async fn read_in_two<R>(
        &self,
        limit: Option<i64>,
        first: impl FnOnce(&Connection) -> Result<Vec<Message>>,
        rest: impl FnOnce(&Message, i64) -> R,
    ) -> Result<Vec<Message>>
    where
        R: FnOnce(&Connection) -> Result<Vec<Message>> + Send + 'static,
    {
        let mut page = self.read(first)?;
        let Some(last) = page.last().filter(|_| page.len() as i64 == INLINE_ROWS) else {
            return Ok(page);
        };
        let rest = rest(last, limit.map_or(-1, |l| l - INLINE_ROWS));
        page.extend(self.read_blocking(rest).await?);
        Ok(page)
    }

    /// Whether a read of at most `limit` rows (`None` = unlimited) runs whole on the caller's
    /// thread; a larger one reads its first [`INLINE_ROWS`] there and the rest on the blocking
    /// pool (`crate::threads`).
    fn inline(limit: Option<i64>) -> bool {
        !threads::off_thread(limit.unwrap_or(i64::MAX))
    }

    /// Ends subscriptions and refuses further calls; in-flight writes finish.
    pub(crate) fn close(&self) {
        self.reads.closed.store(true, Ordering::Release);
        self.writer.close();
        self.log.close();
        if let Readers::Pool { idle, .. } = &self.reads.readers {
            idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
    }

    async fn submit(&self, op: WriteOp) -> Result<WriteOutcome> {
        if self.reads.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        self.writer.submit(op).await
    }
}

impl Reads {
    fn run<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        match &self.readers {
            Readers::Shared(conn) => f(&conn.lock().unwrap_or_else(|p| p.into_inner())),
            Readers::Pool { path, idle } => {
                let taken = idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
                let conn = match taken {
                    Some(c) => c,
                    None => {
                        let c = open_connection(Some(path), Durability::Full)?;
                        c.execute_batch("PRAGMA query_only = 1")
                            .map_err(super::conn::map_error)?;
                        c
                    }
                };
                let result = f(&conn);
                let mut idle = idle.lock().unwrap_or_else(|p| p.into_inner());
                if idle.len() < READ_POOL_SIZE && !self.closed.load(Ordering::Acquire) {
                    idle.push(conn);
                }
                result
            }
        }
    }
}

#[async_trait]
impl NamespaceBackend for SqliteNamespace {
    async fn write(
        &self,
        stream_name: &str,
        messages: Vec<NewMessage>,
        opts: WriteOpts,
    ) -> Result<BatchResult> {
        let op = WriteOp::Write {
            stream_name: stream_name.into(),
            messages,
            expected_version: opts.expected_version,
        };
        match self.submit(op).await? {
            WriteOutcome::Written(r) => Ok(r),
            _ => unreachable!("a write is answered with its positions"),
        }
    }

    async fn get_stream(&self, stream_name: &str, opts: &GetStreamOpts) -> Result<Vec<Message>> {
        let limit = batch_limit(opts.batch_size)?;
        if Self::inline(limit) {
            return self.read(|c| read::get_stream(c, stream_name, opts));
        }
        if opts.global_position.is_some() {
            // Positions and global positions need not grow together in an imported stream, so
            // this read cannot be continued from its first rows: it runs whole off the thread.
            let (stream, opts) = (stream_name.to_owned(), *opts);
            return self
                .read_blocking(move |c| read::get_stream(c, &stream, &opts))
                .await;
        }
        // The rest is the same read after the last row (an atomic snapshot is not needed: what
        // committed in between comes after it in the stream).
        let first = opts.batch_size(INLINE_ROWS);
        self.read_in_two(
            limit,
            |c| read::get_stream(c, stream_name, &first),
            |last, left| {
                let (stream, rest) = (stream_name.to_owned(), opts.position(last.position + 1));
                move |c| read::get_stream(c, &stream, &rest.batch_size(left))
            },
        )
        .await
    }

    async fn get_last(
        &self,
        stream_name: &str,
        message_type: Option<&str>,
    ) -> Result<Option<Message>> {
        self.read(|c| read::get_last(c, stream_name, message_type))
    }

    async fn stream_version(&self, stream_name: &str) -> Result<Option<i64>> {
        self.read(|c| read::stream_version(c, stream_name))
    }

    async fn get_category(&self, category: &str, opts: &CategoryOpts) -> Result<Vec<Message>> {
        let limit = batch_limit(opts.batch_size)?;
        if Self::inline(limit) {
            return self.read(|c| read::get_category(c, category, opts));
        }
        // The rest is the same read after the last row. It sees at least what the first part saw:
        // on SQLite global positions increase in commit order (Guarantee 2), so nothing can commit
        // later below the last row's position.
        let first = opts.clone().batch_size(INLINE_ROWS);
        self.read_in_two(
            limit,
            |c| read::get_category(c, category, &first),
            |last, left| {
                let category = category.to_owned();
                let rest = opts.clone().position(last.global_position + 1);
                move |c| read::get_category(c, &category, &rest.batch_size(left))
            },
        )
        .await
    }

    async fn list_streams(&self, opts: &ListStreamsOpts) -> Result<Vec<StreamSummary>> {
        self.read_counted(|c| read::list_streams(c, opts)).await
    }

    async fn list_categories(&self) -> Result<Vec<CategorySummary>> {
        self.read_counted(read::list_categories).await
    }

    async fn import(&self, records: Vec<Message>) -> Result<ImportResult> {
        match self.submit(WriteOp::Import(records)).await? {
            WriteOutcome::Imported(r) => Ok(r),
            _ => unreachable!("an import is answered with its count"),
        }
    }

    async fn clear(&self) -> Result<i64> {
        match self.submit(WriteOp::Clear).await? {
            WriteOutcome::Cleared(n) => Ok(n),
            _ => unreachable!("a clear is answered with its count"),
        }
    }

    fn commits(&self) -> &CommitLog {
        &self.log
    }

    /// Another process sharing the directory commits without telling us: while there are
    /// subscribers, one task per namespace checks the file's last global position and wakes them
    /// (they then read storage) when it moved past what this process published.
    async fn progress(&self, category: &str, after: i64, limit: i64) -> Result<(i64, i64)> {
        self.read(|c| {
            Ok((
                read::head(c)?,
                read::count_after(c, category, after, limit)?,
            ))
        })
    }

    async fn lock_consumer(&self, key: &str, poll: Duration) -> Result<Box<dyn ConsumerLock>> {
        self.locks.lock(key, poll).await
    }

    fn watch_other_writers(self: Arc<Self>) {
        if matches!(self.reads.readers, Readers::Shared(_))
            || self.watching.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.watching.store(false, Ordering::Release);
            return;
        };
        let weak = Arc::downgrade(&self);
        drop(self);
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(OTHER_WRITERS_POLL);
            loop {
                tick.tick().await;
                let Some(ns) = weak.upgrade() else { return };
                if ns.reads.closed.load(Ordering::Acquire) || !ns.log.has_subscribers() {
                    ns.watching.store(false, Ordering::Release);
                    return;
                }
                let last = ns.read(read::head);
                if let Ok(last) = last
                    && last > ns.log.last_global_position().unwrap_or(0)
                {
                    // Known from now on: the next commit of ours that follows it carries messages.
                    ns.log.publish(Some((last, last)), None);
                }
            }
        });
    }
}
