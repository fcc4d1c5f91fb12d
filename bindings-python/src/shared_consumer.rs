//! A core consumer shared by a Python consumer object and the messages it handed out (which
//! acknowledge through it), for the sync and asyncio classes alike.
//!
//! It opens on the first `next()` (waiting as a standby until it holds its identity's lock), and
//! another thread or task can end it at any time with `close()`: a waiting `next()` (or standby)
//! sees the end of the iteration, then the position is recorded (a clean stop).

use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicBool, Ordering};

use messagedb::Message;
use messagedb::consumer::{Consumer, ConsumerId, ConsumerInfo, ConsumerOpts, Nacked};
use pyo3::prelude::*;
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

use crate::errors;

/// Where the consumer is in its life.
enum Slot {
    /// Not opened yet: the first `next()` opens it.
    Waiting(ConsumerOpts),
    /// Opening (a standby until it holds the lock), in a task of its own so that a `next()`
    /// given up (an asyncio timeout, Ctrl-C) does not start the wait over.
    Opening(ConsumerOpts, JoinHandle<messagedb::Result<Consumer>>),
    /// The active instance.
    Open(Box<Consumer>),
    /// Closed: the position was recorded and the lock let go.
    Ended,
}

/// What `info()` tells without waiting for a `next()` in flight.
#[derive(Debug, Default, Clone, Copy)]
struct Progress {
    opened: bool,
    active: bool,
    position: Option<i64>,
    handled: u64,
}

/// A consumer that a `close()` from anywhere ends, also while someone waits in `next()`.
pub(crate) struct SharedConsumer {
    ns: messagedb::Namespace,
    id: ConsumerId,
    slot: Mutex<Slot>,
    /// Set once by `close()`; a `next()` in flight watches it.
    closing: watch::Sender<bool>,
    ended: AtomicBool,
    progress: StdMutex<Progress>,
    /// A message taken from the core for an asyncio `__anext__` and not handed to Python yet
    /// (see `fetch`).
    ready: StdMutex<Option<Message>>,
}

impl SharedConsumer {
    pub(crate) fn new(ns: messagedb::Namespace, opts: ConsumerOpts) -> Self {
        SharedConsumer {
            ns,
            id: opts.id.clone(),
            slot: Mutex::new(Slot::Waiting(opts)),
            closing: watch::Sender::new(false),
            ended: AtomicBool::new(false),
            progress: StdMutex::new(Progress::default()),
            ready: StdMutex::new(None),
        }
    }

    /// The next message; `None` once closed (by `close()`, the store or the namespace) or
    /// stopped by a message that failed every try (`on_error="stop"`).
    ///
    /// Cancel-safe: dropping the future loses no message.
    pub(crate) async fn next(&self) -> PyResult<Option<Message>> {
        let mut slot = self.slot.lock().await;
        self.next_in(&mut slot).await
    }

    async fn next_in(&self, slot: &mut Slot) -> PyResult<Option<Message>> {
        let mut closing = self.closing.subscribe();
        loop {
            if *closing.borrow_and_update() {
                self.end(slot).await?;
                return Ok(None);
            }
            let next = match slot {
                Slot::Ended => return Ok(None),
                Slot::Waiting(opts) => {
                    let open = tokio::spawn(self.ns.consumer(opts.clone()).open());
                    *slot = Slot::Opening(opts.clone(), open);
                    continue;
                }
                Slot::Opening(opts, opening) => {
                    let opened = tokio::select! {
                        biased;
                        _ = closing.changed() => continue,
                        opened = opening => opened,
                    };
                    match opened {
                        Ok(Ok(consumer)) => {
                            self.note(&consumer);
                            *slot = Slot::Open(Box::new(consumer));
                            continue;
                        }
                        // Tried again by the next `next()`.
                        Ok(Err(e)) => {
                            *slot = Slot::Waiting(opts.clone());
                            Err(e)
                        }
                        Err(e) => {
                            *slot = Slot::Waiting(opts.clone());
                            Err(messagedb::Error::Backend {
                                message: format!("the consumer did not open: {e}"),
                                retryable: true,
                                source: None,
                            })
                        }
                    }
                }
                Slot::Open(consumer) => {
                    let next = tokio::select! {
                        biased;
                        _ = closing.changed() => continue,
                        next = consumer.next() => next,
                    };
                    self.note(consumer);
                    next
                }
            };
            return match next {
                Ok(Some(message)) => Ok(Some(message)),
                // The core ends a consumer with `None` when the store closes (or on a stop), but
                // answers `CLOSED` when it closed first: both end the iteration.
                Ok(None) | Err(messagedb::Error::Closed) => {
                    self.end(slot).await?;
                    Ok(None)
                }
                Err(e) => Err(errors::to_py_err(e)),
            };
        }
    }

