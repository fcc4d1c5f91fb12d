//! The SQLite write path: group commit by flat combining on a file, a direct commit in memory.
//!
//! Each namespace database has one write connection. On a file, a writer queues its operation; if
//! no other writer is committing, it becomes the leader: on a blocking thread it takes every queued
//! operation, runs them in one transaction (each write's expected version checked inside it, each
//! failure confined to its own write), commits once, publishes the commit to subscribers and
//! answers every waiting writer. Writers that arrive meanwhile queue up for the leader's next
//! round. So one thread at a time owns the connection, and concurrent writers share one commit
//! (one fsync). Before each commit the leader lingers briefly until as many writers as in its
//! previous commit have queued again: the writers it just answered come back within microseconds,
//! and waiting for them turns a stream of small commits into few large ones. A lone writer never
//! waits (its previous commit held one write).
//!
//! In memory a commit costs no fsync, so there is nothing for writers to share: each write commits
//! on its caller's thread, under the writer's lock. Handing writes to a leader would only add what
//! it saves on a file: a wake-up of every answered writer, often on another thread.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::conn::map_error;
use crate::backend::CommitLog;
use crate::model::now;
use crate::model::{BatchResult, ImportResult, Message, NewMessage};
use crate::rules::{MAX_GLOBAL_POSITION, positions_exhausted};
use crate::{Error, Result, names};

/// What a writer asks the leader to do.
pub(crate) enum WriteOp {
    /// Messages to one stream at contiguous positions.
    Write {
        stream_name: String,
        messages: Vec<NewMessage>,
        expected_version: Option<i64>,
    },
    /// Messages with their positions kept.
    Import(Vec<Message>),
    /// Remove every message.
    Clear,
    /// Bring the counts and the list of streams up to the newest message (migration 0002).
    CountUp,
}

/// What the leader answers.
pub(crate) enum WriteOutcome {
    Written(BatchResult),
    Imported(ImportResult),
    Cleared(i64),
    Counted,
}

struct Pending {
    op: WriteOp,
    reply: oneshot::Sender<Result<WriteOutcome>>,
}

/// The longest a file database's leader waits for writers to come back before it commits.
const LINGER: Duration = Duration::from_micros(250);

#[derive(Default)]
struct Queue {
    pending: Vec<Pending>,
    leading: bool,
    closed: bool,
    /// How many operations the previous commit of this leader held.
    last_batch: usize,
}

/// The single writer of one namespace database.
pub(crate) struct SqliteWriter {
    conn: Arc<Mutex<Connection>>,
    queue: Mutex<Queue>,
    /// Signalled when an operation is queued while a leader is lingering.
    arrived: Condvar,
    /// On a file database the leader commits on a blocking thread (fsync must not stall the async
    /// runtime); in memory it commits inline.
    blocking: bool,
    log: Arc<CommitLog>,
}

impl SqliteWriter {
    pub(crate) fn new(conn: Arc<Mutex<Connection>>, blocking: bool, log: Arc<CommitLog>) -> Self {
        SqliteWriter {
            conn,
            queue: Mutex::new(Queue::default()),
            arrived: Condvar::new(),
            blocking,
            log,
        }
    }

    /// Commits an operation (in memory) or queues it and waits for its outcome, leading the
    /// commit when no one else is (on a file).
    pub(crate) async fn submit(self: &Arc<Self>, op: WriteOp) -> Result<WriteOutcome> {
        if !self.blocking {
            return self.commit_now(op);
        }
        let (reply, outcome) = oneshot::channel();
        let lead = {
            let mut q = self.queue();
            if q.closed {
                return Err(Error::Closed);
            }
            q.pending.push(Pending { op, reply });
            !std::mem::replace(&mut q.leading, true)
        };
        if lead {
            // The leader runs on its own thread for as long as writers keep coming; this caller
            // waits only for its own outcome, like every other writer.
            let this = self.clone();
            drop(tokio::task::spawn_blocking(move || this.lead()));
        } else {
            self.arrived.notify_one();
        }
        outcome.await.map_err(|_| Error::Closed)?
    }

    /// One operation in its own transaction, now, on this thread. The queue's lock is held through
    /// the commit and its publication, so subscribers learn of commits in the order they happened.
    fn commit_now(&self, op: WriteOp) -> Result<WriteOutcome> {
        // Invariant: the queue's lock is held from before the commit until after it is published,
        // so publications are in commit order.
        let q = self.queue();
        if q.closed {
            return Err(Error::Closed);
        }
        let mut outcome = self.commit(std::slice::from_ref(&op));
        drop(q);
        outcome.pop().unwrap_or(Err(Error::Closed))
    }

