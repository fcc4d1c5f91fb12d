//! `Message`: a stored message, immutable, with `data`/`metadata` as dicts and `time` as an aware
//! UTC `datetime`, each built from the core's value on first access.

use std::hash::{Hash, Hasher};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;

use crate::convert;
use crate::results::record_repr;

const FIELDS: [&str; 8] = [
    "id",
    "stream_name",
    "type",
    "position",
    "global_position",
    "data",
    "metadata",
    "time",
];

/// A stored message (immutable).
///
/// Attributes
/// ----------
/// id : str
///     The message id (a UUID).
/// stream_name : str
///     The stream it belongs to.
/// type : str
///     The message type.
/// position : int
///     Its position in the stream (0-based, gapless).
/// global_position : int
///     Its position in the namespace (from 1, in commit order).
/// data : dict
///     The payload.
/// metadata : dict or None
///     The metadata, ``None`` when the message has none.
/// time : datetime.datetime
///     When it was written (aware, UTC, microsecond precision).
#[pyclass(frozen, eq, hash, subclass, module = "messagedb")]
pub(crate) struct Message {
    inner: messagedb::Message,
    data: PyOnceLock<Py<PyAny>>,
    metadata: PyOnceLock<Py<PyAny>>,
    time: PyOnceLock<Py<PyAny>>,
}

impl From<messagedb::Message> for Message {
    fn from(inner: messagedb::Message) -> Self {
        Message {
            inner,
            data: PyOnceLock::new(),
            metadata: PyOnceLock::new(),
            time: PyOnceLock::new(),
        }
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

impl Hash for Message {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.id.hash(state);
        self.inner.global_position.hash(state);
    }
}

impl Message {
    /// The core's message (a consumer acknowledges it).
    pub(crate) fn core(&self) -> &messagedb::Message {
        &self.inner
    }
}

/// The messages of a read, converted to Python objects when handed over.
pub(crate) fn messages(found: Vec<messagedb::Message>) -> Vec<Message> {
    found.into_iter().map(Message::from).collect()
}

#[pymethods]
impl Message {
    #[classattr]
    fn __match_args__(py: Python<'_>) -> PyResult<Bound<'_, PyTuple>> {
        PyTuple::new(py, FIELDS)
    }

    /// The message id (a UUID string).
    #[getter]
    fn id(&self) -> String {
        self.inner.id.to_string()
    }

    /// The stream it belongs to.
    #[getter]
    fn stream_name(&self) -> &str {
        &self.inner.stream_name
    }

    /// The message type.
    #[getter]
    #[pyo3(name = "type")]
    fn message_type(&self) -> &str {
        &self.inner.message_type
    }

    /// Its position in the stream.
    #[getter]
    fn position(&self) -> i64 {
        self.inner.position
    }

    /// Its position in the namespace.
    #[getter]
    fn global_position(&self) -> i64 {
        self.inner.global_position
    }

    /// The payload (a dict).
    #[getter]
    fn data(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let data = self.data.get_or_try_init(py, || {
            convert::json_value(py, self.inner.data.as_str()).map(Bound::unbind)
        })?;
        Ok(data.clone_ref(py))
    }

    /// The metadata (a dict), or ``None``.
    #[getter]
    fn metadata(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let metadata = self
            .metadata
            .get_or_try_init(py, || match &self.inner.metadata {
                Some(m) => convert::json_value(py, m.as_str()).map(Bound::unbind),
                None => Ok(py.None()),
            })?;
        Ok(metadata.clone_ref(py))
    }

    /// When it was written (aware, UTC).
    #[getter]
    fn time(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let time = self.time.get_or_try_init(py, || {
            convert::datetime(py, &self.inner.time).map(Bound::unbind)
        })?;
        Ok(time.clone_ref(py))
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        record_repr(slf.as_any(), "Message", &FIELDS)
    }
}
