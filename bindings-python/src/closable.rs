//! A core subscription that another thread (or `close()` from Python) can end while someone waits
//! on it; shared by the sync and asyncio iterators.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{Mutex, Notify};

/// A subscription that ends on `close()`, also when a reader is waiting for live messages.
pub(crate) struct ClosableSubscription {
    subscription: Mutex<Option<messagedb::Subscription>>,
    closed: AtomicBool,
    closing: Notify,
}

impl ClosableSubscription {
    pub(crate) fn new(subscription: messagedb::Subscription) -> Self {
        ClosableSubscription {
            subscription: Mutex::new(Some(subscription)),
            closed: AtomicBool::new(false),
            closing: Notify::new(),
        }
    }

    /// The next message; `None` once closed (by `close()`, the store or the namespace).
    ///
    /// Cancel-safe: dropping the future loses no message.
    pub(crate) async fn next(&self) -> Option<messagedb::Result<messagedb::Message>> {
        let mut slot = self.subscription.lock().await;
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
        if let Ok(mut slot) = self.subscription.try_lock() {
            *slot = None;
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}
