//! Consumers (consumers.md): named, durable readers of one category that resume where they left
//! off, on top of subscriptions. A consumer records its progress in the store itself, in an
//! Eventide-compatible position stream (`identity.rs`), so a restart hands out nothing it had
//! recorded as handled.
//!
//! Built so far: identity and stream names, the recorded position (read, set), and the pull form
//! (`next`, `ack`, `nack`, `stop`) with recording every `position_update_interval` messages, after
//! `position_update_idle` and on a clean stop, retries with backoff and parking. Replaying parked
//! messages, one active instance and the handler form build on this.

mod identity;

use std::time::Duration;

use serde_json::json;

pub use identity::{ConsumerId, PARKED_QUALIFIER, POSITION_QUALIFIER, is_consumer_record};

use crate::model::{ConsumerGroup, Message, NewMessage, WriteOpts};
use crate::store::Namespace;
use crate::subscribe::{SubscribeOpts, Subscription};
use crate::{Error, Result, names};

/// The type of position messages.
pub const RECORDED: &str = "Recorded";
/// The type of parked-message records.
pub const PARKED: &str = "Parked";

/// Where a consumer with no recorded position starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Start {
    /// At the first message (global position 1).
    #[default]
    Beginning,
    /// At this global position.
    At(i64),
}

/// How a failing message is retried (consumers.md, "Failure").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryOpts {
    /// How many times a failed message is tried again before it is parked (0 = park at once).
    pub attempts: u32,
    /// The delay before the first retry; it doubles with each retry.
    pub initial_delay: Duration,
    /// The longest delay between two tries.
    pub max_delay: Duration,
}

impl Default for RetryOpts {
    fn default() -> Self {
        RetryOpts {
            attempts: 3,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryOpts {
    /// `attempts` retries, the first after `initial_delay`, doubling up to `max_delay`.
    pub fn new(attempts: u32, initial_delay: Duration, max_delay: Duration) -> Self {
        RetryOpts {
            attempts,
            initial_delay,
            max_delay,
        }
    }

    /// The delay before retry number `retry` (1-based): the initial delay, doubled each time,
    /// capped.
    fn delay(&self, retry: u32) -> Duration {
        let doubled = self
            .initial_delay
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)));
        doubled.min(self.max_delay)
    }
}

/// What a consumer does with a message that failed every try.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnError {
    /// Park it in the parked stream and go on (the default).
    #[default]
    Park,
    /// Stop the consumer; the message stays unhandled and comes first at the next start.
    Stop,
}

/// What became of a negatively acknowledged message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Nacked {
    /// It is handed out again after `delay` (try number `attempt` + 1).
    Retrying {
        /// How many tries failed so far.
        attempt: u32,
        /// How long until it is handed out again.
        delay: Duration,
    },
    /// It failed every try and was parked; the consumer goes on.
    Parked,
    /// It failed every try and the consumer stopped (`OnError::Stop`).
    Stopped,
}

/// Options of a consumer: its identity and how often it records its position.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConsumerOpts {
    /// Who the consumer is.
    pub id: ConsumerId,
    /// Only messages correlated with this category (as in `get_category`).
    pub correlation: Option<String>,
    /// Where to start when no position is recorded.
    pub start: Start,
    /// Record the position after this many handled messages (default 100, as Eventide).
    pub position_update_interval: u64,
    /// Record an unrecorded position after this long without new messages (default 1 s).
    pub position_update_idle: Duration,
    /// How a failing message is retried.
    pub retry: RetryOpts,
    /// What happens to a message that failed every try.
    pub on_error: OnError,
}

impl ConsumerOpts {
    /// A consumer `name` of `category` (`""` = the whole namespace).
    ///
    /// # Errors
    /// `INVALID_REQUEST` for a bad category or name.
    pub fn new(category: &str, name: &str) -> Result<Self> {
        Ok(ConsumerOpts {
            id: ConsumerId::new(category, name, None)?,
            correlation: None,
            start: Start::Beginning,
            position_update_interval: 100,
            position_update_idle: Duration::from_secs(1),
            retry: RetryOpts::default(),
            on_error: OnError::Park,
        })
    }

    /// One member of a consumer group (a different identity, and a different position stream).
    ///
    /// # Errors
    /// `INVALID_REQUEST` when the position stream's name would be too long.
    pub fn group(mut self, group: ConsumerGroup) -> Result<Self> {
        self.id = ConsumerId::new(self.id.category(), self.id.name(), Some(group))?;
        Ok(self)
    }

    /// Only messages correlated with this category.
    pub fn correlation(mut self, category: impl Into<String>) -> Self {
        self.correlation = Some(category.into());
        self
    }

