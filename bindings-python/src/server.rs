//! `serve()` and `Server`: the bundled HTTP server, in-process on the shared runtime.

use std::sync::Mutex;
use std::time::Duration;

use messagedb_server::{RunningServer, ServeConfig};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::errors;
use crate::runtime::{Local, runtime, wait};

/// A running server (from ``serve``). Usable as a context manager (closes on exit).
///
/// Attributes
/// ----------
/// url : str
///     ``http://127.0.0.1:<port>`` (or the bound host).
/// port : int
///     The bound port.
/// token : str
///     The ``default`` namespace's token (the admin token).
/// backend : str
///     ``"sqlite"`` or ``"postgres"``.
#[pyclass(frozen, module = "messagedb")]
pub(crate) struct Server {
    #[pyo3(get)]
    url: String,
    #[pyo3(get)]
    port: u16,
    #[pyo3(get)]
    token: String,
    #[pyo3(get)]
    backend: &'static str,
    running: Mutex<Option<Local<RunningServer>>>,
}

impl Server {
    fn take(&self) -> Option<Local<RunningServer>> {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

/// Start the server of ``messagedb serve`` in this process, on the shared runtime.
///
/// Parameters
/// ----------
/// port : int
///     The port; 0 picks a free one.
/// test_mode : bool
///     In-memory SQLite (unless ``db_url`` is given) and relaxed authentication.
/// db_url : str, optional
///     ``"postgres://…"`` or ``"sqlite://<dir>"``.
/// token : str, optional
///     The ``default`` namespace's token; generated (the well-known test token in test mode)
///     when ``None``.
/// data_dir : str, optional
///     The SQLite directory without ``db_url`` and test mode (default ``./messagedb-data``).
/// host : str, optional
///     The address to bind (default ``127.0.0.1``, loopback only: test mode's ``default`` token
///     is public; ``"0.0.0.0"`` or ``"::"`` listens on every interface).
///
/// Returns
/// -------
/// Server
///     With its ``url``, ``port`` and ``token``; close it (or use ``with``) when done.
///
/// Raises
/// ------
/// InvalidRequestError
///     A port outside 0–65535.
/// MessageDBError
///     Code ``"SERVER_START_FAILED"``: a bad token, a store that cannot be opened, a port in use.
#[pyfunction]
#[pyo3(signature = (port=0, test_mode=true, db_url=None, token=None, data_dir=None, host=None))]
pub(crate) fn serve(
    py: Python<'_>,
    port: i64,
    test_mode: bool,
    db_url: Option<String>,
    token: Option<String>,
    data_dir: Option<String>,
    host: Option<String>,
) -> PyResult<Server> {
    let defaults = ServeConfig::in_process();
    let port = messagedb::rules::check_port(port).map_err(errors::to_py_err)?;
    let config = ServeConfig {
        port,
        host: host.or(defaults.host.clone()),
        test_mode,
        token,
        db_url,
        data_dir: data_dir.unwrap_or(defaults.data_dir),
        ..defaults
    };
    let running =
        wait(py, messagedb_server::start(config)).map_err(|e| errors::server_failed(&e))?;
    Ok(Server {
        url: running.url.clone(),
        port: running.port,
        token: running.token.clone(),
        backend: running.backend,
        running: Mutex::new(Some(Local::new(running))),
    })
}

#[pymethods]
impl Server {
    /// Stops the server: no new connections, open ones get ``grace`` seconds to finish.
    #[pyo3(signature = (grace=1.0))]
    fn close(&self, py: Python<'_>, grace: f64) -> PyResult<()> {
        let Some(running) = self.take() else {
            return Ok(());
        };
        let grace = Duration::from_secs_f64(grace.max(0.0));
        if let Some(running) = running.into_inner() {
            wait(py, running.stop(grace));
        }
        Ok(())
    }

    /// Whether ``close`` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py, 1.0)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!("Server(url='{}', backend='{}')", self.url, self.backend)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Forgotten without close(): stop it in the background rather than serve forever.
        if let Some(running) = self.take().and_then(Local::into_inner) {
            runtime().spawn(running.stop(Duration::from_secs(1)));
        }
    }
}
