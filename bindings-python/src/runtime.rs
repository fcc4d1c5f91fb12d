//! The one tokio runtime of the process, shared by `Store`, `AsyncStore` and `serve()`.
//!
//! A child made by `os.fork()` inherits the parent's memory but none of its threads, so the
//! parent's runtime is dead there. `os.register_at_fork` bumps a generation counter in the child;
//! the next call builds a fresh runtime, and handles opened before the fork refuse to work (their
//! connections and background tasks belong to the parent).

use std::cell::OnceCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3_async_runtimes::TaskLocals;
use pyo3_async_runtimes::generic::{self, ContextExt};
use tokio::runtime::Runtime;

use crate::errors;

/// Bumped in a child process after `os.fork()`.
static GENERATION: AtomicU64 = AtomicU64::new(0);
/// The runtime of the current generation.
static RUNTIME: Mutex<Option<(u64, Arc<Runtime>)>> = Mutex::new(None);

fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// Called in the child by `os.register_at_fork(after_in_child=...)`.
#[pyfunction]
pub(crate) fn _after_fork_in_child() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// The runtime of this process, built on first use (and again in a forked child).
pub(crate) fn runtime() -> Arc<Runtime> {
    let current = generation();
    let mut slot = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((built_in, rt)) = slot.as_ref()
        && *built_in == current
    {
        return rt.clone();
    }
    // The parent's runtime: its threads do not exist here, so dropping it could wait forever.
    std::mem::forget(slot.take());
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("messagedb")
            .build()
            .expect("cannot start the tokio runtime"),
    );
    *slot = Some((current, rt.clone()));
    rt
}

fn existing_runtime() -> Option<Arc<Runtime>> {
    let slot = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    slot.as_ref()
        .filter(|(built_in, _)| *built_in == generation())
        .map(|(_, rt)| rt.clone())
}

/// Runs a future to completion on the shared runtime with the GIL released.
pub(crate) fn wait<F>(py: Python<'_>, fut: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    let rt = runtime();
    py.detach(|| rt.block_on(fut))
}

/// How long a blocked wait lets go before it lets Python handle signals (Ctrl-C).
pub(crate) const SIGNAL_CHECK: std::time::Duration = std::time::Duration::from_millis(100);

/// Runs a future to completion with the GIL released, letting Python handle signals every
/// [`SIGNAL_CHECK`]: Ctrl-C in the main thread drops the future and raises `KeyboardInterrupt`.
/// The same future goes on between the checks, so its own timers are not restarted.
pub(crate) fn wait_interruptibly<F>(py: Python<'_>, fut: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let rt = runtime();
    let mut fut = std::pin::pin!(fut);
    loop {
        // The timer must be made inside the runtime.
        let polled = py.detach(|| {
            rt.block_on(async { tokio::time::timeout(SIGNAL_CHECK, fut.as_mut()).await })
        });
        match polled {
            Ok(output) => return Ok(output),
            Err(_waiting) => py.check_signals()?,
        }
    }
}

/// Runs a core call to completion with the GIL released; its error becomes the Python exception.
pub(crate) fn block_on<T: Send>(
    py: Python<'_>,
    fut: impl Future<Output = messagedb::Result<T>> + Send,
) -> PyResult<T> {
    wait(py, fut).map_err(errors::to_py_err)
}

/// Turns a future into an asyncio awaitable that runs on the shared runtime.
pub(crate) fn awaitable_py<'py, T>(
    py: Python<'py>,
    fut: impl Future<Output = PyResult<T>> + Send + 'static,
) -> PyResult<Bound<'py, PyAny>>
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    generic::future_into_py::<SharedRuntime, _, T>(py, fut)
}

/// Turns a core call into an asyncio awaitable; its error becomes the Python exception.
pub(crate) fn awaitable<'py, T>(
    py: Python<'py>,
    fut: impl Future<Output = messagedb::Result<T>> + Send + 'static,
) -> PyResult<Bound<'py, PyAny>>
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    awaitable_py(py, async move { fut.await.map_err(errors::to_py_err) })
}

/// A value that belongs to the process (and runtime generation) that made it.
///
/// In a forked child it refuses to be used (`ClosedError`) and is leaked instead of dropped: its
/// sockets and tasks are the parent's.
pub(crate) struct Local<T> {
    value: Option<T>,
    generation: u64,
}

impl<T> Local<T> {
    pub(crate) fn new(value: T) -> Self {
        Local {
            value: Some(value),
            generation: generation(),
        }
    }

    /// The value, or `ClosedError` in a process forked after it was made.
    pub(crate) fn get(&self) -> PyResult<&T> {
        match &self.value {
            Some(v) if self.generation == generation() => Ok(v),
            _ => Err(errors::opened_in_another_process()),
        }
    }

    /// The value, unless this is a process forked after it was made.
    pub(crate) fn into_inner(mut self) -> Option<T> {
        match self.generation == generation() {
            true => self.value.take(),
            false => None,
        }
    }
}

impl<T> Drop for Local<T> {
    fn drop(&mut self) {
        let value = self.value.take();
        if self.generation != generation() {
            std::mem::forget(value);
        } else if let Some(rt) = existing_runtime() {
            // Database pools may need the runtime's context to let go of their connections.
            let _entered = rt.enter();
            drop(value);
        }
    }
}

/// pyo3-async-runtimes' view of the shared runtime: it spawns on whichever runtime is current.
pub(crate) struct SharedRuntime;

tokio::task_local! {
    static TASK_LOCALS: OnceCell<TaskLocals>;
}

impl generic::Runtime for SharedRuntime {
    type JoinError = tokio::task::JoinError;
    type JoinHandle = tokio::task::JoinHandle<()>;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        runtime().spawn(fut)
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        runtime().spawn_blocking(f)
    }
}

impl ContextExt for SharedRuntime {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        let cell = OnceCell::new();
        let _ = cell.set(locals);
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS
            .try_with(|c| c.get().cloned())
            .unwrap_or_default()
    }
}
