//! A helper for bindings-python/bench/bench.py only: the Rust side of "a write through `Store`
//! vs the Rust API", on the same runtime, for a side-by-side comparison.

use std::time::Instant;

use messagedb::{NewMessage, Store, WriteOpts};
use pyo3::prelude::*;

use crate::runtime::block_on;

/// Opens ``url`` and writes ``n`` messages through the Rust API, in the loop ``bench.py`` runs through
/// ``Store.write``; returns the seconds the writes took (opening excluded).
#[pyfunction]
pub(crate) fn _bench_rust_writes(py: Python<'_>, url: &str, n: u64) -> PyResult<f64> {
    block_on(py, async {
        let store = Store::open(url).await?;
        let ns = store.namespace("default");
        let started = Instant::now();
        for i in 0..n {
            let data = serde_json::json!({"i": i, "text": "hello"});
            let message = NewMessage::new("Bench", data)?;
            ns.write(&format!("bench-{}", i % 100), message, WriteOpts::default())
                .await?;
        }
        let elapsed = started.elapsed().as_secs_f64();
        store.close().await;
        Ok(elapsed)
    })
}