    /// Where to start when no position is recorded.
    pub fn start(mut self, start: Start) -> Self {
        self.start = start;
        self
    }

    /// Record after this many handled messages (at least 1).
    pub fn position_update_interval(mut self, messages: u64) -> Self {
        self.position_update_interval = messages.max(1);
        self
    }

    /// Record an unrecorded position after this long without new messages.
    pub fn position_update_idle(mut self, idle: Duration) -> Self {
        self.position_update_idle = idle;
        self
    }

    /// How a failing message is retried.
    pub fn retry(mut self, retry: RetryOpts) -> Self {
        self.retry = retry;
        self
    }

    /// What happens to a message that failed every try.
    pub fn on_error(mut self, on_error: OnError) -> Self {
        self.on_error = on_error;
        self
    }
}

impl Namespace {
    /// The global position a consumer recorded last (`None` when it recorded none).
    ///
    /// # Errors
    /// As `get_last`; `BACKEND_ERROR` when the last `Recorded` message has no position.
    pub async fn consumer_position(&self, id: &ConsumerId) -> Result<Option<i64>> {
        let Some(last) = self.get_last(&id.position_stream(), Some(RECORDED)).await? else {
            return Ok(None);
        };
        recorded_position(&last).map(Some)
    }

    /// Records a consumer's position (to reset or rewind it: the consumer resumes after it).
    ///
    /// # Errors
    /// `INVALID_REQUEST` for a negative position; as `write`.
    pub async fn set_consumer_position(&self, id: &ConsumerId, position: i64) -> Result<()> {
        if position < 0 {
            return Err(Error::invalid("a consumer position must be >= 0"));
        }
        let message = NewMessage::new(RECORDED, json!({ "position": position }))?;
        self.write(&id.position_stream(), message, WriteOpts::default())
            .await?;
        Ok(())
    }

    /// The messages a consumer parked (type `Parked`, data `{stream, position, globalPosition,
    /// type, id, error, attempts}`), oldest first.
    ///
    /// # Errors
    /// As `get_stream`.
    pub async fn parked(&self, id: &ConsumerId) -> Result<Vec<Message>> {
        let all = crate::model::GetStreamOpts::default().batch_size(-1);
        let records = self.get_stream(&id.parked_stream(), &all).await?;
        Ok(records
            .into_iter()
            .filter(|m| m.message_type == PARKED)
            .collect())
    }

    /// Opens a consumer in pull form: it resumes after its recorded position (or at its start)
    /// and hands out messages with [`Consumer::next`], each to be acknowledged with
    /// [`Consumer::ack`].
    ///
    /// # Errors
    /// As [`Namespace::subscribe`] and [`Namespace::consumer_position`].
    pub async fn consumer(&self, opts: ConsumerOpts) -> Result<Consumer> {
        let recorded = self.consumer_position(&opts.id).await?;
        let from = match (recorded, opts.start) {
            (Some(p), _) => p + 1,
            (None, Start::Beginning) => 1,
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
        let subscription = self.subscribe(target.from_position(from)).await?;
        Ok(Consumer {
            ns: self.clone(),
            opts,
            subscription,
            recorded,
            handed: None,
            acked: recorded,
            unrecorded: 0,
            handled: 0,
            failures: 0,
            retry: None,
            stopped: false,
        })
    }
}

/// The position a `Recorded` message carries.
fn recorded_position(message: &Message) -> Result<i64> {
    message
        .data
        .to_value()
        .get("position")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| Error::Backend {
            message: format!(
                "the position message at {}/{} has no position",
                message.stream_name, message.position
            ),
            retryable: false,
            source: None,
        })
}

