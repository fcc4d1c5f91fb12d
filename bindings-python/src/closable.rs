//! A core subscription that another thread (or `close()` from Python) can end while someone waits
//! on it; shared by the sync and asyncio iterators.

use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicBool, Ordering};

use messagedb::{Message, Subscription};
use tokio::sync::{Mutex, Notify};

type Next = messagedb::Result<Message>;

/// A subscription that ends on `close()`, also when a reader is waiting for live messages.
pub(crate) struct ClosableSubscription {
    subscription: Mutex<Option<Subscription>>,
    closed: AtomicBool,
    closing: Notify,
    /// What a `fetch` took for an asyncio `__anext__` and Python did not take yet.
    ready: StdMutex<Option<Next>>,
}

impl ClosableSubscription {
    pub(crate) fn new(subscription: Subscription) -> Self {
        ClosableSubscription {
            subscription: Mutex::new(Some(subscription)),
            closed: AtomicBool::new(false),
            closing: Notify::new(),
            ready: StdMutex::new(None),
        }
    }

    /// The next message; `None` once closed (by `close()`, the store or the namespace).
    ///
    /// Cancel-safe: dropping the future loses no message.
    pub(crate) async fn next(&self) -> Option<Next> {
        let mut slot = self.subscription.lock().await;
        self.next_in(&mut slot).await
    }

    /// Waits for the next message (or error) and keeps it for `take` (true), or for the end
    /// (false).
    ///
    /// The asyncio iteration awaits this, then takes the message without awaiting anything in
    /// between. Awaiting `next()` itself would lose a message that comes just as the task is
    /// cancelled: the future completes, and its result is dropped with the cancelled Python
    /// future. Here it stays for the next `__anext__`.
    pub(crate) async fn fetch(&self) -> bool {
        // Under the lock: a `fetch` given up may still be finishing, and fill `ready`.
        let mut slot = self.subscription.lock().await;
        if self.ready().is_some() {
            return true;
        }
        match self.next_in(&mut slot).await {
            Some(next) if !self.is_closed() => {
                *self.ready() = Some(next);
                true
            }
            _ => false,
        }
    }

    /// What `fetch` kept, if anything.
    pub(crate) fn take(&self) -> Option<Next> {
        self.ready().take()
    }

    fn ready(&self) -> std::sync::MutexGuard<'_, Option<Next>> {
        self.ready.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn next_in(&self, slot: &mut Option<Subscription>) -> Option<Next> {
        let closing = self.closing.notified();
        tokio::pin!(closing);
        closing.as_mut().enable();
        if self.is_closed() {
            *slot = None;
        }
        let next = tokio::select! {
            next = slot.as_mut()?.next() => next,
            () = closing => None,
        };
        // The core ends a live subscription with `None` when the store closes, but answers
        // `CLOSED` when it closed before the subscription caught up: both end the iteration.
        let next = next.filter(|n| !matches!(n, Err(messagedb::Error::Closed)));
        if next.is_none() {
            // Ended: let go of the core subscription now rather than when Python collects us.
            *slot = None;
            self.closed.store(true, Ordering::Release);
        }
        next
    }

    /// Ends the subscription and wakes a reader waiting on it.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.closing.notify_waiters();
        self.ready().take();
        if let Ok(mut slot) = self.subscription.try_lock() {
            *slot = None;
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}
