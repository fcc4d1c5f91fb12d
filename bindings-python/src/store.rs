//! `Store`: the blocking store handle and namespace administration.

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::convert;
use crate::listings::{
    self, CategorySummary, NamespaceCreated, NamespaceDeleted, NamespaceInfo, NamespaceSummary,
    StreamSummary,
};
use crate::namespace::Namespace;
use crate::runtime::{Local, block_on, wait};

/// A message store, embedded SQLite (in memory or files) or PostgreSQL.
///
/// Open one with ``Store.open(url)``; take a namespace's messages with ``store.namespace(id)``.
/// Every call blocks until the store answers, with the GIL released. Usable as a context manager
/// (closes on exit).
///
/// Examples
/// --------
/// >>> with Store.open(":memory:") as store:
/// ...     ns = store.namespace("default")
/// ...     ns.write("account-1", "Opened", {"owner": "ada"})
/// WriteResult(position=0, global_position=1)
#[pyclass(frozen, module = "messagedb")]
pub(crate) struct Store {
    inner: Local<messagedb::Store>,
}

#[pymethods]
impl Store {
    /// Open a store; the URL picks the backend.
    ///
    /// Parameters
    /// ----------
    /// url : str
    ///     ``":memory:"`` (or ``"sqlite::memory:"``): embedded, in memory; a directory path (or
    ///     ``"sqlite://dir"``): embedded, one file per namespace; ``"postgres://…"``: PostgreSQL.
    /// durability : {"full", "normal", "off"}, optional
    ///     How hard a SQLite file database works to keep an acknowledged write (default
    ///     ``"full"``: on disk before the call returns).
    ///
    /// Returns
    /// -------
    /// Store
    ///     The ``default`` namespace exists, every namespace is at the latest schema.
    ///
    /// Raises
    /// ------
    /// InvalidRequestError
    ///     An unknown URL scheme.
    /// BackendError
    ///     The database cannot be opened.
    #[staticmethod]
    #[pyo3(signature = (url, *, durability=None))]
    fn open(py: Python<'_>, url: &str, durability: Option<&str>) -> PyResult<Store> {
        let options = convert::store_options(durability)?;
        let store = block_on(py, messagedb::Store::open_with(url, options))?;
        Ok(Store {
            inner: Local::new(store),
        })
    }

    /// ``"sqlite"`` or ``"postgres"``.
    #[getter]
    fn backend(&self) -> PyResult<&'static str> {
        Ok(self.inner.get()?.backend_kind())
    }

    /// A handle on a namespace's messages (no I/O: an unknown namespace fails at first use).
    fn namespace(&self, id: &str) -> PyResult<Namespace> {
        Ok(Namespace::new(self.inner.get()?.namespace(id)))
    }

    /// Short for ``namespace``.
    fn ns(&self, id: &str) -> PyResult<Namespace> {
        self.namespace(id)
    }

    /// Create a namespace.
    ///
    /// Parameters
    /// ----------
    /// id : str
    ///     1–128 characters of ``A-Z a-z 0-9 _ . -``.
    /// description : str, optional
    ///     Free text.
    /// token : str, optional
    ///     Its token (``ns_<base64url(id)>_<64 hex>``); generated when ``None``.
    /// metadata : Mapping, optional
    ///     Free JSON metadata.
    ///
    /// Returns
    /// -------
    /// NamespaceCreated
    ///     With the token, shown this once (only its hash is stored).
    ///
    /// Raises
    /// ------
    /// InvalidRequestError
    ///     A bad id, or a token that does not parse or names another namespace.
    /// NamespaceExistsError
    ///     The namespace exists already.
    #[pyo3(signature = (id, *, description=None, token=None, metadata=None))]
    fn create_namespace(
        &self,
        py: Python<'_>,
        id: &str,
        description: Option<String>,
        token: Option<String>,
        metadata: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<NamespaceCreated> {
        let store = self.inner.get()?;
        let opts = convert::namespace_opts(py, description, token, metadata)?;
        Ok(block_on(py, store.create_namespace(id, opts))?.into())
    }

    /// Delete a namespace and every message in it.
    ///
    /// Raises
    /// ------
    /// NamespaceNotFoundError
    ///     No such namespace.
    /// InvalidRequestError
    ///     ``"default"``, which every store keeps.
    fn delete_namespace(&self, py: Python<'_>, id: &str) -> PyResult<NamespaceDeleted> {
        let store = self.inner.get()?;
        Ok(block_on(py, store.delete_namespace(id))?.into())
    }

    /// Every namespace, newest first.
    fn list_namespaces(&self, py: Python<'_>) -> PyResult<Vec<NamespaceSummary>> {
        let store = self.inner.get()?;
        Ok(listings::all(block_on(py, store.list_namespaces())?))
    }

    /// A namespace's details, with real counts.
    ///
    /// Raises
    /// ------
    /// NamespaceNotFoundError
    ///     No such namespace.
    fn namespace_info(&self, py: Python<'_>, id: &str) -> PyResult<NamespaceInfo> {
        let store = self.inner.get()?;
        Ok(block_on(py, store.namespace_info(id))?.into())
    }

    /// A namespace's streams in byte order of their names.
    ///
    /// Parameters
    /// ----------
    /// namespace : str
    ///     The namespace id.
    /// prefix : str, optional
    ///     Only names starting with this (a plain prefix, no wildcards).
    /// cursor : str, optional
    ///     Only names after this one (exclusive): the last name of the previous page.
    /// limit : int, optional
    ///     How many at most (1..1000, default 100).
    ///
    /// Raises
    /// ------
    /// InvalidRequestError
    ///     A limit outside 1..1000.
    /// NamespaceNotFoundError
    ///     No such namespace.
    #[pyo3(signature = (namespace, *, prefix=None, cursor=None, limit=None))]
    fn list_streams(
        &self,
        py: Python<'_>,
        namespace: &str,
        prefix: Option<String>,
        cursor: Option<String>,
        limit: Option<i64>,
    ) -> PyResult<Vec<StreamSummary>> {
        let ns = self.inner.get()?.namespace(namespace);
        let opts = convert::list_streams_opts(prefix, cursor, limit);
        Ok(listings::all(block_on(py, ns.list_streams(&opts))?))
    }

    /// A namespace's categories with their stream and message counts.
    fn list_categories(&self, py: Python<'_>, namespace: &str) -> PyResult<Vec<CategorySummary>> {
        let ns = self.inner.get()?.namespace(namespace);
        Ok(listings::all(block_on(py, ns.list_categories())?))
    }

    /// Closes the store: subscriptions end, later calls raise ``ClosedError``.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        wait(py, self.inner.get()?.close());
        Ok(())
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> PyResult<String> {
        Ok(format!("Store(backend='{}')", self.backend()?))
    }
}
