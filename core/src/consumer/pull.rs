//! A running consumer. It holds its identity's lock (one active instance, consumers.md), hands
//! out messages from a subscription that starts after the recorded position, and records its
//! position every `position_update_interval` messages, after `position_update_idle` without new
//! messages, and on a clean stop.

use std::fmt::Display;
use std::future::Future;

use tokio::time::Instant;

use super::parked::Parked;
use super::recorder::Recorder;
use super::{ConsumerId, ConsumerInfo, ConsumerOpts, Nacked, OnError, Start, is_consumer_record};
use crate::backend::ConsumerLock;
use crate::model::{Message, WriteOpts};
use crate::store::Namespace;
use crate::subscribe::{SubscribeOpts, Subscription};
use crate::{Error, Result, names};

/// A consumer about to start (see [`Namespace::consumer`]).
#[derive(Debug)]
#[must_use = "a consumer starts with open() or run()"]
pub struct ConsumerBuilder {
    ns: Namespace,
    opts: ConsumerOpts,
}

impl ConsumerBuilder {
    pub(super) fn new(ns: Namespace, opts: ConsumerOpts) -> Self {
        ConsumerBuilder { ns, opts }
    }

    /// The consumer's identity.
    pub fn id(&self) -> &ConsumerId {
        &self.opts.id
    }

    /// Waits to be the one active instance of the identity (a standby until then: dropping the
    /// future gives up) and holds it until the value is dropped, without reading: the server
    /// holds one for a `/subscribe?…&name=` client, which acknowledges with `consumer.ack`.
    ///
    /// # Errors
    /// As [`ConsumerBuilder::open`].
    pub async fn hold(&self) -> Result<ConsumerHold> {
        let lock = self
            .ns
            .storage()
            .await?
            .lock_consumer(&self.opts.id.position_stream(), self.opts.lock_poll())
            .await?;
        Ok(ConsumerHold { _lock: lock })
    }

    /// Waits to be the one active instance of the identity (a standby until then: dropping the
    /// future gives up), then opens the consumer after its recorded position, or at its start.
    ///
    /// # Errors
    /// As reads, and `BACKEND_ERROR` when the lock cannot be asked for.
    pub async fn open(self) -> Result<Consumer> {
        let ConsumerHold { _lock: lock } = self.hold().await?;
        let ConsumerBuilder { ns, opts } = self;
        let storage = ns.storage().await?;
        // Read under the lock: the previous instance recorded its last position before it let go.
        let recorded = ns.consumer_position(&opts.id).await?;
        let from = match (recorded, opts.start) {
            (Some(p), _) => p + 1,
            (None, Start::Beginning) => 1,
            (None, Start::End) => storage.progress("", 0, 0).await?.0 + 1,
            (None, Start::At(p)) => p.max(1),
        };
        let target = match opts.id.category() {
            "" => SubscribeOpts::all(),
            c => SubscribeOpts::category(c),
        };
        let target = match opts.id.group() {
            Some(g) => target.consumer_group(g),
            None => target,
        };
        let subscription = ns.subscribe(target.from_position(from)).await?;
        let recorder = Recorder::new(
            opts.id.clone(),
            recorded,
            opts.position_update_interval,
            opts.position_update_idle,
        );
        Ok(Consumer {
            ns,
            opts,
            subscription,
            recorder,
            lock,
            checked: Instant::now(),
            taken: None,
            handed: None,
            handled: 0,
            failures: 0,
            retry: None,
            stopped: false,
            lost: false,
        })
    }

    /// Runs the consumer with a handler until the subscription ends (the store or namespace
    /// closes) or a message fails every try with `OnError::Stop`. A handler error is a nack.
    ///
    /// # Errors
    /// As [`ConsumerBuilder::open`], reads and writes.
    pub async fn run<F, Fut, E>(self, handler: F) -> Result<()>
    where
        F: FnMut(Message) -> Fut,
        Fut: Future<Output = std::result::Result<(), E>>,
        E: Display,
    {
        self.run_until(handler, std::future::pending()).await
    }

