//! What namespace administration returns: immutable records with `datetime` times.

use chrono::{DateTime, Utc};
use pyo3::prelude::*;

use crate::convert;

/// Implements `__repr__` and `__match_args__` from a list of attribute names, with the other
/// methods in braces (braces, so that rustfmt leaves them items).
macro_rules! record_methods {
    ($class:ident, [$($field:literal),+] $(, { $($extra:tt)* })?) => {
        #[pymethods]
        impl $class {
            $($($extra)*)?

            #[classattr]
            fn __match_args__(py: Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyTuple>> {
                pyo3::types::PyTuple::new(py, [$($field),+])
            }

            fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
                $crate::results::record_repr(slf.as_any(), stringify!($class), &[$($field),+])
            }
        }
    };
}
pub(crate) use record_methods;

/// A namespace just created, with its token (shown this once; only its hash is stored).
///
/// Attributes
/// ----------
/// namespace : str
/// token : str
/// created_at : datetime.datetime
#[pyclass(frozen, eq, get_all, module = "messagedb")]
#[derive(PartialEq)]
pub(crate) struct NamespaceCreated {
    namespace: String,
    token: String,
    created_at: DateTime<Utc>,
}

impl From<messagedb::NamespaceCreated> for NamespaceCreated {
    fn from(c: messagedb::NamespaceCreated) -> Self {
        NamespaceCreated {
            namespace: c.namespace,
            token: c.token,
            created_at: c.created_at,
        }
    }
}

record_methods!(NamespaceCreated, ["namespace", "token", "created_at"]);

/// A namespace just deleted.
///
/// Attributes
/// ----------
/// namespace : str
/// deleted_at : datetime.datetime
/// messages_deleted : int
#[pyclass(frozen, eq, get_all, module = "messagedb")]
#[derive(PartialEq)]
pub(crate) struct NamespaceDeleted {
    namespace: String,
    deleted_at: DateTime<Utc>,
    messages_deleted: i64,
}

impl From<messagedb::NamespaceDeleted> for NamespaceDeleted {
    fn from(d: messagedb::NamespaceDeleted) -> Self {
        NamespaceDeleted {
            namespace: d.namespace,
            deleted_at: d.deleted_at,
            messages_deleted: d.messages_deleted,
        }
    }
}

record_methods!(
    NamespaceDeleted,
    ["namespace", "deleted_at", "messages_deleted"]
);

/// A namespace in a listing.
///
/// Attributes
/// ----------
/// namespace : str
/// description : str
/// created_at : datetime.datetime
/// message_count : int
#[pyclass(frozen, eq, get_all, module = "messagedb")]
#[derive(PartialEq)]
pub(crate) struct NamespaceSummary {
    namespace: String,
    description: String,
    created_at: DateTime<Utc>,
    message_count: i64,
}

impl From<messagedb::NamespaceSummary> for NamespaceSummary {
    fn from(s: messagedb::NamespaceSummary) -> Self {
        NamespaceSummary {
            namespace: s.namespace,
            description: s.description,
            created_at: s.created_at,
            message_count: s.message_count,
        }
    }
}

record_methods!(
    NamespaceSummary,
    ["namespace", "description", "created_at", "message_count"]
);

/// A namespace's details.
///
/// Attributes
/// ----------
/// namespace : str
/// description : str
/// created_at : datetime.datetime
/// message_count, stream_count : int
/// last_activity : datetime.datetime or None
///     Time of its newest message, ``None`` when it is empty.
/// metadata : dict or None
#[pyclass(frozen, eq, module = "messagedb")]
#[derive(PartialEq)]
pub(crate) struct NamespaceInfo {
    #[pyo3(get)]
    namespace: String,
    #[pyo3(get)]
    description: String,
    #[pyo3(get)]
    created_at: DateTime<Utc>,
    #[pyo3(get)]
    message_count: i64,
    #[pyo3(get)]
    stream_count: i64,
    #[pyo3(get)]
    last_activity: Option<DateTime<Utc>>,
    metadata: Option<messagedb::JsonObject>,
}

impl From<messagedb::NamespaceInfo> for NamespaceInfo {
    fn from(i: messagedb::NamespaceInfo) -> Self {
        NamespaceInfo {
            namespace: i.namespace,
            description: i.description,
            created_at: i.created_at,
            message_count: i.message_count,
            stream_count: i.stream_count,
            last_activity: i.last_activity,
            metadata: i.metadata,
        }
    }
}

record_methods!(
    NamespaceInfo,
    [
        "namespace",
        "description",
        "created_at",
        "message_count",
        "stream_count",
        "last_activity",
        "metadata"
    ],
    {
        /// The metadata given at creation (a dict), or ``None``.
        #[getter]
        fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
            self.metadata
                .as_ref()
                .map(|m| convert::json_value(py, m.as_str()))
                .transpose()
        }
    }
);

/// A stream in a listing.
///
/// Attributes
/// ----------
/// stream : str
/// version : int
///     Position of its last message.
/// last_activity : datetime.datetime
#[pyclass(frozen, eq, get_all, module = "messagedb")]
#[derive(PartialEq)]
pub(crate) struct StreamSummary {
    stream: String,
    version: i64,
    last_activity: DateTime<Utc>,
}

impl From<messagedb::StreamSummary> for StreamSummary {
    fn from(s: messagedb::StreamSummary) -> Self {
        StreamSummary {
            stream: s.stream,
            version: s.version,
            last_activity: s.last_activity,
        }
    }
}

record_methods!(StreamSummary, ["stream", "version", "last_activity"]);

/// A category in a listing.
///
/// Attributes
/// ----------
/// category : str
/// stream_count, message_count : int
#[pyclass(frozen, eq, hash, get_all, module = "messagedb")]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct CategorySummary {
    category: String,
    stream_count: i64,
    message_count: i64,
}

impl From<messagedb::CategorySummary> for CategorySummary {
    fn from(c: messagedb::CategorySummary) -> Self {
        CategorySummary {
            category: c.category,
            stream_count: c.stream_count,
            message_count: c.message_count,
        }
    }
}

record_methods!(
    CategorySummary,
    ["category", "stream_count", "message_count"]
);

/// Converts every item of a listing.
pub(crate) fn all<T, U: From<T>>(items: Vec<T>) -> Vec<U> {
    items.into_iter().map(U::from).collect()
}
