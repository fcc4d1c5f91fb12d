//! The PostgreSQL write path: group commit of concurrent writes into one call of the namespace's
//! `messagedb_write` function (one round trip, one transaction).
//!
//! Writers queue their write; a writer finding no leader spawns a leader task (so that a cancelled
//! caller never strands the others), which takes queued writes (each stream once per call; the
//! function reads each stream's version once), sends them in one call, and answers each writer
//! with its own outcome. Writes that queue meanwhile go in the next call, for which the leader
//! waits a moment for the writers it just answered. Calls stalled on a category lock let further
//! leaders run calls in parallel; the function's category locks order the commits of one category,
//! as Message DB's do.
//!
//! Commits of parallel calls may become visible out of global-position order. The writer keeps
//! track of its calls (tickets in start order) so that it publishes commits to subscribers in
//! global-position order, and so that a whole-namespace reader can wait for this process's calls
//! under way before it looks further (see `PgNamespace::get_all`).

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio::sync::{oneshot, watch};

use super::call::{CallError, PgWrite, clone_error, outcome};
use super::conns::PgConnections;
use super::read::shared_sql;
use super::schema::{map_error, namespace_lock, quote};
use crate::backend::CommitLog;
use crate::model::{BatchResult, Message};
use crate::{Error, Result, names};

/// The most messages one call carries; the rest wait for the next call.
const MAX_MESSAGES_PER_CALL: usize = 2000;
/// The shortest time between two notifications of other processes (the first one after a quiet
/// time goes at once; commits during the interval share the next one).
const NOTIFY_INTERVAL: std::time::Duration = std::time::Duration::from_millis(2);
/// How many turns of the scheduler without a new write a leader waits for the writers it just
/// answered to queue their next writes.
const LINGER_TURNS: usize = 32;
/// How many calls of one namespace may be under way at once. One at a time carries the most
/// writes per call (fastest); more start only when every call under way is stalled (waiting for a
/// category lock another transaction holds), so that one stalled category holds up no other.
const MAX_CALLS_IN_FLIGHT: usize = 4;
/// A call under way for this long is stalled.
const STALL: std::time::Duration = std::time::Duration::from_millis(5);

struct Pending {
    write: PgWrite,
    /// Its category's lock key.
    lock: i64,
    reply: oneshot::Sender<Result<BatchResult>>,
}

#[derive(Default)]
struct Queue {
    pending: Vec<Pending>,
    leaders: usize,
}

impl Queue {
    /// The next call's writes: queued ones in order, each stream once, none of a `blocked`
    /// category, up to [`MAX_MESSAGES_PER_CALL`] messages.
    fn take_call(&mut self, blocked: &HashSet<i64>) -> Vec<Pending> {
        let mut streams = HashSet::new();
        let mut total = 0;
        let mut call = Vec::new();
        let mut rest = Vec::new();
        for p in self.pending.drain(..) {
            let fits = call.is_empty() || total + p.write.messages.len() <= MAX_MESSAGES_PER_CALL;
            if fits && !blocked.contains(&p.lock) && !streams.contains(p.write.stream_name.as_str())
            {
                total += p.write.messages.len();
                streams.insert(p.write.stream_name.clone());
                call.push(p);
            } else {
                rest.push(p);
            }
        }
        self.pending = rest;
        call
    }
}

/// A finished call whose commit is not yet published.
struct Finished {
    /// Calls with a smaller ticket had started when this one finished.
    started_before: u64,
    range: (i64, i64),
    messages: Option<Arc<[Message]>>,
}

/// A call under way.
struct Running {
    started: std::time::Instant,
    /// The category locks it takes.
    locks: Vec<i64>,
}

impl Running {
    fn stalled(&self) -> bool {
        self.started.elapsed() >= STALL
    }
}

/// The calls under way, in start order.
#[derive(Default)]
struct Flight {
    next_ticket: u64,
    /// The calls under way, by ticket.
    running: BTreeMap<u64, Running>,
    finished: Vec<Finished>,
}

