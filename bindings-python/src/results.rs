//! `WriteResult` and `BatchResult`: where a write landed.

use pyo3::prelude::*;
use pyo3::types::PyString;

/// `Name(field=repr(value), …)` from the object's attributes, like a dataclass.
pub(crate) fn record_repr(obj: &Bound<'_, PyAny>, name: &str, fields: &[&str]) -> PyResult<String> {
    let mut parts = Vec::with_capacity(fields.len());
    for field in fields {
        let value = obj.getattr(PyString::new(obj.py(), field))?;
        parts.push(format!("{field}={}", value.repr()?));
    }
    Ok(format!("{name}({})", parts.join(", ")))
}

/// Where a message was written.
///
/// Attributes
/// ----------
/// position : int
///     Its stream position.
/// global_position : int
///     Its global position in the namespace.
#[pyclass(frozen, eq, hash, get_all, module = "messagedb")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct WriteResult {
    position: i64,
    global_position: i64,
}

impl From<messagedb::WriteResult> for WriteResult {
    fn from(r: messagedb::WriteResult) -> Self {
        WriteResult {
            position: r.position,
            global_position: r.global_position,
        }
    }
}

#[pymethods]
impl WriteResult {
    #[new]
    fn new(position: i64, global_position: i64) -> Self {
        WriteResult {
            position,
            global_position,
        }
    }

    #[classattr]
    fn __match_args__() -> (&'static str, &'static str) {
        ("position", "global_position")
    }

    fn __repr__(&self) -> String {
        format!(
            "WriteResult(position={}, global_position={})",
            self.position, self.global_position
        )
    }
}

/// Where a batch was written: contiguous positions from the first message to the last.
///
/// Attributes
/// ----------
/// position, global_position : int
///     Positions of the first message.
/// last_position, last_global_position : int
///     Positions of the last message.
#[pyclass(frozen, eq, hash, get_all, module = "messagedb")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct BatchResult {
    position: i64,
    global_position: i64,
    last_position: i64,
    last_global_position: i64,
}

impl From<messagedb::BatchResult> for BatchResult {
    fn from(r: messagedb::BatchResult) -> Self {
        BatchResult {
            position: r.position,
            global_position: r.global_position,
            last_position: r.last_position,
            last_global_position: r.last_global_position,
        }
    }
}

#[pymethods]
impl BatchResult {
    #[new]
    fn new(
        position: i64,
        global_position: i64,
        last_position: i64,
        last_global_position: i64,
    ) -> Self {
        BatchResult {
            position,
            global_position,
            last_position,
            last_global_position,
        }
    }

    #[classattr]
    fn __match_args__() -> (&'static str, &'static str, &'static str, &'static str) {
        (
            "position",
            "global_position",
            "last_position",
            "last_global_position",
        )
    }

    fn __repr__(&self) -> String {
        format!(
            "BatchResult(position={}, global_position={}, last_position={}, last_global_position={})",
            self.position, self.global_position, self.last_position, self.last_global_position
        )
    }
}
