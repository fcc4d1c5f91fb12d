//! `Consumer` and `ConsumerMessage`: a consumer in pull form, a blocking iterator of messages
//! that are acknowledged one by one.

use std::sync::Arc;

use messagedb::consumer::ConsumerOpts;
use pyo3::prelude::*;

use crate::consumer_records::ConsumerInfo;
use crate::errors;
use crate::message::Message;
use crate::runtime::{Local, wait, wait_interruptibly};
use crate::shared_consumer::SharedConsumer;

/// A durable consumer of a category in pull form (from ``Namespace.consumer``): it resumes after
/// the position it recorded last, hands out each message once and in order, and records its
/// progress in the store.
///
/// Iterate it for messages and acknowledge each one (``ack()``) or report its failure
/// (``nack(error)``) before taking the next. The first iteration waits as a standby until this is
/// the one active instance of its identity, in any process. Iterating blocks (with the GIL
/// released); Ctrl-C interrupts a waiting iteration (``KeyboardInterrupt``), and leaving the
/// ``with`` block then stops it cleanly.
///
/// The position is recorded every ``position_update_interval`` messages, after
/// ``position_update_idle`` seconds without new ones, and on ``close()`` (or leaving the ``with``
/// block, or the iteration ending): delivery is exactly once and in order within a run, and at
/// least once across a crash (at most ``position_update_interval - 1`` messages are handed out
/// again, and those handled while the last recording was being written). Dropping it without
/// ``close()`` is such a crash: it lets go of the identity but records nothing more.
#[pyclass(frozen, weakref, module = "messagedb")]
pub(crate) struct Consumer {
    inner: Local<Arc<SharedConsumer>>,
}

impl Consumer {
    pub(crate) fn new(ns: messagedb::Namespace, opts: ConsumerOpts) -> Self {
        Consumer {
            inner: Local::new(Arc::new(SharedConsumer::new(ns, opts))),
        }
    }
}

#[pymethods]
impl Consumer {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<ConsumerMessage>>> {
        let consumer = self.inner.get()?;
        match wait_interruptibly(py, consumer.next())?? {
            None => Ok(None),
            Some(message) => ConsumerMessage::new(py, message, consumer.clone()).map(Some),
        }
    }

    /// Stops the consumer: records the position of the acknowledged messages and lets another
    /// instance take over. A thread blocked in ``next()`` (or waiting as a standby) sees the end
    /// of the iteration; a message handed out and not acknowledged is handed out again at the next
    /// start. Closing again does nothing.
    ///
    /// Raises
    /// ------
    /// BackendError
    ///     The position could not be recorded.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let consumer = self.inner.get()?;
        wait(py, consumer.close())
    }

    /// The consumer's progress (``ConsumerInfo``).
    fn info(&self, py: Python<'_>) -> PyResult<ConsumerInfo> {
        let consumer = self.inner.get()?;
        Ok(wait(py, consumer.info())?.into())
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

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }
}

/// A message handed out by a ``Consumer``: a ``Message`` to acknowledge (``ack()``) once handled,
/// or to report as failed (``nack(error)``).
#[pyclass(extends = Message, frozen, module = "messagedb")]
pub(crate) struct ConsumerMessage {
    consumer: Local<Arc<SharedConsumer>>,
}

impl ConsumerMessage {
    fn new(
        py: Python<'_>,
        message: messagedb::Message,
        consumer: Arc<SharedConsumer>,
    ) -> PyResult<Py<Self>> {
        let init = PyClassInitializer::from(Message::from(message)).add_subclass(ConsumerMessage {
            consumer: Local::new(consumer),
        });
        Py::new(py, init)
    }
}

#[pymethods]
impl ConsumerMessage {
    /// Acknowledges the message: it is handled, and the consumer's position moves past it.
    ///
    /// Raises
    /// ------
    /// InvalidRequestError
    ///     It is not the message the consumer handed out last (or it was acknowledged already).
    /// ClosedError
    ///     The consumer is closed.
    /// BackendError
    fn ack(slf: &Bound<'_, Self>) -> PyResult<()> {
        let (consumer, message) = parts(&slf.get().consumer, slf.as_super())?;
        wait(slf.py(), async move { consumer.ack(&message).await })
    }

    /// Reports that handling the message failed: it is handed out again after the retry delay
    /// or, when every try failed, parked (and the consumer goes on) or the consumer stops, as
    /// ``on_error`` says.
    ///
    /// Parameters
    /// ----------
    /// error : str or BaseException
    ///     Why; an exception is recorded as ``"<type name>: <message>"``.
    ///
    /// Returns
    /// -------
    /// str
    ///     ``"retrying"``, ``"parked"`` or ``"stopped"``.
    ///
    /// Raises
    /// ------
    /// InvalidRequestError, ClosedError, BackendError
    ///     As ``ack``.
    fn nack(slf: &Bound<'_, Self>, error: &Bound<'_, PyAny>) -> PyResult<&'static str> {
        let error = errors::failure_text(error)?;
        let (consumer, message) = parts(&slf.get().consumer, slf.as_super())?;
        wait(
            slf.py(),
            async move { consumer.nack(&message, &error).await },
        )
    }
}

/// The consumer that handed out a message, and the core's message (to acknowledge it).
pub(crate) fn parts(
    consumer: &Local<Arc<SharedConsumer>>,
    message: &Bound<'_, Message>,
) -> PyResult<(Arc<SharedConsumer>, messagedb::Message)> {
    Ok((consumer.get()?.clone(), message.get().core().clone()))
}
