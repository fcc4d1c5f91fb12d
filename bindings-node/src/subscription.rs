//! `NativeSubscription`: a native async `next()` that the facade wraps in an async generator.

use messagedb::Subscription;
use napi_derive::napi;
use tokio::sync::{Mutex, watch};

use crate::{JsMessage, to_js_error, to_json};

/// A running subscription.
#[napi]
pub struct NativeSubscription {
    inner: Mutex<Option<Subscription>>,
    closed: watch::Sender<bool>,
}

impl NativeSubscription {
    pub(crate) fn new(sub: Subscription) -> Self {
        NativeSubscription {
            inner: Mutex::new(Some(sub)),
            closed: watch::channel(false).0,
        }
    }
}

#[napi]
impl NativeSubscription {
    /// The next message as JSON, or `null` once closed (by `close()` or by the store).
    #[napi]
    pub async fn next(&self) -> napi::Result<Option<String>> {
        let mut closed = self.closed.subscribe();
        if *closed.borrow() {
            return Ok(None);
        }
        let mut guard = self.inner.lock().await;
        let Some(sub) = guard.as_mut() else {
            return Ok(None);
        };
        tokio::select! {
            next = sub.next() => match next {
                Some(Ok(m)) => to_json(&JsMessage::from(&m)).map(Some),
                Some(Err(e)) => Err(to_js_error(e)),
                None => Ok(None),
            },
            _ = closed.wait_for(|c| *c) => {
                guard.take();
                Ok(None)
            }
        }
    }

    /// Ends the subscription; a pending `next()` resolves to `null`.
    #[napi]
    pub fn close(&self) {
        self.closed.send_replace(true);
        if let Ok(mut guard) = self.inner.try_lock() {
            guard.take();
        }
    }
}
