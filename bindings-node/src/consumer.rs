//! `NativeConsumer`: a consumer in pull form (`open`, `next`, `ack`, `nack`, `stop`) that the
//! facade drives for both `consume()` (its handler runs in JS) and `for await … of consumer()`.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use messagedb::consumer::{Consumer, ConsumerOpts, Nacked, OnError, RetryOpts, Start};
use messagedb::{Message, Namespace};
use napi_derive::napi;
use tokio::sync::{Mutex, watch};

use crate::consumer_id::{NativeConsumerInfo, identity};
use crate::{JsMessage, to_js_error, to_json};

/// How long `info()` waits for a consumer busy in `next()` before it answers from its counts.
const INFO_WAIT: Duration = Duration::from_millis(50);
/// `position` when there is none.
const NO_POSITION: i64 = i64::MIN;

/// A consumer's options; unset fields take the core's defaults.
#[napi(object)]
pub struct NativeConsumerOptions {
    /// The category read (`""` = the whole namespace).
    pub category: Option<String>,
    /// The consumer's name.
    pub name: Option<String>,
    /// Consumer group member.
    pub member: Option<i64>,
    /// Consumer group size.
    pub size: Option<i64>,
    /// Only messages correlated with this category.
    pub correlation: Option<String>,
    /// `"beginning"` or `"end"`.
    pub start: Option<String>,
    /// A global position to start at (instead of `start`).
    pub start_at: Option<f64>,
    /// Record after this many handled messages.
    pub position_update_interval: Option<f64>,
    /// Record after this long without new messages (ms).
    pub position_update_idle_ms: Option<f64>,
    /// Retries before a message is parked.
    pub retry_attempts: Option<f64>,
    /// The first retry's delay (ms).
    pub retry_initial_delay_ms: Option<f64>,
    /// The longest retry delay (ms).
    pub retry_max_delay_ms: Option<f64>,
    /// `"park"` or `"stop"`.
    pub on_error: Option<String>,
    /// Within how long a standby takes over (ms).
    pub lease_ms: Option<f64>,
}

/// A whole number >= 0 given as a JS number.
fn count(value: Option<f64>, what: &str) -> messagedb::Result<Option<u64>> {
    match value {
        None => Ok(None),
        Some(v) if (0.0..=2f64.powi(53)).contains(&v) && v.fract() == 0.0 => {
            // Exact: a whole number within the 53 bits of a double.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(Some(v as u64))
        }
        Some(_) => Err(messagedb::Error::invalid(format!(
            "{what} must be a non-negative integer"
        ))),
    }
}

/// A duration given in milliseconds.
fn millis(value: Option<f64>, what: &str) -> messagedb::Result<Option<Duration>> {
    match value {
        Some(v) if !(0.0..=1e15).contains(&v) => Err(messagedb::Error::invalid(format!(
            "{what} must be a non-negative number of milliseconds"
        ))),
        v => Ok(v.map(|ms| Duration::from_secs_f64(ms / 1000.0))),
    }
}

/// The core's options from the facade's.
fn consumer_opts(o: &NativeConsumerOptions) -> messagedb::Result<ConsumerOpts> {
    let (category, name, group) =
        identity(o.category.as_deref(), o.name.as_deref(), o.member, o.size)?;
    let mut opts = ConsumerOpts::new(&category, &name)?;
    if let Some(group) = group {
        opts = opts.group(group)?;
    }
    if let Some(c) = &o.correlation {
        opts = opts.correlation(c);
    }
    let start = match (o.start.as_deref(), count(o.start_at, "options.start")?) {
        (None, None) => Start::Beginning,
        (None, Some(p)) => Start::At(i64::try_from(p).unwrap_or(i64::MAX)),
        (Some("beginning"), None) => Start::Beginning,
        (Some("end"), None) => Start::End,
        _ => {
            return Err(messagedb::Error::invalid(
                "options.start must be \"beginning\", \"end\" or a global position",
            ));
        }
    };
    opts = opts.start(start);
    let interval = "options.positionUpdateInterval";
    if let Some(n) = count(o.position_update_interval, interval)? {
        opts = opts.position_update_interval(n);
    }
    if let Some(d) = millis(o.position_update_idle_ms, "options.positionUpdateIdle")? {
        opts = opts.position_update_idle(d);
    }
    let defaults = RetryOpts::default();
    let attempts = count(o.retry_attempts, "options.retry.attempts")?
        .map_or(defaults.attempts, |n| u32::try_from(n).unwrap_or(u32::MAX));
    let initial = millis(o.retry_initial_delay_ms, "options.retry.initialDelay")?
        .unwrap_or(defaults.initial_delay);
    let max = millis(o.retry_max_delay_ms, "options.retry.maxDelay")?.unwrap_or(defaults.max_delay);
    opts = opts.retry(RetryOpts::new(attempts, initial, max));
    opts = opts.on_error(match o.on_error.as_deref() {
        None | Some("park") => OnError::Park,
        Some("stop") => OnError::Stop,
        Some(_) => {
            return Err(messagedb::Error::invalid(
                "options.onError must be \"park\" or \"stop\"",
            ));
        }
    });
    if let Some(lease) = millis(o.lease_ms, "options.lease")? {
        opts = opts.lease(lease);
    }
    Ok(opts)
}

