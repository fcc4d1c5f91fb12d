//! The PostgreSQL write path: group commit of concurrent writes into one call of the namespace's
//! `messagedb_write` function (one round trip, one transaction).
//!
//! Writers queue their write; a writer finding fewer than [`MAX_CALLS_IN_FLIGHT`] calls under way
//! spawns a leader task (so that a cancelled caller never strands the others), which takes every
//! queued write, sends them in one call, and answers each writer with its own outcome. Writes that
//! queue meanwhile go in the next call. Two calls in flight let one travel and wait for the
//! namespace lock while the other commits; the lock keeps their commits in order.

use std::sync::{Arc, Mutex};

use sqlx::{PgPool, Row};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::read::shared_sql;
use super::schema::{map_error, namespace_lock, quote};
use crate::model::{BatchResult, Message, NewMessage};
use crate::subscribe::CommitLog;
use crate::{Error, Result, names};

/// The most messages one call carries; the rest wait for the next call.
const MAX_MESSAGES_PER_CALL: usize = 2000;
/// How many calls of one namespace may be under way at once.
const MAX_CALLS_IN_FLIGHT: usize = 2;

/// One queued write.
pub(crate) struct PgWrite {
    pub(crate) stream_name: String,
    pub(crate) messages: Vec<NewMessage>,
    pub(crate) expected_version: Option<i64>,
}

struct Pending {
    write: PgWrite,
    reply: oneshot::Sender<Result<BatchResult>>,
}

#[derive(Default)]
struct Queue {
    pending: Vec<Pending>,
    leaders: usize,
}

/// The group-committing writer of one namespace schema.
pub(crate) struct PgWriter {
    pool: PgPool,
    sql: sqlx::SqlStr,
    lock: i64,
    notify: String,
    queue: Mutex<Queue>,
    log: Arc<CommitLog>,
}

