//! `AsyncConsumer` and `AsyncConsumerMessage`: a consumer in pull form for asyncio, an async
//! iterator of messages that are acknowledged one by one.

use std::sync::Arc;

use messagedb::consumer::ConsumerOpts;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::consumer::parts;
use crate::consumer_records::ConsumerInfo;
use crate::errors;
use crate::message::Message;
use crate::runtime::{Local, awaitable_py};
use crate::shared_consumer::SharedConsumer;

static ANEXT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// A durable consumer of a category in pull form, for ``async for`` (from
/// ``AsyncNamespace.consumer``); see ``Consumer``.
///
/// Acknowledge each message (``await m.ack()``) or report its failure (``await m.nack(error)``)
/// before taking the next. The first iteration waits as a standby until this is the one active
/// instance of its identity. Use ``async with`` (or ``aclose()``) to stop it cleanly, recording
/// its position: a ``break`` out of ``async for`` alone does not. Cancelling a task waiting in
/// ``__anext__`` loses no message.
#[pyclass(frozen, weakref, module = "messagedb")]
pub(crate) struct AsyncConsumer {
    inner: Local<Arc<SharedConsumer>>,
}

impl AsyncConsumer {
    pub(crate) fn new(ns: messagedb::Namespace, opts: ConsumerOpts) -> Self {
        AsyncConsumer {
            inner: Local::new(Arc::new(SharedConsumer::new(ns, opts))),
        }
    }
}

#[pymethods]
impl AsyncConsumer {
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
        let consumer = self.inner.get()?.clone();
        awaitable_py(py, async move { consumer.fetch().await })
    }

    /// The message that ``_fetch`` waited for, if any.
    fn _take(&self, py: Python<'_>) -> PyResult<Option<Py<AsyncConsumerMessage>>> {
        let consumer = self.inner.get()?;
        let Some(message) = consumer.take() else {
            return Ok(None);
        };
        let handed = AsyncConsumerMessage {
            consumer: Local::new(consumer.clone()),
        };
        let init = PyClassInitializer::from(Message::from(message)).add_subclass(handed);
        Py::new(py, init).map(Some)
    }

    /// Stops the consumer (an awaitable): records the position of the acknowledged messages and
    /// lets another instance take over; a task waiting in ``__anext__`` sees the end of the
    /// iteration (see ``Consumer.close``).
    fn aclose<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let consumer = self.inner.get()?.clone();
        awaitable_py(py, async move { consumer.close().await })
    }

    /// The consumer's progress: an awaitable of ``ConsumerInfo``.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let consumer = self.inner.get()?.clone();
        awaitable_py(
            py,
            async move { consumer.info().await.map(ConsumerInfo::from) },
        )
    }

    /// Whether this is the active instance of its identity (``False`` before the first iteration,
    /// for a standby and once closed).
    #[getter]
    fn active(&self) -> PyResult<bool> {
        Ok(self.inner.get()?.is_active())
    }

    /// Whether the consumer was closed (or ended with its store).
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
        let consumer = self.inner.get()?.clone();
        awaitable_py(py, async move {
            consumer.close().await?;
            Ok(false)
        })
    }
}

/// A message handed out by an ``AsyncConsumer``: a ``Message`` to acknowledge
/// (``await m.ack()``) once handled, or to report as failed (``await m.nack(error)``).
#[pyclass(extends = Message, frozen, module = "messagedb")]
pub(crate) struct AsyncConsumerMessage {
    consumer: Local<Arc<SharedConsumer>>,
}

#[pymethods]
impl AsyncConsumerMessage {
    /// Acknowledges the message (an awaitable; see ``ConsumerMessage.ack``).
    fn ack<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let (consumer, message) = parts(&slf.get().consumer, slf.as_super())?;
        awaitable_py(slf.py(), async move { consumer.ack(&message).await })
    }

    /// Reports that handling the message failed: an awaitable of ``"retrying"``, ``"parked"`` or
    /// ``"stopped"`` (see ``ConsumerMessage.nack``).
    fn nack<'py>(slf: &Bound<'py, Self>, error: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let error = errors::failure_text(error)?;
        let (consumer, message) = parts(&slf.get().consumer, slf.as_super())?;
        awaitable_py(
            slf.py(),
            async move { consumer.nack(&message, &error).await },
        )
    }
}
