//! `Namespace`: a namespace's messages, blocking calls that release the GIL.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

use crate::consumer::Consumer;
use crate::consumer_options::{consumer_id, consumer_opts};
use crate::consumer_records::ConsumerInfo;
use crate::convert;
use crate::listings::{self, CategorySummary, StreamSummary};
use crate::message::{self, Message};
use crate::parked::{self, ParkedMessage, ReplayResult};
use crate::results::{BatchResult, WriteResult};
use crate::runtime::{Local, block_on};
use crate::subscription::Subscription;

static CONSUMER_HANDLE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The messages of one namespace (from ``Store.namespace``). Cheap; it does no I/O until used.
///
/// Every method blocks until the store answers, with the GIL released, so other Python threads
/// run meanwhile.
#[pyclass(frozen, module = "messagedb")]
pub(crate) struct Namespace {
    inner: Local<messagedb::Namespace>,
}

impl Namespace {
    pub(crate) fn new(namespace: messagedb::Namespace) -> Self {
        Namespace {
            inner: Local::new(namespace),
        }
    }
}

#[pymethods]
impl Namespace {
    /// The namespace id.
    #[getter]
    fn id(&self) -> PyResult<&str> {
        Ok(self.inner.get()?.id())
    }

    /// Write one message.
    ///
    /// Parameters
    /// ----------
    /// stream : str
    ///     The stream, e.g. ``"account-123"``.
    /// type : str
    ///     The message type (non-empty).
    /// data : Mapping
    ///     The payload: a JSON object.
    /// metadata : Mapping, optional
    ///     A JSON object, or ``None`` for none.
    /// id : str or uuid.UUID, optional
    ///     The message id; a UUIDv7 is generated when ``None`` or ``""``.
    /// expected_version : int, optional
    ///     The version the stream must be at (-1: it must be empty), checked atomically.
    ///
    /// Returns
    /// -------
    /// WriteResult
    ///     The message's stream position and global position.
    ///
    /// Raises
    /// ------
    /// InvalidRequestError
    ///     An empty stream name or type, data that is not an object, an id that is not a UUID.
    /// VersionConflictError
    ///     The stream is not at ``expected_version``; nothing was written.
    /// DuplicateMessageIdError
    ///     A message with this id exists in the namespace.
    /// NamespaceNotFoundError, ClosedError, BackendError
    #[pyo3(signature = (stream, r#type, data, metadata=None, *, id=None, expected_version=None))]
    #[allow(clippy::too_many_arguments)]
    fn write(
        &self,
        py: Python<'_>,
        stream: &str,
        r#type: String,
        data: &Bound<'_, PyAny>,
        metadata: Option<&Bound<'_, PyAny>>,
        id: Option<&Bound<'_, PyAny>>,
        expected_version: Option<i64>,
    ) -> PyResult<WriteResult> {
        let ns = self.inner.get()?;
        let message = convert::new_message(py, r#type, data, metadata, id, "options.id")?;
        let opts = convert::write_opts(expected_version);
        Ok(block_on(py, ns.write(stream, message, opts))?.into())
    }

    /// Write several messages to one stream atomically: all at contiguous positions, or none.
    ///
    /// Parameters
    /// ----------
    /// stream : str
    ///     The stream.
    /// messages : iterable of Mapping
    ///     Each ``{"type": str, "data": dict, "metadata": dict | None, "id": str | None}``.
    /// expected_version : int, optional
    ///     The version the stream must be at before the batch (-1: empty).
    ///
    /// Returns
    /// -------
    /// BatchResult
    ///     Positions of the first and the last message.
    ///
    /// Raises
    /// ------
    /// InvalidRequestError
    ///     An empty batch or an invalid message.
    /// VersionConflictError, DuplicateMessageIdError, NamespaceNotFoundError, ClosedError, BackendError
    #[pyo3(signature = (stream, messages, *, expected_version=None))]
    fn write_batch(
        &self,
        py: Python<'_>,
        stream: &str,
        messages: &Bound<'_, PyAny>,
        expected_version: Option<i64>,
    ) -> PyResult<BatchResult> {
        let ns = self.inner.get()?;
        let messages = convert::new_messages(py, messages)?;
        let opts = convert::write_opts(expected_version);
        Ok(block_on(py, ns.write_batch(stream, messages, opts))?.into())
    }

    /// Read a stream's messages in position order.
    ///
    /// Parameters
    /// ----------
    /// stream : str
    ///     The stream.
    /// position : int, optional
    ///     First stream position to return (inclusive; default 0).
    /// global_position : int, optional
    ///     When given, replaces ``position``: messages with a global position at or after it.
    /// batch_size : int, optional
    ///     How many at most (default 1000, at most 10000; -1 or 0 = unlimited).
    ///
    /// Returns
    /// -------
    /// list of Message
    ///
    /// Raises
    /// ------
    /// InvalidRequestError
    ///     An empty stream name, a batch size over 10000.
    /// NamespaceNotFoundError, ClosedError, BackendError
    #[pyo3(signature = (stream, *, position=None, global_position=None, batch_size=None))]
    fn get_stream(
        &self,
        py: Python<'_>,
        stream: &str,
        position: Option<i64>,
        global_position: Option<i64>,
        batch_size: Option<i64>,
    ) -> PyResult<Vec<Message>> {
        let ns = self.inner.get()?;
        let opts = convert::stream_opts(position, global_position, batch_size);
        Ok(message::messages(block_on(
            py,
            ns.get_stream(stream, &opts),
        )?))
    }

    /// A stream's last message, optionally the last one of a type.
    ///
    /// Parameters
    /// ----------
    /// stream : str
    ///     The stream.
    /// type : str, optional
    ///     Only messages of this type (``None`` or ``""``: any).
    ///
    /// Returns
    /// -------
    /// Message or None
    ///     ``None`` when the stream has no (such) message.
    #[pyo3(signature = (stream, *, r#type=None))]
    fn get_last(
        &self,
        py: Python<'_>,
        stream: &str,
        r#type: Option<&str>,
    ) -> PyResult<Option<Message>> {
        let ns = self.inner.get()?;
        Ok(block_on(py, ns.get_last(stream, r#type))?.map(Message::from))
    }

    /// A stream's version: the position of its last message.
    ///
    /// Returns
    /// -------
    /// int or None
    ///     ``None`` when the stream has no messages.
    fn stream_version(&self, py: Python<'_>, stream: &str) -> PyResult<Option<i64>> {
        let ns = self.inner.get()?;
        block_on(py, ns.stream_version(stream))
    }

    /// Read a category's messages in global order.
    ///
    /// Parameters
    /// ----------
    /// category : str
    ///     The category (``""``: every message of the namespace). A name with ``-`` is a stream,
    ///     not a category, and returns nothing.
    /// position : int, optional
    ///     First global position to return (inclusive; default 1).
    /// batch_size : int, optional
    ///     How many at most (default 1000, at most 10000; -1 or 0 = unlimited).
    /// correlation : str, optional
    ///     Only messages whose ``metadata["correlationStreamName"]`` is in this category.
    /// consumer_group : tuple of (int, int), optional
    ///     ``(member, size)``: only the streams of this member of a consumer group.
    ///
    /// Returns
    /// -------
    /// list of Message
    ///
    /// Raises
    /// ------
    /// InvalidRequestError
    ///     A batch size over 10000, or a consumer group with ``member < 0``, ``size <= 0`` or
    ///     ``member >= size``.
    /// NamespaceNotFoundError, ClosedError, BackendError
    #[pyo3(signature = (category, *, position=None, batch_size=None, correlation=None, consumer_group=None))]
    fn get_category(
        &self,
        py: Python<'_>,
        category: &str,
        position: Option<i64>,
        batch_size: Option<i64>,
        correlation: Option<String>,
        consumer_group: Option<(i64, i64)>,
    ) -> PyResult<Vec<Message>> {
        let ns = self.inner.get()?;
        let opts = convert::category_opts(position, batch_size, correlation, consumer_group)?;
        Ok(message::messages(block_on(
            py,
            ns.get_category(category, &opts),
        )?))
    }

    /// Subscribe to a stream, a category or the whole namespace: history, then live.
    ///
    /// Parameters
    /// ----------
    /// stream : str, optional
    ///     Follow this stream (``position`` is a stream position).
    /// category : str, optional
    ///     Follow this category (``position`` is a global position).
    /// all : bool
    ///     Follow every message of the namespace (``position`` is a global position).
    /// position : int
    ///     Where to start (inclusive).
    /// consumer_group : tuple of (int, int), optional
    ///     ``(member, size)``, with ``category``: only this member's streams.
    ///
    /// Returns
    /// -------
    /// Subscription
    ///     An iterator of messages; close it (or use ``with``) when done.
    ///
    /// Raises
    /// ------
    /// InvalidRequestError
    ///     Not exactly one of ``stream``, ``category`` and ``all``; a bad consumer group.
    /// NamespaceNotFoundError, ClosedError
    #[pyo3(signature = (*, stream=None, category=None, all=false, position=0, consumer_group=None))]
    fn subscribe(
        &self,
        py: Python<'_>,
        stream: Option<&str>,
        category: Option<&str>,
        all: bool,
        position: i64,
        consumer_group: Option<(i64, i64)>,
    ) -> PyResult<Subscription> {
        let ns = self.inner.get()?;
        let opts = convert::subscribe_opts(stream, category, all, position, consumer_group)?;
        Ok(Subscription::new(block_on(py, ns.subscribe(opts))?))
    }

    /// The namespace's streams in byte order of their names.
    ///
    /// Parameters
    /// ----------
    /// prefix : str, optional
    ///     Only names starting with this (a plain prefix, no wildcards).
    /// cursor : str, optional
    ///     Only names after this one (exclusive): the last name of the previous page.
    /// limit : int, optional
    ///     How many at most (1..1000, default 100).
    ///
    /// Returns
    /// -------
    /// list of StreamSummary
    #[pyo3(signature = (*, prefix=None, cursor=None, limit=None))]
    fn list_streams(
        &self,
        py: Python<'_>,
        prefix: Option<String>,
        cursor: Option<String>,
        limit: Option<i64>,
    ) -> PyResult<Vec<StreamSummary>> {
        let ns = self.inner.get()?;
        let opts = convert::list_streams_opts(prefix, cursor, limit);
        Ok(listings::all(block_on(py, ns.list_streams(&opts))?))
    }

    /// The namespace's categories with their stream and message counts.
    fn list_categories(&self, py: Python<'_>) -> PyResult<Vec<CategorySummary>> {
        let ns = self.inner.get()?;
        Ok(listings::all(block_on(py, ns.list_categories())?))
    }

    /// Start a consumer of a category with a handler, in a background thread.
    ///
    /// A consumer is a named, durable reader: it resumes after the position it recorded last,
    /// hands each message to ``handler`` once and in order, records its progress in the store, and
    /// only one instance of it (in any process) is active at a time; another waits as a standby
    /// and takes over within ``lease`` seconds after the first stops or dies. A handler that
    /// raises an ``Exception`` fails the message: it is retried with a growing delay, then parked
    /// (see ``parked``) and the consumer goes on, or the consumer stops (``on_error="stop"``).
    ///
    /// Delivery is exactly once and in order within a run, and at least once across a crash (at
    /// most ``position_update_interval - 1`` messages are handed out again, and those handled
    /// while the last recording was being written in the background).
    ///
    /// Parameters
    /// ----------
    /// category : str
    ///     The category (``""``: every message of the namespace but consumers' own records).
    /// name : str
    ///     The consumer's name: 1 to 128 characters of ``[A-Za-z0-9_.-]``.
    /// handler : callable
    ///     Called with each ``Message``; returning is success.
    /// consumer_group : tuple of (int, int), optional
    ///     ``(member, size)``: this member's streams only (a different identity per member).
    /// correlation : str, optional
    ///     Only messages whose ``metadata["correlationStreamName"]`` is in this category.
    /// start : {"beginning", "end"} or int
    ///     Where to start when no position is recorded: the first message (default), after the
    ///     namespace's last one when it opens, or at a global position.
    /// position_update_interval : int
    ///     Record the position after this many handled messages (default 100).
    /// position_update_idle : float
    ///     Record an unrecorded position after this many seconds without messages (default 1).
    /// retry_attempts : int
    ///     Tries after the first failure before the message is parked (default 3; 0 parks at
    ///     once).
    /// retry_initial_delay, retry_max_delay : float
    ///     Seconds before the first retry (default 0.1), doubling up to the maximum (default 10).
    /// on_error : {"park", "stop"}
    ///     What a message that failed every try does: park it and go on (default), or stop.
    /// lease : float
    ///     Within how many seconds a standby takes over (default 5).
    ///
    /// Returns
    /// -------
    /// ConsumerHandle
    ///     ``stop()`` stops it cleanly (recording its position); also a context manager.
    ///
    /// Raises
    /// ------
    /// InvalidRequestError
    ///     A bad category, name, consumer group or option value.
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
        let start = CONSUMER_HANDLE.import(py, "messagedb.consumers", "ConsumerHandle")?;
        start.call1((consumer, handler))
    }

    /// A consumer of a category in pull form: iterate it and acknowledge each message.
    ///
    /// The options are those of ``consume``. It waits as a standby on its first iteration until
    /// it is the one active instance of its identity.
    ///
    /// Returns
    /// -------
    /// Consumer
    ///     An iterator of ``ConsumerMessage``; close it (or use ``with``) to record its position.
    ///
    /// Raises
    /// ------
    /// InvalidRequestError
    ///     A bad category, name, consumer group or option value.
    #[pyo3(signature = (category, name, **options))]
    fn consumer(
        &self,
        category: &str,
        name: &str,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Consumer> {
        let ns = self.inner.get()?;
        Ok(Consumer::new(
            ns.clone(),
            consumer_opts(category, name, options)?,
        ))
    }

    /// The global position a consumer recorded last (``None`` when it recorded none).
    ///
    /// Raises
    /// ------
    /// InvalidRequestError
    ///     A bad category, name or consumer group.
    #[pyo3(signature = (category, name, *, consumer_group=None))]
    fn consumer_position(
        &self,
        py: Python<'_>,
        category: &str,
        name: &str,
        consumer_group: Option<(i64, i64)>,
    ) -> PyResult<Option<i64>> {
        let (ns, id) = (
            self.inner.get()?,
            consumer_id(category, name, consumer_group)?,
        );
        block_on(py, ns.consumer_position(&id))
    }

    /// Record a consumer's position, to reset or rewind it: it resumes after ``position``.
    ///
    /// Raises
    /// ------
    /// InvalidRequestError
    ///     A negative position; a bad category, name or consumer group.
    #[pyo3(signature = (category, name, position, *, consumer_group=None))]
    fn set_consumer_position(
        &self,
        py: Python<'_>,
        category: &str,
        name: &str,
        position: i64,
        consumer_group: Option<(i64, i64)>,
    ) -> PyResult<()> {
        let (ns, id) = (
            self.inner.get()?,
            consumer_id(category, name, consumer_group)?,
        );
        block_on(py, ns.set_consumer_position(&id, position))
    }

    /// A consumer's progress seen from outside it: its recorded position, the head, its lag and
    /// how many messages it parked (``handled`` 0, ``active`` False).
    #[pyo3(signature = (category, name, *, consumer_group=None))]
    fn consumer_info(
        &self,
        py: Python<'_>,
        category: &str,
        name: &str,
        consumer_group: Option<(i64, i64)>,
    ) -> PyResult<ConsumerInfo> {
        let (ns, id) = (
            self.inner.get()?,
            consumer_id(category, name, consumer_group)?,
        );
        Ok(block_on(py, ns.consumer_info(&id))?.into())
    }

    /// The messages a consumer parked and that were not replayed or discarded since, oldest
    /// first.
    ///
    /// Returns
    /// -------
    /// list of ParkedMessage
    #[pyo3(signature = (category, name, *, consumer_group=None))]
    fn parked(
        &self,
        py: Python<'_>,
        category: &str,
        name: &str,
        consumer_group: Option<(i64, i64)>,
    ) -> PyResult<Vec<ParkedMessage>> {
        let (ns, id) = (
            self.inner.get()?,
            consumer_id(category, name, consumer_group)?,
        );
        Ok(listings::all(block_on(py, ns.parked(&id))?))
    }

    /// The message that was parked, read from its stream (``None`` when it is gone).
    fn parked_message(&self, py: Python<'_>, parked: &ParkedMessage) -> PyResult<Option<Message>> {
        let ns = self.inner.get()?;
        Ok(block_on(py, ns.parked_message(parked.core()))?.map(Message::from))
    }

    /// Record what became of a parked message (named by its global position).
    ///
    /// Parameters
    /// ----------
    /// outcome : {"replayed", "discarded"}
    ///     Handled again, or given up.
    ///
    /// Raises
    /// ------
    /// InvalidRequestError
    ///     No outstanding parked message of the consumer has this global position.
    #[pyo3(signature = (category, name, global_position, outcome, *, consumer_group=None))]
    fn settle_parked(
        &self,
        py: Python<'_>,
        category: &str,
        name: &str,
        global_position: i64,
        outcome: &str,
        consumer_group: Option<(i64, i64)>,
    ) -> PyResult<()> {
        let (ns, id) = (
            self.inner.get()?,
            consumer_id(category, name, consumer_group)?,
        );
        let settled = parked::settled(outcome)?;
        block_on(py, ns.settle_parked(&id, global_position, settled))
    }

    /// Hand a consumer's parked messages to ``handler`` again, oldest first.
    ///
    /// One it handles is recorded as replayed; one it fails (raising an ``Exception``) stays
    /// parked. A parked message whose original is gone is discarded.
    ///
    /// Returns
    /// -------
    /// ReplayResult
    ///     How many were replayed, and those that failed again with their errors.
    #[pyo3(signature = (category, name, handler, *, consumer_group=None))]
    fn replay_parked(
        &self,
        py: Python<'_>,
        category: &str,
        name: &str,
        handler: &Bound<'_, PyAny>,
        consumer_group: Option<(i64, i64)>,
    ) -> PyResult<ReplayResult> {
        let (ns, id) = (
            self.inner.get()?,
            consumer_id(category, name, consumer_group)?,
        );
        parked::replay(py, ns, &id, handler)
    }

    /// Give up every outstanding parked message of a consumer; returns how many.
    #[pyo3(signature = (category, name, *, consumer_group=None))]
    fn discard_parked(
        &self,
        py: Python<'_>,
        category: &str,
        name: &str,
        consumer_group: Option<(i64, i64)>,
    ) -> PyResult<u64> {
        let (ns, id) = (
            self.inner.get()?,
            consumer_id(category, name, consumer_group)?,
        );
        block_on(py, ns.discard_parked(&id))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let id = pyo3::types::PyString::new(py, self.inner.get()?.id());
        Ok(format!("Namespace({})", id.repr()?))
    }
}