    /// [`ConsumerBuilder::run`] until `stop` completes too; then the position is recorded (a
    /// clean stop). A standby gives up waiting.
    ///
    /// # Errors
    /// As [`ConsumerBuilder::run`].
    pub async fn run_until<F, Fut, E>(
        self,
        mut handler: F,
        stop: impl Future<Output = ()>,
    ) -> Result<()>
    where
        F: FnMut(Message) -> Fut,
        Fut: Future<Output = std::result::Result<(), E>>,
        E: Display,
    {
        let mut stop = std::pin::pin!(stop);
        let mut consumer = tokio::select! {
            biased;
            () = &mut stop => return Ok(()),
            opened = self.open() => opened?,
        };
        loop {
            let next = tokio::select! {
                biased;
                () = &mut stop => break,
                next = consumer.next() => next?,
            };
            let Some(message) = next else { break };
            match handler(message.clone()).await {
                Ok(()) => consumer.ack(&message).await?,
                Err(e) => {
                    if consumer.nack(&message, &e.to_string()).await? == Nacked::Stopped {
                        break;
                    }
                }
            }
        }
        consumer.stop().await
    }
}

/// The one active instance of a consumer identity, held until dropped (see
/// [`ConsumerBuilder::hold`]).
pub struct ConsumerHold {
    _lock: Box<dyn ConsumerLock>,
}

impl std::fmt::Debug for ConsumerHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsumerHold")
    }
}

/// A consumer in pull form (see [`ConsumerBuilder::open`]), the one active instance of its
/// identity until it is stopped or dropped.
///
/// Delivery is exactly once and in order within a run, and at least once across a crash: the
/// position is recorded every `position_update_interval` messages (in the background, see
/// `recorder.rs`), after `position_update_idle` without new messages, and on [`Consumer::stop`],
/// so after a crash at most `position_update_interval` − 1 acknowledged messages are handed out
/// again, and those acknowledged while the last recording was being written.
pub struct Consumer {
    ns: Namespace,
    opts: ConsumerOpts,
    subscription: Subscription,
    /// The identity's lock, released when the consumer is dropped.
    lock: Box<dyn ConsumerLock>,
    /// When the lock was last found held.
    checked: Instant,
    /// The acknowledged and recorded positions.
    recorder: Recorder,
    /// A message taken from the subscription (or due for a retry), not handed out yet.
    taken: Option<Message>,
    /// The message handed out and not yet acknowledged.
    handed: Option<i64>,
    /// Acknowledged in this run.
    handled: u64,
    /// How many tries of the message handed out (or to be retried) failed.
    failures: u32,
    /// A failed message to hand out again, and when.
    retry: Option<(Message, Instant)>,
    /// Stopped by a message that failed every try (`OnError::Stop`).
    stopped: bool,
    /// The lock was found lost: nothing more is handed out.
    lost: bool,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("id", &self.opts.id)
            .field("recorder", &self.recorder)
            .finish()
    }
}

impl Consumer {
    /// The consumer's identity.
    pub fn id(&self) -> &ConsumerId {
        &self.opts.id
    }

    /// The last acknowledged global position (recorded or not).
    pub fn position(&self) -> Option<i64> {
        self.recorder.acked()
    }

    /// How many messages were acknowledged in this run.
    pub fn handled(&self) -> u64 {
        self.handled
    }

    /// The consumer's progress (`active` is true: this is the active instance).
    ///
    /// # Errors
    /// As reads.
    pub async fn info(&self) -> Result<ConsumerInfo> {
        self.ns
            .progress_of(&self.opts.id, self.recorder.acked(), self.handled, true)
            .await
    }

    /// The next message; `None` when the subscription ended (the store or namespace closed) or
    /// the consumer stopped on a failure. While no message comes for `position_update_idle`, an
    /// unrecorded position is recorded. Cancel-safe: a message is handed out only when the call
    /// completes.
    ///
    /// # Errors
    /// `INVALID_REQUEST` when the message handed out before was not acknowledged; a retryable
    /// `BACKEND_ERROR` when the consumer lost its lock (its PostgreSQL session ended) and must be
    /// opened again; as reads.
    pub async fn next(&mut self) -> Result<Option<Message>> {
        if let Some(p) = self.handed {
            return Err(Error::invalid(format!(
                "the message at global position {p} was not acknowledged"
            )));
        }
        if self.lost {
            return Err(self.lost_lock());
        }
        if self.stopped {
            return Ok(None);
        }
        if let Some((_, due)) = &self.retry {
            tokio::time::sleep_until(*due).await;
            let (message, _) = self.retry.take().expect("checked above");
            self.taken = Some(message);
        }
        if self.taken.is_some() {
            return self.hand_out().await.map(Some);
        }
        loop {
            let next = match self.subscription.next_buffered() {
                Some(m) => Some(Ok(m)),
                None => self.wait_next().await?,
            };
            let Some(message) = next.transpose()? else {
                return Ok(None);
            };
            if self.skips(&message) {
                // Not this consumer's: the position moves past it with the next recording.
                self.recorder.pass(message.global_position);
                continue;
            }
            self.taken = Some(message);
            return self.hand_out().await.map(Some);
        }
    }

