//! `Subscription`: a blocking iterator of messages, history then live.

use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;

use crate::closable::ClosableSubscription;
use crate::errors;
use crate::message::Message;
use crate::runtime::{Local, wait};

/// How long a blocked `next()` waits before it lets Python handle signals (Ctrl-C).
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// Messages as they come: the history from the start position, then live ones, exactly once
/// and in order.
///
/// Iterating blocks (with the GIL released) until the next message commits; Ctrl-C interrupts a
/// waiting iteration (``KeyboardInterrupt``). The iteration ends
/// when the subscription, the store or the namespace is closed. Closing it (``close()``, a
/// ``with`` block, or dropping the last reference) frees it at once.
#[pyclass(frozen, weakref, module = "messagedb")]
pub(crate) struct Subscription {
    inner: Local<Arc<ClosableSubscription>>,
}

impl Subscription {
    pub(crate) fn new(subscription: messagedb::Subscription) -> Self {
        Subscription {
            inner: Local::new(Arc::new(ClosableSubscription::new(subscription))),
        }
    }
}

#[pymethods]
impl Subscription {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Message>> {
        let subscription = self.inner.get()?;
        loop {
            // The timer must be made inside the runtime.
            let next = async { tokio::time::timeout(SIGNAL_CHECK, subscription.next()).await };
            match wait(py, next) {
                Err(_waiting) => py.check_signals()?,
                Ok(None) => return Ok(None),
                Ok(Some(next)) => {
                    return next.map(Message::from).map(Some).map_err(errors::to_py_err);
                }
            }
        }
    }

    /// Ends the subscription; a thread blocked in ``next()`` sees the end of the iteration.
    fn close(&self) -> PyResult<()> {
        self.inner.get()?.close();
        Ok(())
    }

    /// Whether the subscription has ended.
    #[getter]
    fn closed(&self) -> PyResult<bool> {
        Ok(self.inner.get()?.is_closed())
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close()?;
        Ok(false)
    }
}
