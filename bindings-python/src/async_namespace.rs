//! `AsyncNamespace`: a namespace's messages, asyncio awaitables.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

use crate::async_consumer::AsyncConsumer;
use crate::async_subscription::AsyncSubscription;
use crate::consumer_options::{consumer_id, consumer_opts};
use crate::consumer_records::ConsumerInfo;
use crate::convert;
use crate::listings::{self, CategorySummary, StreamSummary};
use crate::message::{self, Message};
use crate::parked::{self, ParkedMessage};
use crate::results::{BatchResult, WriteResult};
use crate::runtime::{Local, awaitable};

static START_HANDLE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static REPLAY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The messages of one namespace (from ``AsyncStore.namespace``). Cheap; it does no I/O until
/// used. Every method returns an awaitable.
#[pyclass(frozen, module = "messagedb")]
pub(crate) struct AsyncNamespace {
    inner: Local<messagedb::Namespace>,
}

impl AsyncNamespace {
    pub(crate) fn new(namespace: messagedb::Namespace) -> Self {
        AsyncNamespace {
            inner: Local::new(namespace),
        }
    }
}

#[pymethods]
impl AsyncNamespace {
    /// The namespace id.
    #[getter]
    fn id(&self) -> PyResult<&str> {
        Ok(self.inner.get()?.id())
    }

    /// Write one message: an awaitable of ``WriteResult`` (see ``Namespace.write``).
    #[pyo3(signature = (stream, r#type, data, metadata=None, *, id=None, expected_version=None))]
    #[allow(clippy::too_many_arguments)]
    fn write<'py>(
        &self,
        py: Python<'py>,
        stream: String,
        r#type: String,
        data: &Bound<'py, PyAny>,
        metadata: Option<&Bound<'py, PyAny>>,
        id: Option<&Bound<'py, PyAny>>,
        expected_version: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ns = self.inner.get()?.clone();
        let message = convert::new_message(py, r#type, data, metadata, id, "options.id")?;
        let opts = convert::write_opts(expected_version);
        awaitable(py, async move {
            ns.write(&stream, message, opts)
                .await
                .map(WriteResult::from)
        })
    }

