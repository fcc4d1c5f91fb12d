//! When a consumer's position is recorded (consumers.md, "Recording"): after every
//! `position_update_interval` handled messages, after `position_update_idle` without new ones if
//! anything is unrecorded, and on a clean stop. One rule for the consumers of this crate and for
//! the server's `consumer.ack`.
//!
//! A recording due after `interval` messages is written in the background while the consumer goes
//! on (one at a time; acknowledgements meanwhile are recorded by the next one), so a consumer does
//! not wait for a commit (a file's fsync) every `interval` messages. An idle recording and the one
//! of a clean stop wait for it. Either way the recorded position never passes an acknowledged one,
//! so delivery stays at least once across a crash.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::ConsumerId;
use crate::store::Namespace;
use crate::{Error, Result};

/// A consumer's acknowledged and recorded positions.
#[derive(Debug)]
pub struct Recorder {
    id: ConsumerId,
    interval: u64,
    idle: Duration,
    /// The last recorded position.
    recorded: Option<i64>,
    /// The last acknowledged (or passed over) position.
    acked: Option<i64>,
    /// Acknowledged since the last recording.
    unrecorded: u64,
    /// When the last acknowledgement came.
    last_ack: Instant,
    /// A recording being written in the background, and its position.
    writing: Option<(i64, JoinHandle<Result<()>>)>,
}

impl Recorder {
    /// A consumer that recorded `recorded` last, recording every `interval` acknowledgements (at
    /// least 1) or after `idle` without one.
    pub fn new(id: ConsumerId, recorded: Option<i64>, interval: u64, idle: Duration) -> Self {
        Recorder {
            id,
            interval: interval.max(1),
            idle,
            recorded,
            acked: recorded,
            unrecorded: 0,
            last_ack: Instant::now(),
            writing: None,
        }
    }

    /// The consumer's identity.
    pub fn id(&self) -> &ConsumerId {
        &self.id
    }

    /// The last acknowledged position (recorded or not).
    pub fn acked(&self) -> Option<i64> {
        self.acked
    }

    /// The last recorded position.
    pub fn recorded(&self) -> Option<i64> {
        self.recorded
    }

    /// Whether anything acknowledged is not recorded yet.
    pub fn pending(&self) -> bool {
        self.unrecorded > 0
    }

    /// How long to wait for the next message before an idle recording (`None`: nothing to record).
    pub fn idle(&self) -> Option<Duration> {
        self.pending().then_some(self.idle)
    }

    /// Whether an idle recording is due now.
    pub fn idle_due(&self) -> bool {
        self.pending() && self.last_ack.elapsed() >= self.idle
    }

    /// The position moves past a message that was handled (or parked); records when
    /// `interval` messages are unrecorded. A position at or before the acknowledged one is ignored
    /// (acknowledgements may come twice, or out of order, over HTTP).
    ///
    /// # Errors
    /// As writes.
    pub async fn ack(&mut self, ns: &Namespace, position: i64) -> Result<()> {
        if self.acked.is_some_and(|a| a >= position) {
            return Ok(());
        }
        self.acked = Some(position);
        self.unrecorded += 1;
        self.last_ack = Instant::now();
        if self
            .writing
            .as_ref()
            .is_some_and(|(_, task)| task.is_finished())
        {
            self.finish_writing().await?;
        }
        self.start_if_due(ns).await
    }

    /// Whether a recording is being written in the background.
    pub fn writing(&self) -> bool {
        self.writing.is_some()
    }

    /// Waits for the recording being written in the background (if any), then starts the next
    /// one if `interval` messages came meanwhile. Cancel-safe: cancelled, the recording goes on
    /// being written, and is waited for by the next call.
    ///
    /// # Errors
    /// As writes.
    pub async fn written(&mut self, ns: &Namespace) -> Result<()> {
        self.finish_writing().await?;
        self.start_if_due(ns).await
    }

    /// Starts writing the acknowledged position in the background when `interval` messages are
    /// unrecorded and no recording is being written (in line outside a tokio runtime).
    async fn start_if_due(&mut self, ns: &Namespace) -> Result<()> {
        let Some(position) = self.acked else {
            return Ok(());
        };
        if self.unrecorded < self.interval || self.writing.is_some() {
            return Ok(());
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return self.record(ns).await;
        };
        let (ns, id) = (ns.clone(), self.id.clone());
        let task = runtime.spawn(async move { ns.set_consumer_position(&id, position).await });
        self.writing = Some((position, task));
        self.unrecorded = 0;
        Ok(())
    }

    /// Waits for the recording written in the background, if any (cancel-safe: the task is
    /// awaited where it is kept).
    async fn finish_writing(&mut self) -> Result<()> {
        let Some((position, task)) = self.writing.as_mut() else {
            return Ok(());
        };
        let position = *position;
        let written = task.await;
        self.writing = None;
        written.map_err(|e| Error::backend("recording a consumer's position", false, e))??;
        self.recorded = Some(position);
        Ok(())
    }

    /// What is recorded now (read from the store): a later position recorded elsewhere (another
    /// server, [`Namespace::set_consumer_position`]) is taken as acknowledged and recorded.
    pub fn observe(&mut self, recorded: Option<i64>) {
        if let Some(p) = recorded
            && self.acked.is_none_or(|a| a < p)
        {
            self.acked = Some(p);
            self.recorded = Some(p);
            self.unrecorded = 0;
        }
    }

    /// The position moves past a message that is not the consumer's (it does not count towards a
    /// recording: a whole-namespace consumer would otherwise record because of its own records).
    pub fn pass(&mut self, position: i64) {
        self.acked = Some(position);
    }

    /// Records the acknowledged position if anything is unrecorded (after the background
    /// recording, if one is being written).
    ///
    /// # Errors
    /// As writes.
    pub async fn record(&mut self, ns: &Namespace) -> Result<()> {
        self.finish_writing().await?;
        let Some(position) = self.acked.filter(|_| self.pending()) else {
            return Ok(());
        };
        ns.set_consumer_position(&self.id, position).await?;
        self.recorded = Some(position);
        self.unrecorded = 0;
        Ok(())
    }
}