    /// Stops accepting writes; queued ones are still committed by the current leader.
    pub(crate) fn close(&self) {
        self.queue().closed = true;
        self.arrived.notify_all();
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lead(&self) {
        let mut q = self.queue();
        loop {
            if q.last_batch > 1 {
                let deadline = Instant::now() + LINGER;
                while q.pending.len() < q.last_batch && !q.closed {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    q = self
                        .arrived
                        .wait_timeout(q, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
            }
            if q.pending.is_empty() {
                q.leading = false;
                q.last_batch = 0;
                return;
            }
            let batch = std::mem::take(&mut q.pending);
            q.last_batch = batch.len();
            drop(q);
            let (ops, replies): (Vec<_>, Vec<_>) =
                batch.into_iter().map(|p| (p.op, p.reply)).unzip();
            for (reply, outcome) in replies.into_iter().zip(self.commit(&ops)) {
                let _ = reply.send(outcome);
            }
            q = self.queue();
        }
    }

    /// Runs the operations in one transaction, publishes the commit, and returns each one's
    /// outcome (all of them failed when the commit itself fails).
    fn commit(&self, ops: &[WriteOp]) -> Vec<Result<WriteOutcome>> {
        let publish = self.log.has_subscribers();
        let mut committed: Vec<Message> = Vec::new();
        let mut storage_changed = false;
        let mut results = Vec::with_capacity(ops.len());
        let outcome = {
            let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
            let begun = conn
                .prepare_cached("BEGIN IMMEDIATE")
                .and_then(|mut s| s.execute([]))
                .map_err(map_error);
            match begun {
                Err(e) => Err(e),
                Ok(_) => {
                    for op in ops {
                        let r = match op {
                            WriteOp::Write {
                                stream_name,
                                messages,
                                expected_version,
                            } => write(
                                &conn,
                                stream_name,
                                messages,
                                *expected_version,
                                publish.then_some(&mut committed),
                            )
                            .map(WriteOutcome::Written),
                            WriteOp::Import(records) => {
                                storage_changed = true;
                                import(&conn, records).map(WriteOutcome::Imported)
                            }
                            WriteOp::Clear => {
                                storage_changed = true;
                                clear(&conn).map(WriteOutcome::Cleared)
                            }
                            WriteOp::CountUp => count_up(&conn).map(|_| WriteOutcome::Counted),
                        };
                        results.push(r);
                    }
                    let done = conn
                        .prepare_cached("COMMIT")
                        .and_then(|mut s| s.execute([]))
                        .map_err(map_error);
                    if done.is_err() {
                        let _ = conn.execute_batch("ROLLBACK");
                    }
                    done.map(|_| ())
                }
            }
        };
        match outcome {
            Ok(()) => {
                let written = results.iter().filter_map(|r| match r {
                    Ok(WriteOutcome::Written(b)) => Some(b),
                    _ => None,
                });
                let range = written.fold(None, |range: Option<(i64, i64)>, b| {
                    let (first, last) =
                        range.unwrap_or((b.global_position, b.last_global_position));
                    Some((
                        first.min(b.global_position),
                        last.max(b.last_global_position),
                    ))
                });
                // Invariant: one leader at a time (`leading` in the queue) commits and publishes,
                // so commits reach the log in commit order, which is global-position order
                // (Guarantee 3); a second leader could publish a later commit first.
                if storage_changed {
                    self.log.publish(None, None);
                } else if range.is_some() {
                    self.log.publish(range, publish.then(|| committed.into()));
                }
                results
            }
            Err(e) => {
                let failed = || Error::Backend {
                    message: e.to_string(),
                    retryable: e.is_retryable(),
                    source: None,
                };
                // A write refused on its own keeps its error; every other one failed with the
                // commit (or never ran, when the transaction could not begin).
                let mut outcomes: Vec<_> =
                    results.into_iter().map(|r| r.and(Err(failed()))).collect();
                outcomes.resize_with(ops.len(), || Err(failed()));
                outcomes
            }
        }
    }
}

/// One write inside the leader's transaction. A multi-message write runs in a savepoint so that a
/// failing message undoes the ones before it; a single insert is atomic by itself.
fn write(
    conn: &Connection,
    stream_name: &str,
    messages: &[NewMessage],
    expected_version: Option<i64>,
    committed: Option<&mut Vec<Message>>,
) -> Result<BatchResult> {
    let version: i64 = conn
        .prepare_cached("SELECT max(position) FROM messages WHERE stream_name = ?1")
        .and_then(|mut s| s.query_row([stream_name], |r| r.get::<_, Option<i64>>(0)))
        .map_err(map_error)?
        .unwrap_or(-1);
    if let Some(expected) = expected_version
        && expected != version
    {
        return Err(Error::VersionConflict {
            stream: stream_name.into(),
            expected,
            actual: version,
        });
    }
    let several = messages.len() > 1;
    if several {
        conn.execute_batch("SAVEPOINT batch").map_err(map_error)?;
    }
    let time = now();
    let micros = time.timestamp_micros();
    let category = names::category(stream_name);
    let hash = names::stream_hash(stream_name);
    let mut first_gp = 0;
    let mut inserted = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let id = m.id.unwrap_or_else(Uuid::now_v7);
        let position = version + 1 + i as i64;
        let metadata = m.metadata.as_ref().map(|j| j.as_str());
        let correlation = names::correlation_category(m.metadata.as_ref().map(|j| j.as_str()));
        let r = conn
            .prepare_cached(
                "INSERT INTO messages (position, time, stream_name, category, type, data, metadata, id, correlation, cardinal_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .and_then(|mut s| {
                s.execute(rusqlite::params![
                    position,
                    micros,
                    stream_name,
                    category,
                    m.message_type,
                    m.data.as_str(),
                    metadata,
                    &id.as_bytes()[..],
                    correlation,
                    hash,
                ])
            })
            .map_err(|e| match map_error(e) {
                Error::DuplicateMessageId(_) => Error::DuplicateMessageId(id.to_string()),
                other => other,
            });
        if let Err(e) = r {
            if several {
                let _ = conn.execute_batch("ROLLBACK TO batch; RELEASE batch");
            }
            return Err(e);
        }
        let gp = conn.last_insert_rowid();
        // Past the largest global position SQLite would hand out smaller rowids: positions must
        // never wrap, so the write fails whole instead.
        if gp > MAX_GLOBAL_POSITION {
            let undo = if several {
                "ROLLBACK TO batch; RELEASE batch".to_string()
            } else {
                format!("DELETE FROM messages WHERE global_position = {gp}")
            };
            conn.execute_batch(&undo).map_err(map_error)?;
            return Err(positions_exhausted());
        }
        if i == 0 {
            first_gp = gp;
        }
        if committed.is_some() {
            inserted.push(Message {
                id,
                stream_name: stream_name.into(),
                message_type: m.message_type.clone(),
                position,
                global_position: gp,
                data: m.data.clone(),
                metadata: m.metadata.clone(),
                time,
            });
        }
    }
    if several {
        conn.execute_batch("RELEASE batch").map_err(map_error)?;
    }
    if let Some(committed) = committed {
        committed.append(&mut inserted);
    }
    let n = messages.len() as i64;
    Ok(BatchResult {
        position: version + 1,
        global_position: first_gp,
        last_position: version + n,
        last_global_position: first_gp + n - 1,
    })
}

/// Removes every message, and with them the counts.
fn clear(conn: &Connection) -> Result<i64> {
    let removed = conn
        .execute("DELETE FROM messages", [])
        .map_err(map_error)?;
    conn.execute_batch(
        "DELETE FROM categories; DELETE FROM streams; UPDATE counted SET counted_to = 0",
    )
    .map_err(map_error)?;
    Ok(removed as i64)
}

/// Adds the messages written since the counts were last brought up to date: per category, how
/// many and how many new streams; each stream's version and last time. Reads only those messages
/// (through the rowid), so it costs what was written since, [`COUNT_STEP`] messages at most. All
/// or nothing: it shares the leader's transaction with writes.
fn count_up(conn: &Connection) -> Result<()> {
    conn.execute_batch("SAVEPOINT count_up")
        .map_err(map_error)?;
    let counted = add_uncounted(conn);
    let end = match counted {
        Ok(()) => "RELEASE count_up",
        Err(_) => "ROLLBACK TO count_up; RELEASE count_up",
    };
    conn.execute_batch(end).map_err(map_error)?;
    counted
}

/// The most messages one count-up adds: the leader's writes wait for it, so a store counted for
/// the first time (after an upgrade) is counted in steps, with writes between them.
const COUNT_STEP: i64 = 100_000;

/// The statements of one count-up step, each over the messages after `?1` up to `?2`.
const COUNT_UP: [&str; 3] = [
    "WITH added AS (
         SELECT stream_name, category, count(*) AS n FROM messages
         WHERE global_position > ?1 AND global_position <= ?2 GROUP BY stream_name
     )
     INSERT INTO categories (category, streams, messages)
     SELECT category, sum(NOT EXISTS (SELECT 1 FROM streams s WHERE s.stream_name = added.stream_name)),
            sum(n)
     FROM added WHERE true GROUP BY category
     ON CONFLICT (category) DO UPDATE
     SET streams = streams + excluded.streams, messages = messages + excluded.messages",
    // SQLite takes the bare column `time` from the row holding max(position).
    "INSERT INTO streams (stream_name, version, time)
     SELECT stream_name, max(position), time FROM messages
     WHERE global_position > ?1 AND global_position <= ?2 GROUP BY stream_name
     ON CONFLICT (stream_name) DO UPDATE SET version = excluded.version, time = excluded.time
     WHERE excluded.version > version",
    "UPDATE counted SET counted_to = ?2",
];