impl PgWriter {
    pub(crate) fn new(pool: PgPool, schema: &str, notify: String, log: Arc<CommitLog>) -> Self {
        PgWriter {
            pool,
            sql: shared_sql(format!(
                "SELECT write_index, first_position, first_global_position, last_global_position,
                        error, actual_version, duplicate_id, message_time
                 FROM {}.messagedb_write($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                quote(schema)
            )),
            lock: namespace_lock(schema),
            notify,
            queue: Mutex::new(Queue::default()),
            log,
        }
    }

    /// Queues a write and waits for its outcome.
    pub(crate) async fn submit(self: &Arc<Self>, write: PgWrite) -> Result<BatchResult> {
        let (reply, outcome) = oneshot::channel();
        let lead = {
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.pending.push(Pending { write, reply });
            let lead = q.leaders < MAX_CALLS_IN_FLIGHT;
            if lead {
                q.leaders += 1;
            }
            lead
        };
        if lead {
            let this = self.clone();
            tokio::spawn(async move { this.lead().await });
        }
        outcome.await.map_err(|_| Error::Closed)?
    }

    async fn lead(&self) {
        loop {
            let batch = {
                let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
                if q.pending.is_empty() {
                    q.leaders -= 1;
                    return;
                }
                let mut total = 0;
                let take = q
                    .pending
                    .iter()
                    .take_while(|p| {
                        total += p.write.messages.len();
                        total <= MAX_MESSAGES_PER_CALL
                    })
                    .count()
                    .max(1);
                q.pending.drain(..take).collect::<Vec<_>>()
            };
            self.commit(batch).await;
        }
    }

    async fn commit(&self, batch: Vec<Pending>) {
        let writes: Vec<&PgWrite> = batch.iter().map(|p| &p.write).collect();
        let keep = self.log.has_subscribers();
        let mut outcomes = match self.call(&writes, keep).await {
            Ok(outcomes) => outcomes,
            // A write that collided with a writer outside messagedb fails the call: run each
            // write alone so that only it fails.
            Err(_) if writes.len() > 1 => {
                let mut each = Vec::with_capacity(writes.len());
                for w in &writes {
                    each.push(match self.call(&[w], keep).await {
                        Ok(mut o) => o.remove(0),
                        Err(e) => (Err(e), None),
                    });
                }
                each
            }
            Err(e) => vec![(Err(e), None)],
        };
        let range = outcomes
            .iter()
            .fold(None, |range: Option<(i64, i64)>, (r, _)| match r {
                Ok(b) => {
                    let (first, last) =
                        range.unwrap_or((b.global_position, b.last_global_position));
                    Some((
                        first.min(b.global_position),
                        last.max(b.last_global_position),
                    ))
                }
                Err(_) => range,
            });
        if range.is_some() {
            // Subscribers get the messages only when every landed write has them at hand.
            let complete = keep && outcomes.iter().all(|(r, m)| r.is_err() || m.is_some());
            let messages = complete.then(|| {
                outcomes
                    .iter_mut()
                    .flat_map(|(_, m)| m.take().unwrap_or_default())
                    .collect::<Vec<Message>>()
                    .into()
            });
            self.log.publish(range, messages);
        }
        for (p, (r, _)) in batch.into_iter().zip(outcomes) {
            let _ = p.reply.send(r);
        }
    }

    /// One call of `messagedb_write` for these writes: each write's outcome, with its messages
    /// when it landed.
    #[allow(clippy::type_complexity)]
    async fn call(
        &self,
        writes: &[&PgWrite],
        keep: bool,
    ) -> Result<Vec<(Result<BatchResult>, Option<Vec<Message>>)>> {
        let n: usize = writes.iter().map(|w| w.messages.len()).sum();
        let streams: Vec<&str> = writes.iter().map(|w| w.stream_name.as_str()).collect();
        let mut locks: Vec<i64> = streams
            .iter()
            .map(|s| names::hash_64(names::category(s)))
            .collect();
        locks.sort_unstable();
        locks.dedup();
        let expected: Vec<Option<i64>> = writes.iter().map(|w| w.expected_version).collect();
        let mut index = Vec::with_capacity(n);
        let mut types = Vec::with_capacity(n);
        let mut data = Vec::with_capacity(n);
        let mut metadata = Vec::with_capacity(n);
        let mut ids = Vec::with_capacity(n);
        let mut given = Vec::new();
        for (i, w) in writes.iter().enumerate() {
            for m in &w.messages {
                index.push(i as i32 + 1);
                types.push(m.message_type.as_str());
                data.push(m.data.as_str());
                metadata.push(m.metadata.as_ref().map(|j| j.as_str()));
                match m.id {
                    Some(id) => {
                        given.push(id);
                        ids.push(id);
                    }
                    None => ids.push(Uuid::now_v7()),
                }
            }
        }
        let rows = sqlx::query(self.sql.clone())
            .bind(self.lock)
            .bind(&locks)
            .bind(&streams)
            .bind(&expected)
            .bind(&index)
            .bind(&types)
            .bind(&data)
            .bind(&metadata)
            .bind(&ids)
            .bind(&given)
            .bind(&self.notify)
            .fetch_all(&self.pool)
            .await
            .map_err(map_error)?;
        let mut outcomes = Vec::with_capacity(writes.len());
        let mut offset = 0;
        for (row, w) in rows.iter().zip(writes) {
            let count = w.messages.len();
            let my_ids = &ids[offset..offset + count];
            offset += count;
            outcomes.push(outcome(row, w, my_ids, keep).map_err(map_error)?);
        }
        if outcomes.len() != writes.len() {
            return Err(Error::Backend {
                message: "messagedb_write answered fewer writes than it was given".into(),
                retryable: false,
                source: None,
            });
        }
        Ok(outcomes)
    }
}

#[allow(clippy::type_complexity)]
fn outcome(
    row: &sqlx::postgres::PgRow,
    w: &PgWrite,
    ids: &[Uuid],
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
            .zip(ids)
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
