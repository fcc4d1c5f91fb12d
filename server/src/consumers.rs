//! Consumers run by HTTP clients: a client acknowledges with `consumer.ack`, and the server
//! records positions as a consumer does (core's `Recorder`: every 100 acknowledgements, after
//! 1 s without one, and when the server stops); `/subscribe?…&name=` resumes after the position,
//! and `/metrics` reports each known consumer's lag.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use messagedb::consumer::{ConsumerHold, ConsumerId, Recorder};
use messagedb::{Namespace, Store};
use tokio::sync::Mutex as AsyncMutex;

/// Record after this many acknowledgements (as a consumer's default).
const INTERVAL: u64 = 100;
/// Record after this long without an acknowledgement.
const IDLE: Duration = Duration::from_secs(1);
/// How often idle consumers are looked at.
const SWEEP: Duration = Duration::from_millis(200);

type Entry = Arc<AsyncMutex<Recorder>>;

/// The consumers this server has seen, by namespace and position stream.
#[derive(Default)]
pub struct Consumers {
    known: Mutex<HashMap<(String, String), Entry>>,
    /// Names of consumer subscriptions whose clients went, to record and let go.
    releasing: Mutex<Vec<(Namespace, ConsumerId, ConsumerHold)>>,
    wake: tokio::sync::Notify,
}

impl Consumers {
    fn entry(&self, ns: &Namespace, id: &ConsumerId) -> Option<Entry> {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(ns.id().to_owned(), id.position_stream()))
            .cloned()
    }

    /// The consumer's recorder, made from its recorded position when first seen.
    async fn recorder(&self, ns: &Namespace, id: &ConsumerId) -> messagedb::Result<Entry> {
        if let Some(e) = self.entry(ns, id) {
            return Ok(e);
        }
        let recorded = ns.consumer_position(id).await?;
        let fresh = Arc::new(AsyncMutex::new(Recorder::new(
            id.clone(),
            recorded,
            INTERVAL,
            IDLE,
        )));
        Ok(self
            .known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((ns.id().to_owned(), id.position_stream()))
            .or_insert(fresh)
            .clone())
    }

    /// `consumer.ack`: the position moves to `position`, never back (behind what was acknowledged
    /// here or recorded anywhere since); returns the consumer's position.
    ///
    /// # Errors
    /// As reads and writes.
    pub async fn ack(
        &self,
        ns: &Namespace,
        id: &ConsumerId,
        position: i64,
    ) -> messagedb::Result<Option<i64>> {
        let entry = self.recorder(ns, id).await?;
        let mut recorder = entry.lock().await;
        // Another server, a consumer or `set_consumer_position` may have recorded a later one.
        recorder.observe(ns.consumer_position(id).await?);
        recorder.ack(ns, position).await?;
        Ok(recorder.acked())
    }

    /// A `/subscribe?…&name=` client went: what it acknowledged here is recorded, then its name
    /// let go, so that its successor starts after it. Done by the keeper (this may be called
    /// from a drop, on a serving thread that is about to stop).
    pub fn release(&self, ns: &Namespace, id: ConsumerId, hold: ConsumerHold) {
        self.releasing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((ns.clone(), id, hold));
        self.wake.notify_one();
    }

    /// Records and lets go of the released names.
    async fn let_go(&self) {
        let released =
            std::mem::take(&mut *self.releasing.lock().unwrap_or_else(|p| p.into_inner()));
        for (ns, id, hold) in released {
            if let Some(entry) = self.entry(&ns, &id)
                && let Err(e) = entry.lock().await.record(&ns).await
            {
                tracing::warn!(error = %e, namespace = %ns.id(), "recording a consumer's position");
            }
            drop(hold);
        }
    }

    /// The consumer's position: what was acknowledged here if that is newer, else what is
    /// recorded (by any server or consumer).
    ///
    /// # Errors
    /// As reads.
    pub async fn position(
        &self,
        ns: &Namespace,
        id: &ConsumerId,
    ) -> messagedb::Result<Option<i64>> {
        let recorded = ns.consumer_position(id).await?;
        let acked = match self.entry(ns, id) {
            Some(e) => e.lock().await.acked(),
            None => None,
        };
        Ok(recorded.max(acked))
    }

    /// Every consumer seen here: namespace and identity.
    pub fn seen(&self) -> Vec<(String, ConsumerId)> {
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known
            .keys()
            .filter_map(|(ns, stream)| {
                ConsumerId::from_position_stream(stream).map(|id| (ns.clone(), id))
            })
            .collect()
    }

    /// Records what is due: the idle ones, or (`all`) everything unrecorded.
    async fn record(&self, store: &Store, all: bool) {
        let entries: Vec<((String, String), Entry)> = self
            .known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for ((ns, _), entry) in entries {
            let mut recorder = entry.lock().await;
            if (recorder.idle_due() || (all && recorder.pending()))
                && let Err(e) = recorder.record(&store.namespace(&ns)).await
            {
                tracing::warn!(error = %e, namespace = %ns, "recording a consumer's position");
            }
        }
    }

    /// Records idle consumers' positions and lets go of released names until `stop` flips, then
    /// records every unrecorded position and lets go of every name.
    pub async fn keep(self: Arc<Self>, store: Store, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            let stopped = tokio::select! {
                s = stop.wait_for(|s| *s) => s.is_ok(),
                () = self.wake.notified() => false,
                () = tokio::time::sleep(SWEEP) => false,
            };
            if stopped || stop.has_changed().is_err() {
                break;
            }
            self.let_go().await;
            self.record(&store, false).await;
        }
        self.record(&store, true).await;
        self.let_go().await;
    }
}
