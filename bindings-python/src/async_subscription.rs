//! `AsyncSubscription`: an async iterator of messages, history then live.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::closable::ClosableSubscription;
use crate::errors;
use crate::message::Message;
use crate::runtime::{Local, awaitable_py};

static ANEXT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Messages as they come, for ``async for``: the history from the start position, then live
/// ones, exactly once and in order.
///
/// The iteration ends when the subscription, the store or the namespace is closed. Closing it
/// (``aclose()``, an ``async with`` block, or dropping the last reference) frees it at once;
/// cancelling a task waiting in ``__anext__`` loses no message.
#[pyclass(frozen, weakref, module = "messagedb")]
pub(crate) struct AsyncSubscription {
    inner: Local<Arc<ClosableSubscription>>,
}

impl AsyncSubscription {
    pub(crate) fn new(subscription: messagedb::Subscription) -> Self {
        AsyncSubscription {
            inner: Local::new(Arc::new(ClosableSubscription::new(subscription))),
        }
    }
}

#[pymethods]
impl AsyncSubscription {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __anext__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        ANEXT
            .import(slf.py(), "messagedb._aiter", "anext")?
            .call1((slf,))
    }

    /// Waits for the next message (an awaitable of ``True``), or the end (``False``); ``_take``
    /// then hands it over. Cancelling the wait leaves a message that came for the next one.
    fn _fetch<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let subscription = self.inner.get()?.clone();
        awaitable_py(py, async move { Ok(subscription.fetch().await) })
    }

    /// The message that ``_fetch`` waited for, if any.
    fn _take(&self) -> PyResult<Option<Message>> {
        match self.inner.get()?.take() {
            None => Ok(None),
            Some(next) => next
                .map(|m| Some(Message::from(m)))
                .map_err(errors::to_py_err),
        }
    }

    /// Ends the subscription (an awaitable, like an async generator's ``aclose``).
    fn aclose<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let subscription = self.inner.get()?.clone();
        awaitable_py(py, async move {
            subscription.close();
            Ok(())
        })
    }

    /// Ends the subscription now; a task waiting in ``__anext__`` sees the end of the iteration.
    fn close(&self) -> PyResult<()> {
        self.inner.get()?.close();
        Ok(())
    }

    /// Whether the subscription has ended.
    #[getter]
    fn closed(&self) -> PyResult<bool> {
        Ok(self.inner.get()?.is_closed())
    }

    fn __aenter__<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let me = slf.clone().unbind();
        awaitable_py(slf.py(), async move { Ok(me) })
    }

    #[pyo3(signature = (*_exc))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _exc: &Bound<'py, pyo3::types::PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let subscription = self.inner.get()?.clone();
        awaitable_py(py, async move {
            subscription.close();
            Ok(false)
        })
    }
}