    /// Waits for the subscription's next message, meanwhile seeing a background recording land
    /// (and starting the next one due: a burst's tail is recorded at once) and recording after
    /// `position_update_idle`. The read under way is never given up for these (a PostgreSQL read
    /// given up costs its connection).
    async fn wait_next(&mut self) -> Result<Option<Result<Message>>> {
        let Consumer {
            subscription,
            recorder,
            ns,
            ..
        } = self;
        let mut next = std::pin::pin!(subscription.next());
        loop {
            let writing = recorder.writing();
            let idle = recorder.idle().filter(|_| !writing);
            tokio::select! {
                biased;
                next = &mut next => return Ok(next),
                written = recorder.written(ns), if writing => written?,
                () = tokio::time::sleep(idle.unwrap_or_default()), if idle.is_some() => {
                    recorder.record(ns).await?;
                }
            }
        }
    }

    /// Hands out the message taken, once the lock is known to be held (asked at most every poll).
    /// Cancelled while asking, the message stays taken for the next call.
    async fn hand_out(&mut self) -> Result<Message> {
        let poll = self.opts.lock_poll();
        if self.checked.elapsed() >= poll {
            if !self.lock.held(poll).await {
                self.lost = true;
                return Err(self.lost_lock());
            }
            self.checked = Instant::now();
        }
        let message = self.taken.take().expect("a message was taken");
        self.handed = Some(message.global_position);
        Ok(message)
    }

    fn lost_lock(&self) -> Error {
        Error::Backend {
            message: format!(
                "consumer {} lost its lock; another instance may take over",
                self.opts.id.position_stream()
            ),
            retryable: true,
            source: None,
        }
    }

    /// Acknowledges the message last handed out: it is handled, and the position moves past it.
    ///
    /// # Errors
    /// `INVALID_REQUEST` for any other message; as writes (recording the position).
    pub async fn ack(&mut self, message: &Message) -> Result<()> {
        self.take_handed(message)?;
        self.failures = 0;
        self.handled += 1;
        self.recorder.ack(&self.ns, message.global_position).await
    }

    /// Reports that handling the message last handed out failed with `error`: it is handed out
    /// again after the retry delay, or, when every try failed, parked (and the consumer goes on)
    /// or the consumer stops, as `on_error` says.
    ///
    /// # Errors
    /// `INVALID_REQUEST` for any other message; as writes (parking, recording).
    pub async fn nack(&mut self, message: &Message, error: &str) -> Result<Nacked> {
        self.take_handed(message)?;
        self.failures += 1;
        if self.failures <= self.opts.retry.attempts {
            let delay = self.opts.retry.delay(self.failures);
            self.retry = Some((message.clone(), Instant::now() + delay));
            return Ok(Nacked::Retrying {
                attempt: self.failures,
                delay,
            });
        }
        let attempts = std::mem::take(&mut self.failures);
        if self.opts.on_error == OnError::Stop {
            self.stopped = true;
            self.recorder.record(&self.ns).await?;
            return Ok(Nacked::Stopped);
        }
        let record = Parked::record(message, error, attempts)?;
        self.ns
            .write(&self.opts.id.parked_stream(), record, WriteOpts::default())
            .await?;
        self.recorder.ack(&self.ns, message.global_position).await?;
        Ok(Nacked::Parked)
    }

    fn take_handed(&mut self, message: &Message) -> Result<()> {
        if self.handed != Some(message.global_position) {
            return Err(Error::invalid(format!(
                "the message at global position {} is not the one handed out",
                message.global_position
            )));
        }
        self.handed = None;
        Ok(())
    }

    /// Records the position if anything is unrecorded, and ends the consumer (a standby takes
    /// over). A consumer that lost its lock records nothing: the instance that took over may
    /// have recorded a later position.
    ///
    /// # Errors
    /// As writes.
    pub async fn stop(mut self) -> Result<()> {
        if self.lost || !self.lock.held(self.opts.lock_poll()).await {
            return Ok(());
        }
        self.recorder.record(&self.ns).await
    }

    /// Whether a message is passed over: a whole-namespace consumer's own records, or one not
    /// correlated with the consumer's correlation category.
    fn skips(&self, message: &Message) -> bool {
        if self.opts.id.category().is_empty() && is_consumer_record(&message.stream_name) {
            return true;
        }
        match &self.opts.correlation {
            None => false,
            Some(c) => {
                let metadata = message.metadata.as_ref().map(|m| m.as_str());
                names::correlation_category(metadata).as_deref() != Some(c.as_str())
            }
        }
    }
}
