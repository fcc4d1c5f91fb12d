//! The one place where core errors become Python exceptions.
//!
//! The class is picked by `messagedb.errors._from_code` from the stable code (`Error::code()`),
//! never from the message text; the message is the core's `Display` text, the same on every
//! surface.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

static FROM_CODE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The Python exception of a core error (acquires the GIL when called without it).
pub(crate) fn to_py_err(err: messagedb::Error) -> PyErr {
    Python::attach(|py| {
        let extra = PyDict::new(py);
        let filled = match &err {
            messagedb::Error::VersionConflict {
                stream,
                expected,
                actual,
            } => extra
                .set_item("stream", stream)
                .and_then(|_| extra.set_item("expected", expected))
                .and_then(|_| extra.set_item("actual", actual)),
            messagedb::Error::Backend { retryable, .. } => extra.set_item("retryable", retryable),
            _ => Ok(()),
        };
        match filled {
            Ok(()) => coded(py, err.code(), &err.to_string(), extra),
            Err(e) => e,
        }
    })
}

/// An exception of the given code, for the few errors the binding itself raises.
pub(crate) fn coded(py: Python<'_>, code: &str, message: &str, extra: Bound<'_, PyDict>) -> PyErr {
    let made = FROM_CODE
        .import(py, "messagedb.errors", "_from_code")
        .and_then(|from_code| from_code.call1((code, message, extra)));
    match made {
        Ok(exception) => PyErr::from_value(exception),
        Err(e) => e,
    }
}

/// `INVALID_REQUEST` for an argument the binding converts itself (ids, subscription targets).
pub(crate) fn invalid(message: impl std::fmt::Display) -> PyErr {
    to_py_err(messagedb::Error::invalid(message))
}

/// The text of a consumer handler's failure: a string as it is, an exception as
/// ``"<type name>: <message>"`` (the type name alone when the message is empty).
pub(crate) fn failure_text(error: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(text) = error.cast::<pyo3::types::PyString>() {
        return Ok(text.to_cow()?.into_owned());
    }
    if !error.is_instance_of::<pyo3::exceptions::PyBaseException>() {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "error must be a str or an exception",
        ));
    }
    let name = error.get_type().name()?;
    let message = error.str()?;
    Ok(match message.to_cow()?.as_ref() {
        "" => name.to_string(),
        m => format!("{name}: {m}"),
    })
}

/// `CLOSED` for a message acknowledged after its consumer was closed.
pub(crate) fn consumer_closed() -> PyErr {
    Python::attach(|py| {
        coded(
            py,
            "CLOSED",
            "the consumer is closed: a message it handed out and that was not acknowledged is \
             handed out again when it starts next",
            PyDict::new(py),
        )
    })
}

/// `CLOSED` for a handle used in a process forked after it was opened.
pub(crate) fn opened_in_another_process() -> PyErr {
    Python::attach(|py| {
        coded(
            py,
            "CLOSED",
            "The store was opened in another process (before os.fork()): open it again in this one",
            PyDict::new(py),
        )
    })
}

/// A server that could not start (a bad token, a store that cannot be opened, a port in use).
pub(crate) fn server_failed(e: &messagedb_server::StartError) -> PyErr {
    let message = e.to_string();
    Python::attach(|py| coded(py, e.code().as_str(), &message, PyDict::new(py)))
}

/// Every error code of messagedb, as ``(code, http_status, retryable)``: the table every surface
/// shares (core's ``ErrorCode``). ``retryable`` says whether an error of that code may succeed when
/// tried again (``BACKEND_ERROR`` only; each such error says whether it does).
#[pyfunction]
pub(crate) fn error_codes() -> Vec<(&'static str, u16, bool)> {
    messagedb::ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str(), c.http_status(), c.may_retry()))
        .collect()
}