    /// Write several messages to one stream atomically: an awaitable of ``BatchResult`` (see
    /// ``Namespace.write_batch``).
    #[pyo3(signature = (stream, messages, *, expected_version=None))]
    fn write_batch<'py>(
        &self,
        py: Python<'py>,
        stream: String,
        messages: &Bound<'py, PyAny>,
        expected_version: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ns = self.inner.get()?.clone();
        let messages = convert::new_messages(py, messages)?;
        let opts = convert::write_opts(expected_version);
        awaitable(py, async move {
            ns.write_batch(&stream, messages, opts)
                .await
                .map(BatchResult::from)
        })
    }

    /// Read a stream's messages in position order: an awaitable of a list of ``Message`` (see
    /// ``Namespace.get_stream``).
    #[pyo3(signature = (stream, *, position=None, global_position=None, batch_size=None))]
    fn get_stream<'py>(
        &self,
        py: Python<'py>,
        stream: String,
        position: Option<i64>,
        global_position: Option<i64>,
        batch_size: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ns = self.inner.get()?.clone();
        let opts = convert::stream_opts(position, global_position, batch_size);
        awaitable(py, async move {
            ns.get_stream(&stream, &opts).await.map(message::messages)
        })
    }

    /// A stream's last message, optionally of a type: an awaitable of a ``Message`` or ``None``
    /// (see ``Namespace.get_last``).
    #[pyo3(signature = (stream, *, r#type=None))]
    fn get_last<'py>(
        &self,
        py: Python<'py>,
        stream: String,
        r#type: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ns = self.inner.get()?.clone();
        awaitable(py, async move {
            let last = ns.get_last(&stream, r#type.as_deref()).await?;
            Ok(last.map(Message::from))
        })
    }

    /// A stream's version: an awaitable of the position of its last message, ``None`` when it is
    /// empty.
    fn stream_version<'py>(&self, py: Python<'py>, stream: String) -> PyResult<Bound<'py, PyAny>> {
        let ns = self.inner.get()?.clone();
        awaitable(py, async move { ns.stream_version(&stream).await })
    }

    /// Read a category's messages in global order: an awaitable of a list of ``Message`` (see
    /// ``Namespace.get_category``).
    #[pyo3(signature = (category, *, position=None, batch_size=None, correlation=None, consumer_group=None))]
    fn get_category<'py>(
        &self,
        py: Python<'py>,
        category: String,
        position: Option<i64>,
        batch_size: Option<i64>,
        correlation: Option<String>,
        consumer_group: Option<(i64, i64)>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ns = self.inner.get()?.clone();
        let opts = convert::category_opts(position, batch_size, correlation, consumer_group)?;
        awaitable(py, async move {
            ns.get_category(&category, &opts)
                .await
                .map(message::messages)
        })
    }

    /// Subscribe to a stream, a category or the whole namespace: an awaitable of an
    /// ``AsyncSubscription`` (see ``Namespace.subscribe``).
    #[pyo3(signature = (*, stream=None, category=None, all=false, position=0, consumer_group=None))]
    fn subscribe<'py>(
        &self,
        py: Python<'py>,
        stream: Option<&str>,
        category: Option<&str>,
        all: bool,
        position: i64,
        consumer_group: Option<(i64, i64)>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ns = self.inner.get()?.clone();
        let opts = convert::subscribe_opts(stream, category, all, position, consumer_group)?;
        awaitable(py, async move {
            ns.subscribe(opts).await.map(AsyncSubscription::new)
        })
    }

    /// The namespace's streams in byte order of their names.
    #[pyo3(signature = (*, prefix=None, cursor=None, limit=None))]
    fn list_streams<'py>(
        &self,
        py: Python<'py>,
        prefix: Option<String>,
        cursor: Option<String>,
        limit: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ns = self.inner.get()?.clone();
        let opts = convert::list_streams_opts(prefix, cursor, limit);
        awaitable(py, async move {
            ns.list_streams(&opts)
                .await
                .map(listings::all::<_, StreamSummary>)
        })
    }

    /// The namespace's categories with their stream and message counts.
    fn list_categories<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let ns = self.inner.get()?.clone();
        awaitable(py, async move {
            ns.list_categories()
                .await
                .map(listings::all::<_, CategorySummary>)
        })
    }

    /// Start a consumer of a category with a handler, in an asyncio task: an awaitable of an
    /// ``AsyncConsumerHandle``. The handler may be a coroutine function or a plain function (which
    /// runs on the event loop). Options as ``Namespace.consume``.
    #[pyo3(signature = (category, name, handler, **options))]
    fn consume<'py>(
        &self,
        py: Python<'py>,
        category: &str,
        name: &str,
        handler: &Bound<'py, PyAny>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let consumer = self.consumer(category, name, options)?;
        let start = START_HANDLE.import(py, "messagedb.consumers", "_start_async")?;
        start.call1((consumer, handler))
    }

    /// A consumer of a category in pull form, for ``async for`` and ``async with`` (not an
    /// awaitable). Options as ``Namespace.consume``.
    #[pyo3(signature = (category, name, **options))]
    fn consumer(
        &self,
        category: &str,
        name: &str,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<AsyncConsumer> {
        let ns = self.inner.get()?;
        Ok(AsyncConsumer::new(
            ns.clone(),
            consumer_opts(category, name, options)?,
        ))
    }

    /// The global position a consumer recorded last: an awaitable of an int or ``None``.
    #[pyo3(signature = (category, name, *, consumer_group=None))]
    fn consumer_position<'py>(
        &self,
        py: Python<'py>,
        category: &str,
        name: &str,
        consumer_group: Option<(i64, i64)>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (ns, id) = (
            self.inner.get()?.clone(),
            consumer_id(category, name, consumer_group)?,
        );
        awaitable(py, async move { ns.consumer_position(&id).await })
    }

    /// Record a consumer's position, to reset or rewind it (an awaitable).
    #[pyo3(signature = (category, name, position, *, consumer_group=None))]
    fn set_consumer_position<'py>(
        &self,
        py: Python<'py>,
        category: &str,
        name: &str,
        position: i64,
        consumer_group: Option<(i64, i64)>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (ns, id) = (
            self.inner.get()?.clone(),
            consumer_id(category, name, consumer_group)?,
        );
        awaitable(
            py,
            async move { ns.set_consumer_position(&id, position).await },
        )
    }

    /// A consumer's progress seen from outside it: an awaitable of ``ConsumerInfo``.
    #[pyo3(signature = (category, name, *, consumer_group=None))]
    fn consumer_info<'py>(
        &self,
        py: Python<'py>,
        category: &str,
        name: &str,
        consumer_group: Option<(i64, i64)>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (ns, id) = (
            self.inner.get()?.clone(),
            consumer_id(category, name, consumer_group)?,
        );
        awaitable(py, async move {
            ns.consumer_info(&id).await.map(ConsumerInfo::from)
        })
    }

    /// A consumer's outstanding parked messages: an awaitable of a list of ``ParkedMessage``.
    #[pyo3(signature = (category, name, *, consumer_group=None))]
    fn parked<'py>(
        &self,
        py: Python<'py>,
        category: &str,
        name: &str,
        consumer_group: Option<(i64, i64)>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (ns, id) = (
            self.inner.get()?.clone(),
            consumer_id(category, name, consumer_group)?,
        );
        awaitable(py, async move {
            ns.parked(&id).await.map(listings::all::<_, ParkedMessage>)
        })
    }

    /// The message that was parked: an awaitable of a ``Message`` or ``None`` when it is gone.
    fn parked_message<'py>(
        &self,
        py: Python<'py>,
        parked: &ParkedMessage,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (ns, parked) = (self.inner.get()?.clone(), parked.core().clone());
        awaitable(py, async move {
            Ok(ns.parked_message(&parked).await?.map(Message::from))
        })
    }

    /// Record what became of a parked message (an awaitable; see ``Namespace.settle_parked``).
    #[pyo3(signature = (category, name, global_position, outcome, *, consumer_group=None))]
    fn settle_parked<'py>(
        &self,
        py: Python<'py>,
        category: &str,
        name: &str,
        global_position: i64,
        outcome: &str,
        consumer_group: Option<(i64, i64)>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (ns, id) = (
            self.inner.get()?.clone(),
            consumer_id(category, name, consumer_group)?,
        );
        let settled = parked::settled(outcome)?;
        awaitable(py, async move {
            ns.settle_parked(&id, global_position, settled).await
        })
    }

    /// Hand a consumer's parked messages to ``handler`` (a coroutine function or a plain
    /// function) again: an awaitable of ``ReplayResult`` (see ``Namespace.replay_parked``).
    #[pyo3(signature = (category, name, handler, *, consumer_group=None))]
    fn replay_parked<'py>(
        slf: &Bound<'py, Self>,
        category: &str,
        name: &str,
        handler: &Bound<'py, PyAny>,
        consumer_group: Option<(i64, i64)>,
    ) -> PyResult<Bound<'py, PyAny>> {
        consumer_id(category, name, consumer_group)?;
        let replay = REPLAY.import(slf.py(), "messagedb.consumers", "_replay_parked_async")?;
        replay.call1((slf, category, name, handler, consumer_group))
    }

    /// Give up every outstanding parked message of a consumer: an awaitable of how many.
    #[pyo3(signature = (category, name, *, consumer_group=None))]
    fn discard_parked<'py>(
        &self,
        py: Python<'py>,
        category: &str,
        name: &str,
        consumer_group: Option<(i64, i64)>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (ns, id) = (
            self.inner.get()?.clone(),
            consumer_id(category, name, consumer_group)?,
        );
        awaitable(py, async move { ns.discard_parked(&id).await })
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let id = pyo3::types::PyString::new(py, self.inner.get()?.id());
        Ok(format!("AsyncNamespace({})", id.repr()?))
    }
}