impl Flight {
    /// The categories of stalled calls: another call with writes to them would only stall too.
    fn blocked(&self) -> HashSet<i64> {
        self.running
            .values()
            .filter(|r| r.stalled())
            .flat_map(|r| r.locks.iter().copied())
            .collect()
    }

    /// Every call with a smaller ticket has finished.
    fn settled(&self) -> u64 {
        self.running
            .first_key_value()
            .map_or(self.next_ticket, |(ticket, _)| *ticket)
    }
}

/// The group-committing writer of one namespace schema.
pub(crate) struct PgWriter {
    conns: Arc<PgConnections>,
    sql: sqlx::SqlStr,
    /// The namespace lock's key.
    lock: i64,
    /// The NOTIFY payload telling other processes this schema has new commits.
    notify: String,
    /// Whether a notification is being sent, and whether commits came since it was sent.
    notifying: Mutex<(bool, bool)>,
    queue: Mutex<Queue>,
    flight: Mutex<Flight>,
    settled: watch::Sender<u64>,
    log: Arc<CommitLog>,
}

impl PgWriter {
    pub(crate) fn new(
        conns: Arc<PgConnections>,
        schema: &str,
        notify: String,
        log: Arc<CommitLog>,
    ) -> Self {
        PgWriter {
            conns,
            sql: shared_sql(format!(
                "SELECT write_index, first_position, first_global_position, last_global_position,
                        error, actual_version, duplicate_id, message_time
                 FROM {}.messagedb_write($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                quote(schema)
            )),
            lock: namespace_lock(schema),
            notify,
            notifying: Mutex::new((false, false)),
            queue: Mutex::new(Queue::default()),
            flight: Mutex::new(Flight::default()),
            settled: watch::Sender::new(0),
            log,
        }
    }

    /// Queues a write and waits for its outcome.
    pub(crate) async fn submit(self: &Arc<Self>, write: PgWrite) -> Result<BatchResult> {
        let (reply, outcome) = oneshot::channel();
        let lock = names::hash_64(names::category(&write.stream_name));
        let lead = {
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.pending.push(Pending { write, lock, reply });
            let lead = q.leaders == 0;
            if lead {
                q.leaders += 1;
            }
            lead
        };
        if lead {
            self.spawn_leader();
        }
        tokio::pin!(outcome);
        loop {
            match tokio::time::timeout(STALL, &mut outcome).await {
                Ok(outcome) => return outcome.map_err(|_| Error::Closed)?,
                Err(_) => self.relieve(),
            }
        }
    }

    fn spawn_leader(self: &Arc<Self>) {
        let this = self.clone();
        tokio::spawn(async move { this.lead().await });
    }

    /// Starts another leader when writes of other categories wait behind calls that are all
    /// stalled.
    fn relieve(self: &Arc<Self>) {
        let (stalled, blocked) = {
            let f = self.flight.lock().unwrap_or_else(|p| p.into_inner());
            (f.running.values().all(Running::stalled), f.blocked())
        };
        let lead = {
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            let lead = stalled
                && q.leaders < MAX_CALLS_IN_FLIGHT
                && q.pending.iter().any(|p| !blocked.contains(&p.lock));
            if lead {
                q.leaders += 1;
            }
            lead
        };
        if lead {
            self.spawn_leader();
        }
    }

    /// Tells other processes about commits: a `pg_notify` after the commits are visible, at most
    /// one per [`NOTIFY_INTERVAL`]. Not in the write's transaction: a transaction that notifies
    /// holds PostgreSQL's global notify lock through its commit, serializing every such commit.
    pub(crate) fn announce(self: &Arc<Self>) {
        {
            let mut n = self.notifying.lock().unwrap_or_else(|p| p.into_inner());
            if n.0 {
                n.1 = true;
                return;
            }
            *n = (true, false);
        }
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                let sent = tokio::time::Instant::now();
                // Best effort: a listener that lost its connection re-reads storage anyway.
                if let Ok(mut lent) = this.conns.acquire().await {
                    let notified = sqlx::query("SELECT pg_notify('messagedb', $1)")
                        .bind(&this.notify)
                        .execute(lent.conn())
                        .await;
                    if notified.is_ok() {
                        lent.release();
                    }
                }
                // Commits during the next interval share one notification.
                tokio::time::sleep_until(sent + NOTIFY_INTERVAL).await;
                let mut n = this.notifying.lock().unwrap_or_else(|p| p.into_inner());
                if !n.1 {
                    n.0 = false;
                    return;
                }
                n.1 = false;
            }
        });
    }

    /// A mark of the calls started so far, for [`PgWriter::settle`].
    pub(crate) fn mark(&self) -> u64 {
        self.flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .next_ticket
    }

    /// Waits until every call started before `mark` was taken has finished.
    pub(crate) async fn settle(&self, mark: u64) {
        let mut settled = self.settled.subscribe();
        // The sender lives as long as `self`.
        let _ = settled.wait_for(|s| *s >= mark).await;
    }

    async fn lead(self: &Arc<Self>) {
        let mut answered = 0;
        loop {
            // The writers just answered usually write again at once: wait a moment for them, so
            // that they share the next call instead of trickling into calls of one.
            self.linger(answered).await;
            let blocked = self
                .flight
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .blocked();
            let batch = {
                let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
                let batch = q.take_call(&blocked);
                // What is left waits for a blocked category: the leader of the stalled call takes
                // it when that call ends.
                if batch.is_empty() {
                    q.leaders -= 1;
                    return;
                }
                batch
            };
            answered = batch.len();
            let mut locks: Vec<i64> = batch.iter().map(|p| p.lock).collect();
            locks.sort_unstable();
            locks.dedup();
            let ticket = {
                let mut f = self.flight.lock().unwrap_or_else(|p| p.into_inner());
                let ticket = f.next_ticket;
                f.next_ticket += 1;
                let started = std::time::Instant::now();
                let locks = locks.clone();
                f.running.insert(ticket, Running { started, locks });
                ticket
            };
            self.commit(ticket, batch, &locks).await;
        }
    }

    /// Waits until `writers` writes are queued, or until arrivals stop: a writer that does not
    /// come back within a few turns of the scheduler (it finished, or thinks between writes) is
    /// not waited for.
    async fn linger(&self, writers: usize) {
        let (mut last, mut idle) = (0, 0);
        loop {
            let queued = self
                .queue
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pending
                .len();
            if queued >= writers {
                return;
            }
            if queued == last {
                idle += 1;
                if idle > LINGER_TURNS {
                    return;
                }
            } else {
                (last, idle) = (queued, 0);
            }
            tokio::task::yield_now().await;
        }
    }

    /// Runs one call for `batch`, whose sorted category lock keys are `locks`, then publishes and
    /// answers.
    async fn commit(self: &Arc<Self>, ticket: u64, batch: Vec<Pending>, locks: &[i64]) {
        let writes: Vec<&Pending> = batch.iter().collect();
        let keep = self.log.has_subscribers();
        let mut outcomes = match self.call(&writes, locks, keep).await {
            Ok(outcomes) => outcomes,
            // A write that collided with another transaction (an id given twice at once) fails
            // the call, which rolled back: run each write alone so that only it fails. A call that
            // may have committed is never run again.
            Err(e) if writes.len() > 1 && e.rolled_back => {
                let mut each = Vec::with_capacity(writes.len());
                for w in &writes {
                    each.push(match self.call(&[w], &[w.lock], keep).await {
                        Ok(mut o) => o.remove(0),
                        Err(e) => (Err(e.error), None),
                    });
                }
                each
            }
            Err(e) if writes.len() == 1 => vec![(Err(e.error), None)],
            Err(e) => {
                // The call may have committed: subscribers look in storage.
                self.log.publish(None, None);
                writes
                    .iter()
                    .map(|_| (Err(clone_error(&e.error)), None))
                    .collect()
            }
        };
        let mut landed = 0;
        let mut range: Option<(i64, i64)> = None;
        for (r, _) in &outcomes {
            if let Ok(b) = r {
                landed += b.last_position - b.position + 1;
                range = Some(
                    range.map_or((b.global_position, b.last_global_position), |(lo, hi)| {
                        (lo.min(b.global_position), hi.max(b.last_global_position))
                    }),
                );
            }
        }
        // Subscribers get the messages only when every landed write has them at hand and no other
        // transaction took global positions between them.
        let messages = range.and_then(|(lo, hi)| {
            let complete = keep
                && hi - lo + 1 == landed
                && outcomes.iter().all(|(r, m)| r.is_err() || m.is_some());
            complete.then(|| {
                let mut all: Vec<Message> = outcomes
                    .iter_mut()
                    .flat_map(|(_, m)| m.take().unwrap_or_default())
                    .collect();
                all.sort_unstable_by_key(|m| m.global_position);
                all.into()
            })
        });
        if range.is_some() {
            self.announce();
        }
        self.finish(ticket, range, messages);
        for (p, (r, _)) in batch.into_iter().zip(outcomes) {
            let _ = p.reply.send(r);
        }
    }

    /// Records a finished call and publishes, in global-position order, every commit that no call
    /// still under way can precede.
    fn finish(&self, ticket: u64, range: Option<(i64, i64)>, messages: Option<Arc<[Message]>>) {
        let mut f = self.flight.lock().unwrap_or_else(|p| p.into_inner());
        f.running.remove(&ticket);
        if let Some(range) = range {
            let started_before = f.next_ticket;
            f.finished.push(Finished {
                started_before,
                range,
                messages,
            });
        }
        // A call started after another finished took its global positions later.
        while let Some(i) = (0..f.finished.len()).min_by_key(|&i| f.finished[i].range.0) {
            if f.settled() < f.finished[i].started_before {
                break;
            }
            let done = f.finished.swap_remove(i);
            self.log.publish(Some(done.range), done.messages);
        }
        let settled = f.settled();
        self.settled.send_replace(settled);
    }

    /// One call of `messagedb_write` for these writes: each write's outcome, with its messages
    /// when it landed.
    #[allow(clippy::type_complexity)]
    async fn call(
        &self,
        writes: &[&Pending],
        locks: &[i64],
        keep: bool,
    ) -> Result<Vec<(Result<BatchResult>, Option<Vec<Message>>)>, CallError> {
        let writes: Vec<&PgWrite> = writes.iter().map(|p| &p.write).collect();
        let n: usize = writes.iter().map(|w| w.messages.len()).sum();
        let streams: Vec<&str> = writes.iter().map(|w| w.stream_name.as_str()).collect();
        let expected: Vec<Option<i64>> = writes.iter().map(|w| w.expected_version).collect();
        let counts: Vec<i32> = writes.iter().map(|w| w.messages.len() as i32).collect();
        let mut types = Vec::with_capacity(n);
        let mut data = Vec::with_capacity(n);
        let mut metadata = Vec::with_capacity(n);
        let mut ids = Vec::with_capacity(n);
        let mut check_ids = false;
        for w in &writes {
            check_ids |= w.ids_given;
            ids.extend_from_slice(&w.ids);
            for m in &w.messages {
                types.push(m.message_type.as_str());
                data.push(m.data.as_str());
                metadata.push(m.metadata.as_ref().map(|j| j.as_str()));
            }
        }
        let mut lent = self.conns.acquire().await.map_err(|error| CallError {
            error,
            rolled_back: true, // nothing was sent
        })?;
        let rows = sqlx::query(self.sql.clone())
            .bind(self.lock)
            .bind(locks)
            .bind(&streams)
            .bind(&expected)
            .bind(&counts)
            .bind(&types)
            .bind(&data)
            .bind(&metadata)
            .bind(&ids)
            .bind(check_ids)
            .fetch_all(lent.conn())
            .await
            .map_err(CallError::from_sqlx)?;
        lent.release();
        let mut outcomes = Vec::with_capacity(writes.len());
        for (row, w) in rows.iter().zip(&writes) {
            let o = outcome(row, w, keep).map_err(|e| CallError::after_commit(map_error(e)))?;
            outcomes.push(o);
        }
        if outcomes.len() != writes.len() {
            return Err(CallError::after_commit(Error::Backend {
                message: "messagedb_write answered fewer writes than it was given".into(),
                retryable: false,
                source: None,
            }));
        }
        Ok(outcomes)
    }
}