/// What became of a nacked message.
#[napi(object)]
pub struct NativeNacked {
    /// `"retrying"`, `"parked"` or `"stopped"`.
    pub outcome: String,
    /// How many tries failed so far (`retrying`).
    pub attempt: Option<u32>,
    /// How long until it is handed out again, in ms (`retrying`).
    pub delay: Option<f64>,
}

/// The open consumer and the message it handed out (kept here: `ack`/`nack` take the message).
#[derive(Default)]
struct Running {
    consumer: Option<Consumer>,
    handed: Option<Message>,
    /// Stopped or given up: it does not open again.
    ended: bool,
}

impl Running {
    /// The consumer and the message handed out, when `global_position` names it.
    fn take_handed(&mut self, global_position: i64) -> messagedb::Result<(&mut Consumer, Message)> {
        let Some(consumer) = self.consumer.as_mut() else {
            return Err(messagedb::Error::invalid("the consumer is not running"));
        };
        match self.handed.take() {
            Some(m) if m.global_position == global_position => Ok((consumer, m)),
            other => {
                self.handed = other;
                Err(messagedb::Error::invalid(format!(
                    "the message at global position {global_position} is not the one handed out"
                )))
            }
        }
    }
}

/// A consumer: a standby until `open()` resolves `true`, then the active instance of its
/// identity until `stop()`.
#[napi]
pub struct NativeConsumer {
    ns: Namespace,
    opts: ConsumerOpts,
    /// Held by `open()` and `next()` while they wait: nothing else needs it then but `info()`,
    /// which answers from the counts below instead (`next()` is not interrupted for it: a
    /// message taken from the subscription must not be dropped).
    running: Mutex<Running>,
    /// Set by `cancel()` and `stop()`: a pending `open()` or `next()` gives up.
    cancelled: watch::Sender<bool>,
    /// This run's counts, readable while `next()` waits.
    active: AtomicBool,
    handled: AtomicU64,
    /// The last acknowledged position, or [`NO_POSITION`].
    position: AtomicI64,
}

impl NativeConsumer {
    pub(crate) fn new(ns: Namespace, options: &NativeConsumerOptions) -> napi::Result<Self> {
        let opts = consumer_opts(options).map_err(to_js_error)?;
        Ok(NativeConsumer {
            ns,
            opts,
            running: Mutex::new(Running::default()),
            cancelled: watch::channel(false).0,
            active: AtomicBool::new(false),
            handled: AtomicU64::new(0),
            position: AtomicI64::new(NO_POSITION),
        })
    }

    /// Keeps the counts `info()` reads while `next()` waits.
    fn count(&self, consumer: &Consumer) {
        self.handled.store(consumer.handled(), Ordering::Relaxed);
        let position = consumer.position().unwrap_or(NO_POSITION);
        self.position.store(position, Ordering::Relaxed);
    }
}

#[napi]
impl NativeConsumer {
    /// Waits to be the active instance, then opens after the recorded position: `true`; `false`
    /// when `cancel()` or `stop()` gave up waiting.
    #[napi]
    pub async fn open(&self) -> napi::Result<bool> {
        let mut cancelled = self.cancelled.subscribe();
        let mut running = self.running.lock().await;
        if running.ended || *cancelled.borrow() {
            running.ended = true;
            return Ok(false);
        }
        if running.consumer.is_some() {
            return Err(to_js_error(messagedb::Error::invalid(
                "the consumer is already open",
            )));
        }
        let opening = self.ns.consumer(self.opts.clone()).open();
        tokio::select! {
            biased;
            // Dropping the open future gives up the wait for the lock (a standby).
            _ = cancelled.wait_for(|c| *c) => {
                running.ended = true;
                Ok(false)
            }
            opened = opening => {
                let consumer = opened.map_err(to_js_error)?;
                self.count(&consumer);
                self.active.store(true, Ordering::Relaxed);
                running.consumer = Some(consumer);
                Ok(true)
            }
        }
    }