/// A consumer in pull form (see [`Namespace::consumer`]).
///
/// Delivery is exactly once and in order within a run, and at least once across a crash: at most
/// `position_update_interval` − 1 acknowledged messages are handed out again after a crash, since
/// the position is recorded every `position_update_interval` messages, after
/// `position_update_idle` without new messages, and on [`Consumer::stop`].
pub struct Consumer {
    ns: Namespace,
    opts: ConsumerOpts,
    subscription: Subscription,
    /// The last recorded position.
    recorded: Option<i64>,
    /// The message handed out and not yet acknowledged.
    handed: Option<i64>,
    /// The last acknowledged position.
    acked: Option<i64>,
    /// Acknowledged since the last recording.
    unrecorded: u64,
    /// Acknowledged in this run.
    handled: u64,
    /// How many tries of the message handed out (or to be retried) failed.
    failures: u32,
    /// A failed message to hand out again, and when.
    retry: Option<(Message, tokio::time::Instant)>,
    /// Stopped by a message that failed every try (`OnError::Stop`).
    stopped: bool,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("id", &self.opts.id)
            .field("recorded", &self.recorded)
            .field("acked", &self.acked)
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
        self.acked
    }

    /// How many messages were acknowledged in this run.
    pub fn handled(&self) -> u64 {
        self.handled
    }

    /// The next message; `None` when the subscription ended (the store or namespace closed).
    /// While no message comes for `position_update_idle`, an unrecorded position is recorded.
    ///
    /// # Errors
    /// `INVALID_REQUEST` when the message handed out before was not acknowledged; as reads.
    pub async fn next(&mut self) -> Result<Option<Message>> {
        if let Some(p) = self.handed {
            return Err(Error::invalid(format!(
                "the message at global position {p} was not acknowledged"
            )));
        }
        if self.stopped {
            return Ok(None);
        }
        if let Some((message, due)) = self.retry.take() {
            tokio::time::sleep_until(due).await;
            self.handed = Some(message.global_position);
            return Ok(Some(message));
        }
        loop {
            let next = if self.unrecorded > 0 {
                match tokio::time::timeout(self.opts.position_update_idle, self.subscription.next())
                    .await
                {
                    Ok(next) => next,
                    Err(_idle) => {
                        self.record().await?;
                        continue;
                    }
                }
            } else {
                self.subscription.next().await
            };
            let Some(message) = next.transpose()? else {
                return Ok(None);
            };
            if self.skips(&message) {
                // Not this consumer's: the position moves past it with the next recording, but
                // it does not count towards one (a whole-namespace consumer would otherwise
                // record because of its own records, forever).
                self.acked = Some(message.global_position);
                continue;
            }
            self.handed = Some(message.global_position);
            return Ok(Some(message));
        }
    }

    /// Acknowledges the message last handed out: it is handled, and the position moves past it.
    ///
    /// # Errors
    /// `INVALID_REQUEST` for any other message; as writes (recording the position).
    pub async fn ack(&mut self, message: &Message) -> Result<()> {
        if self.handed != Some(message.global_position) {
            return Err(Error::invalid(format!(
                "the message at global position {} is not the one handed out",
                message.global_position
            )));
        }
        self.handed = None;
        self.failures = 0;
        self.acked = Some(message.global_position);
        self.unrecorded += 1;
        self.handled += 1;
        self.record_if_due().await
    }

    /// Reports that handling the message last handed out failed with `error`: it is handed out
    /// again after the retry delay, or, when every try failed, parked (and the consumer goes on)
    /// or the consumer stops, as `on_error` says.
    ///
    /// # Errors
    /// `INVALID_REQUEST` for any other message; as writes (parking, recording).
    pub async fn nack(&mut self, message: &Message, error: &str) -> Result<Nacked> {
        if self.handed != Some(message.global_position) {
            return Err(Error::invalid(format!(
                "the message at global position {} is not the one handed out",
                message.global_position
            )));
        }
        self.handed = None;
        self.failures += 1;
        if self.failures <= self.opts.retry.attempts {
            let delay = self.opts.retry.delay(self.failures);
            self.retry = Some((message.clone(), tokio::time::Instant::now() + delay));
            return Ok(Nacked::Retrying {
                attempt: self.failures,
                delay,
            });
        }
        let attempts = std::mem::take(&mut self.failures);
        if self.opts.on_error == OnError::Stop {
            self.stopped = true;
            self.record().await?;
            return Ok(Nacked::Stopped);
        }
        self.park(message, error, attempts).await?;
        self.acked = Some(message.global_position);
        self.unrecorded += 1;
        self.record_if_due().await?;
        Ok(Nacked::Parked)
    }

    async fn park(&self, message: &Message, error: &str, attempts: u32) -> Result<()> {
        let record = NewMessage::new(
            PARKED,
            json!({
                "stream": message.stream_name,
                "position": message.position,
                "globalPosition": message.global_position,
                "type": message.message_type,
                "id": message.id.to_string(),
                "error": error,
                "attempts": attempts,
            }),
        )?;
        self.ns
            .write(&self.opts.id.parked_stream(), record, WriteOpts::default())
            .await?;
        Ok(())
    }

    /// Records the position if anything is unrecorded, and ends the consumer.
    ///
    /// # Errors
    /// As writes.
    pub async fn stop(mut self) -> Result<()> {
        self.record().await
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

    async fn record_if_due(&mut self) -> Result<()> {
        if self.unrecorded >= self.opts.position_update_interval {
            self.record().await?;
        }
        Ok(())
    }

    async fn record(&mut self) -> Result<()> {
        let Some(position) = self.acked.filter(|_| self.unrecorded > 0) else {
            return Ok(());
        };
        self.ns
            .set_consumer_position(&self.opts.id, position)
            .await?;
        self.recorded = Some(position);
        self.unrecorded = 0;
        Ok(())
    }
}