    /// Waits for the next message and keeps it for `take` (true), or for the end (false).
    ///
    /// The asyncio iteration awaits this, then takes the message without awaiting anything in
    /// between: a task cancelled while it waits (even as the message comes) leaves the message
    /// here for the next `__anext__`, so none is lost.
    pub(crate) async fn fetch(&self) -> PyResult<bool> {
        // Under the lock: a `fetch` given up may still be finishing, and fill `ready`.
        let mut slot = self.slot.lock().await;
        if self.ready().is_some() {
            return Ok(true);
        }
        let Some(message) = self.next_in(&mut slot).await? else {
            return Ok(false);
        };
        *self.ready() = Some(message);
        Ok(true)
    }

    /// The message `fetch` kept, if any.
    pub(crate) fn take(&self) -> Option<Message> {
        self.ready().take()
    }

    fn ready(&self) -> std::sync::MutexGuard<'_, Option<Message>> {
        self.ready.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Acknowledges the message last handed out.
    pub(crate) async fn ack(&self, message: &Message) -> PyResult<()> {
        let mut slot = self.slot.lock().await;
        let consumer = self.open_consumer(&mut slot)?;
        let acked = consumer.ack(message).await;
        self.note(consumer);
        acked.map_err(errors::to_py_err)
    }

    /// Reports that handling the message last handed out failed.
    pub(crate) async fn nack(&self, message: &Message, error: &str) -> PyResult<&'static str> {
        let mut slot = self.slot.lock().await;
        let consumer = self.open_consumer(&mut slot)?;
        let nacked = consumer.nack(message, error).await;
        self.note(consumer);
        match nacked.map_err(errors::to_py_err)? {
            Nacked::Retrying { .. } => Ok("retrying"),
            Nacked::Parked => Ok("parked"),
            _ => Ok("stopped"),
        }
    }

    fn open_consumer<'a>(&self, slot: &'a mut Slot) -> PyResult<&'a mut Consumer> {
        match slot {
            Slot::Open(consumer) => Ok(consumer),
            _ => Err(errors::consumer_closed()),
        }
    }

    /// Ends the consumer: a `next()` waiting (or a standby) sees the end, and the position of the
    /// acknowledged messages is recorded. A message handed out and not acknowledged yet is handed
    /// out again at the next start. Closing again does nothing.
    pub(crate) async fn close(&self) -> PyResult<()> {
        self.closing.send_replace(true);
        let mut slot = self.slot.lock().await;
        self.end(&mut slot).await
    }

    /// Records the position (a clean stop) and lets go of the lock.
    async fn end(&self, slot: &mut Slot) -> PyResult<()> {
        self.ended.store(true, Ordering::Release);
        let ended = std::mem::replace(slot, Slot::Ended);
        self.progress().active = false;
        self.ready().take(); // not handed over: handed out again at the next start
        match ended {
            // A standby gives up; a consumer that opened meanwhile is dropped with the task.
            Slot::Opening(_, opening) => {
                opening.abort();
                Ok(())
            }
            Slot::Open(consumer) => match consumer.stop().await {
                // The store closed under it: there is nothing left to record into.
                Ok(()) | Err(messagedb::Error::Closed) => Ok(()),
                Err(e) => Err(errors::to_py_err(e)),
            },
            _ => Ok(()),
        }
    }

    /// The consumer's progress: its acknowledged position in this run, or the recorded one
    /// before it opens.
    pub(crate) async fn info(&self) -> PyResult<ConsumerInfo> {
        let progress = *self.progress();
        let info = match progress.opened {
            true => self.ns.consumer_info_at(&self.id, progress.position).await,
            false => self.ns.consumer_info(&self.id).await,
        };
        let mut info = info.map_err(errors::to_py_err)?;
        info.handled = progress.handled;
        info.active = progress.active;
        Ok(info)
    }

    /// Whether this is the active instance of its identity.
    pub(crate) fn is_active(&self) -> bool {
        self.progress().active
    }

    /// Whether it was closed (or ended with the store).
    pub(crate) fn is_closed(&self) -> bool {
        *self.closing.borrow() || self.ended.load(Ordering::Acquire)
    }

    /// Keeps what `info()` and `active` tell of the open consumer.
    fn note(&self, consumer: &Consumer) {
        *self.progress() = Progress {
            opened: true,
            active: true,
            position: consumer.position(),
            handled: consumer.handled(),
        };
    }

    fn progress(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for SharedConsumer {
    fn drop(&mut self) {
        // Dropped without `close()`: a standby gives up (an open consumer lets go of its lock as
        // it is dropped, recording nothing more, as in a crash).
        if let Slot::Opening(_, opening) = self.slot.get_mut() {
            opening.abort();
        }
    }
}
