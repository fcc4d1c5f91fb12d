//! Python bindings of messagedb: the native module `messagedb._native` (PyO3, abi3).
//!
//! Thin by design: each class converts arguments, calls the core with the GIL released (sync) or
//! as an asyncio awaitable (async) on one process-wide tokio runtime, and converts the result.
//! Every rule lives in the core; errors become Python exceptions in `errors.rs` only.

mod async_consumer;
mod async_namespace;
mod async_store;
mod async_subscription;
mod bench;
mod closable;
mod consumer;
mod consumer_options;
mod consumer_records;
mod convert;
mod errors;
mod json;
mod listings;
mod message;
mod names;
mod namespace;
mod parked;
mod results;
mod runtime;
mod server;
mod shared_consumer;
mod store;
mod subscription;

use pyo3::prelude::*;
use pyo3::types::PyDict;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<store::Store>()?;
    m.add_class::<async_store::AsyncStore>()?;
    m.add_class::<namespace::Namespace>()?;
    m.add_class::<async_namespace::AsyncNamespace>()?;
    m.add_class::<subscription::Subscription>()?;
    m.add_class::<async_subscription::AsyncSubscription>()?;
    m.add_class::<consumer::Consumer>()?;
    m.add_class::<async_consumer::AsyncConsumer>()?;
    m.add_class::<consumer::ConsumerMessage>()?;
    m.add_class::<async_consumer::AsyncConsumerMessage>()?;
    m.add_class::<consumer_records::ConsumerInfo>()?;
    m.add_class::<parked::ParkedMessage>()?;
    m.add_class::<parked::ReplayResult>()?;
    m.add_class::<message::Message>()?;
    m.add_class::<results::WriteResult>()?;
    m.add_class::<results::BatchResult>()?;
    m.add_class::<listings::NamespaceCreated>()?;
    m.add_class::<listings::NamespaceDeleted>()?;
    m.add_class::<listings::NamespaceSummary>()?;
    m.add_class::<listings::NamespaceInfo>()?;
    m.add_class::<listings::StreamSummary>()?;
    m.add_class::<listings::CategorySummary>()?;
    m.add_class::<server::Server>()?;
    m.add_function(wrap_pyfunction!(server::serve, m)?)?;
    m.add_function(wrap_pyfunction!(errors::error_codes, m)?)?;
    m.add_function(wrap_pyfunction!(names::category, m)?)?;
    m.add_function(wrap_pyfunction!(names::id, m)?)?;
    m.add_function(wrap_pyfunction!(names::cardinal_id, m)?)?;
    m.add_function(wrap_pyfunction!(names::is_category, m)?)?;
    m.add_function(wrap_pyfunction!(names::hash64, m)?)?;
    m.add_function(wrap_pyfunction!(names::consumer_group_member, m)?)?;
    m.add_function(wrap_pyfunction!(bench::_bench_rust_writes, m)?)?;
    rebuild_runtime_after_fork(m)
}

/// Registers the fork hook that makes the shared runtime survive `os.fork()`.
fn rebuild_runtime_after_fork(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let os = m.py().import("os")?;
    if !os.hasattr("register_at_fork")? {
        return Ok(()); // no fork on this platform
    }
    let kwargs = PyDict::new(m.py());
    let hook = wrap_pyfunction!(runtime::_after_fork_in_child, m)?;
    kwargs.set_item("after_in_child", hook)?;
    os.call_method("register_at_fork", (), Some(&kwargs))?;
    Ok(())
}
