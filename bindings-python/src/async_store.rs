//! `AsyncStore`: the asyncio store handle and namespace administration.

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::async_namespace::AsyncNamespace;
use crate::convert;
use crate::listings::{
    self, CategorySummary, NamespaceCreated, NamespaceDeleted, NamespaceInfo, NamespaceSummary,
    StreamSummary,
};
use crate::runtime::{Local, awaitable, awaitable_py};

/// A message store for asyncio, embedded SQLite (in memory or files) or PostgreSQL.
///
/// Open one with ``await AsyncStore.open(url)``; take a namespace's messages with
/// ``store.namespace(id)``. Every I/O method returns an awaitable. Usable as an async context
/// manager (closes on exit).
///
/// Examples
/// --------
/// >>> async def main() -> None:
/// ...     async with await AsyncStore.open(":memory:") as store:
/// ...         await store.namespace("default").write("account-1", "Opened", {"owner": "ada"})
#[pyclass(frozen, module = "messagedb")]
pub(crate) struct AsyncStore {
    inner: Local<messagedb::Store>,
}

impl AsyncStore {
    fn store(&self) -> PyResult<messagedb::Store> {
        Ok(self.inner.get()?.clone())
    }
}

#[pymethods]
impl AsyncStore {
    /// Opens a store: ``":memory:"``, a directory path, ``"sqlite://dir"`` or ``"postgres://…"``.
    #[staticmethod]
    #[pyo3(signature = (url, *, durability=None))]
    fn open<'py>(
        py: Python<'py>,
        url: String,
        durability: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = convert::store_options(durability)?;
        awaitable(py, async move {
            let store = messagedb::Store::open_with(&url, options).await?;
            Ok(AsyncStore {
                inner: Local::new(store),
            })
        })
    }

    /// ``"sqlite"`` or ``"postgres"``.
    #[getter]
    fn backend(&self) -> PyResult<&'static str> {
        Ok(self.inner.get()?.backend_kind())
    }

    /// A handle on a namespace's messages (no I/O: an unknown namespace fails at first use).
    fn namespace(&self, id: &str) -> PyResult<AsyncNamespace> {
        Ok(AsyncNamespace::new(self.inner.get()?.namespace(id)))
    }

    /// Short for ``namespace``.
    fn ns(&self, id: &str) -> PyResult<AsyncNamespace> {
        self.namespace(id)
    }

    /// Creates a namespace; the result carries its token, shown this once.
    #[pyo3(signature = (id, *, description=None, token=None, metadata=None))]
    fn create_namespace<'py>(
        &self,
        py: Python<'py>,
        id: String,
        description: Option<String>,
        token: Option<String>,
        metadata: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store()?;
        let opts = convert::namespace_opts(py, description, token, metadata)?;
        awaitable(py, async move {
            store
                .create_namespace(&id, opts)
                .await
                .map(NamespaceCreated::from)
        })
    }

    /// Deletes a namespace and every message in it.
    fn delete_namespace<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store()?;
        awaitable(py, async move {
            store
                .delete_namespace(&id)
                .await
                .map(NamespaceDeleted::from)
        })
    }

    /// Every namespace, newest first.
    fn list_namespaces<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store()?;
        awaitable(py, async move {
            store
                .list_namespaces()
                .await
                .map(listings::all::<_, NamespaceSummary>)
        })
    }

    /// A namespace's details, with real counts.
    fn namespace_info<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store()?;
        awaitable(py, async move {
            store.namespace_info(&id).await.map(NamespaceInfo::from)
        })
    }

    /// A namespace's streams in byte order of their names.
    #[pyo3(signature = (namespace, *, prefix=None, cursor=None, limit=None))]
    fn list_streams<'py>(
        &self,
        py: Python<'py>,
        namespace: &str,
        prefix: Option<String>,
        cursor: Option<String>,
        limit: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ns = self.inner.get()?.namespace(namespace);
        let opts = convert::list_streams_opts(prefix, cursor, limit);
        awaitable(py, async move {
            ns.list_streams(&opts)
                .await
                .map(listings::all::<_, StreamSummary>)
        })
    }

    /// A namespace's categories with their stream and message counts.
    fn list_categories<'py>(
        &self,
        py: Python<'py>,
        namespace: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ns = self.inner.get()?.namespace(namespace);
        awaitable(py, async move {
            ns.list_categories()
                .await
                .map(listings::all::<_, CategorySummary>)
        })
    }

    /// Closes the store (awaitable): subscriptions end, later calls raise ``ClosedError``.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store()?;
        awaitable_py(py, async move {
            store.close().await;
            Ok(())
        })
    }

    fn __aenter__<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let me = slf.clone().unbind();
        awaitable_py(slf.py(), async move { Ok(me) })
    }

    #[pyo3(signature = (*_exc))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _exc: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store()?;
        awaitable_py(py, async move {
            store.close().await;
            Ok(false)
        })
    }

    fn __repr__(&self) -> PyResult<String> {
        Ok(format!("AsyncStore(backend='{}')", self.backend()?))
    }
}