fn add_uncounted(conn: &Connection) -> Result<()> {
    let from: i64 = conn
        .query_row("SELECT counted_to FROM counted", [], |r| r.get(0))
        .map_err(map_error)?;
    // Up to the COUNT_STEP-th message after `from` (imports may leave gaps in global positions),
    // or the last one.
    let to: i64 = conn
        .prepare_cached(
            "SELECT coalesce(
                 (SELECT global_position FROM messages WHERE global_position > ?1
                  ORDER BY global_position LIMIT 1 OFFSET ?2 - 1),
                 (SELECT max(global_position) FROM messages),
                 ?1)",
        )
        .and_then(|mut s| s.query_row([from, COUNT_STEP], |r| r.get(0)))
        .map_err(map_error)?;
    for sql in COUNT_UP {
        conn.prepare_cached(sql)
            .and_then(|mut s| s.execute([from, to]))
            .map_err(map_error)?;
    }
    Ok(())
}

/// An import inside the leader's transaction, all or nothing.
fn import(conn: &Connection, records: &[Message]) -> Result<ImportResult> {
    let last: i64 = conn
        .query_row(
            "SELECT coalesce(max(global_position), 0) FROM messages",
            [],
            |r| r.get(0),
        )
        .map_err(map_error)?;
    if let Some(first) = records.first()
        && first.global_position <= last
    {
        return Err(Error::PositionExists {
            message: format!(
                "global position {} is not after the namespace's last global position {last}",
                first.global_position
            ),
            record: Some(0),
        });
    }
    conn.execute_batch("SAVEPOINT import").map_err(map_error)?;
    let result = records.iter().enumerate().try_for_each(|(i, m)| {
        conn.prepare_cached(
            "INSERT INTO messages (global_position, position, time, stream_name, category, type, data, metadata, id, correlation, cardinal_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .and_then(|mut s| {
            s.execute(rusqlite::params![
                m.global_position,
                m.position,
                m.time.timestamp_micros(),
                m.stream_name,
                names::category(&m.stream_name),
                m.message_type,
                m.data.as_str(),
                m.metadata.as_ref().map(|j| j.as_str()),
                &m.id.as_bytes()[..],
                names::correlation_category(m.metadata.as_ref().map(|j| j.as_str())),
                names::stream_hash(&m.stream_name),
            ])
        })
        .map(|_| ())
        .map_err(|e| match map_error(e) {
            Error::DuplicateMessageId(_) => Error::DuplicateMessageId(m.id.to_string()),
            Error::PositionExists { .. } => Error::PositionExists {
                message: format!("position {} of stream '{}' exists", m.position, m.stream_name),
                record: Some(i),
            },
            other => other,
        })
    });
    match result {
        Ok(()) => {
            conn.execute_batch("RELEASE import").map_err(map_error)?;
            Ok(ImportResult {
                imported: records.len() as u64,
                last_global_position: records.last().map_or(0, |m| m.global_position),
            })
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO import; RELEASE import");
            Err(e)
        }
    }
}
