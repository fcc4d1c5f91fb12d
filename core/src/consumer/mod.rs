//! Consumers (consumers.md): named, durable readers of one category that resume where they left
//! off, on top of subscriptions. A consumer records its progress in the store itself, in an
//! Eventide-compatible position stream (`identity.rs`), so a restart hands out nothing it had
//! recorded as handled.
//!
//! - `identity.rs`: who a consumer is and the names of its streams;
//! - this file: options, the recorded position and progress (`info`);
//! - `pull.rs`: a running consumer, in pull form (`next`, `ack`, `nack`) and handler form
//!   (`run`), holding its identity's lock (one active instance);
//! - `recorder.rs`: when the position is recorded;
//! - `parked.rs`: messages that failed every try, listed, replayed or discarded.

mod identity;
mod parked;
mod pull;
mod recorder;

use std::time::Duration;

use serde_json::json;

pub use identity::{ConsumerId, PARKED_QUALIFIER, POSITION_QUALIFIER, is_consumer_record};
pub use parked::{DISCARDED, PARKED, Parked, REPLAYED, Replay, Settled};
pub use pull::{Consumer, ConsumerBuilder, ConsumerHold};
pub use recorder::Recorder;

use crate::model::{ConsumerGroup, Message, NewMessage, WriteOpts};
use crate::store::Namespace;
use crate::{Error, Result};

/// The type of position messages.
pub const RECORDED: &str = "Recorded";
/// How far `lag` counts (consumers.md, "Progress": a bounded query, not a scan).
pub const LAG_LIMIT: i64 = 1_000_000;

/// Where a consumer with no recorded position starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Start {
    /// At the first message (global position 1).
    #[default]
    Beginning,
    /// After the namespace's last message when the consumer opens (its head + 1).
    End,
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
    /// Within how long a standby takes over after the active instance stops or dies (default
    /// 5 s): a standby tries for the lock, and the active instance checks it still holds it,
    /// five times per lease. On PostgreSQL a new instance waits one such interval after it gets
    /// the lock, so that an instance whose session ended unnoticed has stopped first; every
    /// instance of one identity must use the same lease.
    pub lease: Duration,
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
            lease: Duration::from_secs(5),
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

    /// Within how long a standby takes over (at least 50 ms).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(50));
        self
    }

    /// How often a standby tries for the lock and the active instance checks it.
    fn lock_poll(&self) -> Duration {
        self.lease / 5
    }
}

/// A consumer's progress (consumers.md, "Progress").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsumerInfo {
    /// The last handled global position (recorded, or acknowledged in this run).
    pub position: Option<i64>,
    /// The namespace's last global position (0 when empty).
    pub head: i64,
    /// Messages of the consumer's category after its position, counted up to [`LAG_LIMIT`] (for
    /// a whole-namespace consumer this includes its own position records).
    pub lag: i64,
    /// Messages handled in this run (0 for a consumer not running here).
    pub handled: u64,
    /// Parked messages not yet replayed or discarded.
    pub parked: u64,
    /// Whether this is the active instance (false for a standby, or a consumer not running here).
    pub active: bool,
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

    /// A consumer's progress, seen from outside it: its recorded position, the head, its lag and
    /// how many messages it has parked (`handled` 0, `active` false).
    ///
    /// # Errors
    /// As reads.
    pub async fn consumer_info(&self, id: &ConsumerId) -> Result<ConsumerInfo> {
        let position = self.consumer_position(id).await?;
        self.consumer_info_at(id, position).await
    }

    /// A consumer's progress were it at `position` (a position acknowledged and not recorded
    /// yet, as the server knows of its HTTP clients).
    ///
    /// # Errors
    /// As reads.
    pub async fn consumer_info_at(
        &self,
        id: &ConsumerId,
        position: Option<i64>,
    ) -> Result<ConsumerInfo> {
        self.progress_of(id, position, 0, false).await
    }

    /// [`ConsumerInfo`] at `position`.
    async fn progress_of(
        &self,
        id: &ConsumerId,
        position: Option<i64>,
        handled: u64,
        active: bool,
    ) -> Result<ConsumerInfo> {
        let storage = self.storage().await?;
        let (head, lag) = storage
            .progress(id.category(), position.unwrap_or(0), LAG_LIMIT)
            .await?;
        let parked = self.parked(id).await?.len() as u64;
        Ok(ConsumerInfo {
            position,
            head,
            lag,
            handled,
            parked,
            active,
        })
    }

    /// The consumers that recorded a position in this namespace (of `category` only, when
    /// given), found by their position streams, by name.
    ///
    /// # Errors
    /// As `list_streams`.
    pub async fn consumers(&self, category: Option<&str>) -> Result<Vec<ConsumerId>> {
        let prefix = category.map(|c| identity::stream_prefix(c, POSITION_QUALIFIER));
        let mut found = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut page = crate::model::ListStreamsOpts::default().limit(1000);
            page.prefix.clone_from(&prefix);
            page.cursor = cursor.take();
            let streams = self.list_streams(&page).await?;
            let full = streams.len() == 1000;
            for s in &streams {
                if let Some(id) = ConsumerId::from_position_stream(&s.stream)
                    && category.is_none_or(|c| c == id.category())
                {
                    found.push(id);
                }
            }
            match streams.last() {
                Some(last) if full => cursor = Some(last.stream.clone()),
                _ => return Ok(found),
            }
        }
    }

    /// A consumer: [`ConsumerBuilder::open`] for the pull form, [`ConsumerBuilder::run`] for the
    /// handler form. Either first waits to be the one active instance of its identity.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use messagedb::consumer::ConsumerOpts;
    /// use messagedb::{NewMessage, Store, WriteOpts};
    /// let ns = Store::open("sqlite::memory:").await?.namespace("default");
    /// for i in 1..=3 {
    ///     let m = NewMessage::new("Opened", serde_json::json!({}))?;
    ///     ns.write(&format!("account-{i}"), m, WriteOpts::default()).await?;
    /// }
    /// let opts = ConsumerOpts::new("account", "projector")?;
    /// let mut consumer = ns.consumer(opts.clone()).open().await?;
    /// for _ in 0..3 {
    ///     let m = consumer.next().await?.expect("a message");
    ///     consumer.ack(&m).await?; // or consumer.nack(&m, "why"): retried, then parked
    /// }
    /// consumer.stop().await?; // records the position
    /// assert_eq!(ns.consumer_position(&opts.id).await?, Some(3));
    /// # Ok::<_, messagedb::Error>(()) }).unwrap();
    /// ```
    pub fn consumer(&self, opts: ConsumerOpts) -> ConsumerBuilder {
        ConsumerBuilder::new(self.clone(), opts)
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
