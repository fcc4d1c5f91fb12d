//! Consumers (consumers.md): named, durable readers of one category that resume where they left
//! off, on top of subscriptions. A consumer records its progress in the store itself, in an
//! Eventide-compatible position stream (`identity.rs`), so a restart hands out nothing it had
//! recorded as handled.
//!
//! Built so far: identity and stream names, the recorded position (read, set), and the pull form
//! (`next`, `ack`, `stop`) with recording every `position_update_interval` messages, after
//! `position_update_idle` and on a clean stop. Retries, parking, one active instance and the
//! handler form build on this.

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
        self.acked = Some(message.global_position);
        self.unrecorded += 1;
        self.handled += 1;
        self.record_if_due().await
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