    /// The next message as JSON; `null` when the consumer ended (stopped, cancelled, the store
    /// closed, or a failure stopped it).
    #[napi]
    pub async fn next(&self) -> napi::Result<Option<String>> {
        let mut cancelled = self.cancelled.subscribe();
        if *cancelled.borrow() {
            return Ok(None);
        }
        let mut running = self.running.lock().await;
        let Running {
            consumer, handed, ..
        } = &mut *running;
        let Some(consumer) = consumer.as_mut() else {
            return Ok(None);
        };
        let next = tokio::select! {
            biased;
            // Cancelled only to stop: a message taken and not handed out is not acknowledged, so
            // the position stays before it and the next run hands it out.
            _ = cancelled.wait_for(|c| *c) => return Ok(None),
            next = consumer.next() => next.map_err(to_js_error)?,
        };
        // Passing over others' messages moves the position.
        self.count(consumer);
        let Some(message) = next else {
            return Ok(None);
        };
        let json = to_json(&JsMessage::from(&message))?;
        *handed = Some(message);
        Ok(Some(json))
    }

    /// Acknowledges the message handed out (by its global position).
    #[napi]
    pub async fn ack(&self, global_position: i64) -> napi::Result<()> {
        let mut running = self.running.lock().await;
        let (consumer, message) = running.take_handed(global_position).map_err(to_js_error)?;
        let acked = consumer.ack(&message).await.map_err(to_js_error);
        self.count(consumer);
        acked
    }

    /// Reports that handling the message handed out failed with `error`.
    #[napi]
    pub async fn nack(&self, global_position: i64, error: String) -> napi::Result<NativeNacked> {
        let mut running = self.running.lock().await;
        let (consumer, message) = running.take_handed(global_position).map_err(to_js_error)?;
        let nacked = consumer.nack(&message, &error).await;
        self.count(consumer);
        let nacked = nacked.map_err(to_js_error)?;
        let (outcome, attempt, delay) = match nacked {
            Nacked::Retrying { attempt, delay } => (
                "retrying",
                Some(attempt),
                Some(delay.as_secs_f64() * 1000.0),
            ),
            Nacked::Parked => ("parked", None, None),
            _ => ("stopped", None, None),
        };
        Ok(NativeNacked {
            outcome: outcome.into(),
            attempt,
            delay,
        })
    }

    /// Makes a pending `open()` or `next()` give up (resolving `false` / `null`); `stop()` then
    /// records the position.
    #[napi]
    pub fn cancel(&self) {
        self.cancelled.send_replace(true);
    }

    /// Stops: a standby gives up, an active consumer records its position and lets go of its
    /// identity (a standby elsewhere takes over).
    #[napi]
    pub async fn stop(&self) -> napi::Result<()> {
        self.cancelled.send_replace(true);
        let mut running = self.running.lock().await;
        running.ended = true;
        running.handed = None;
        self.active.store(false, Ordering::Relaxed);
        match running.consumer.take() {
            Some(consumer) => consumer.stop().await.map_err(to_js_error),
            None => Ok(()),
        }
    }

    /// The consumer's progress (as a standby or once stopped: from its recorded position).
    #[napi]
    pub async fn info(&self) -> napi::Result<NativeConsumerInfo> {
        if let Ok(running) = tokio::time::timeout(INFO_WAIT, self.running.lock()).await
            && let Some(consumer) = &running.consumer
        {
            let info = consumer.info().await.map_err(to_js_error)?;
            return Ok(NativeConsumerInfo::new(&info));
        }
        let info = if self.active.load(Ordering::Relaxed) {
            // Waiting in next(): at the position it acknowledged last.
            let position = self.position.load(Ordering::Relaxed);
            let position = (position != NO_POSITION).then_some(position);
            self.ns.consumer_info_at(&self.opts.id, position).await
        } else {
            self.ns.consumer_info(&self.opts.id).await
        };
        let mut info = NativeConsumerInfo::new(&info.map_err(to_js_error)?);
        info.handled = i64::try_from(self.handled.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        info.active = self.active.load(Ordering::Relaxed);
        Ok(info)
    }
}
