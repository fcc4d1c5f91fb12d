//! `messagedb-bench-reads`: what large SQLite reads cost the small requests around them, with the
//! rest of a large read on tokio's blocking pool (ours) beside every read whole on the caller's
//! thread (the baseline), in alternating rounds of one run.
//!
//! ```text
//! cargo build --release -p messagedb-bench
//! target/release/messagedb-bench-reads [--quick]
//! ```
//!
//! `server_small_during_large_reads`: the in-process server on a SQLite directory. Two clients read
//! 10,000 messages of a category (`category.get`, batch 10,000) over and over, while four clients
//! send `stream.version` and time each answer. The server serves a connection on one thread for
//! its life (thread per core), so an inline large read holds up every connection of its thread.
//! Printed: p50 and p99 of the small requests with each mode, the same with no large reads (the
//! floor), and the ratio of the p99s (ours ÷ inline; below 1 is better).

#[path = "../http.rs"]
mod http;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http::{BenchResult, RpcClient, percentile};
use messagedb_server::{ServeConfig, start};
use serde_json::json;

/// Messages in the large category.
const LARGE: usize = 10_000;
/// Clients reading the large category.
const LARGE_READERS: usize = 2;
/// Clients timing small requests.
const SMALL_CLIENTS: usize = 4;

/// Latencies (µs) of small requests for `window`, with `large` clients reading the large category
/// meanwhile.
fn small_latencies(
    port: u16,
    token: &str,
    large: usize,
    window: Duration,
) -> BenchResult<Vec<f64>> {
    let stop = Arc::new(AtomicBool::new(false));
    let readers = (0..large)
        .map(|_| {
            let (stop, token) = (stop.clone(), token.to_string());
            std::thread::spawn(move || -> BenchResult<u64> {
                let mut client = RpcClient::connect(port, &token)?;
                let body = json!(["category.get", "large", {"batchSize": LARGE}]).to_string();
                let mut reads = 0;
                while !stop.load(Ordering::Relaxed) {
                    let (status, answer) = client.call(&body)?;
                    if status != 200 || answer.len() < LARGE * 50 {
                        return Err(format!("category.get answered {status}").into());
                    }
                    reads += 1;
                }
                Ok(reads)
            })
        })
        .collect::<Vec<_>>();
    let small = (0..SMALL_CLIENTS)
        .map(|_| {
            let token = token.to_string();
            std::thread::spawn(move || -> BenchResult<Vec<f64>> {
                let mut client = RpcClient::connect(port, &token)?;
                let body = json!(["stream.version", "small-1"]).to_string();
                let mut samples = Vec::new();
                let end = Instant::now() + window;
                while Instant::now() < end {
                    let started = Instant::now();
                    let (status, _) = client.call(&body)?;
                    if status != 200 {
                        return Err(format!("stream.version answered {status}").into());
                    }
                    samples.push(started.elapsed().as_secs_f64() * 1e6);
                }
                Ok(samples)
            })
        })
        .collect::<Vec<_>>();
    let mut samples = Vec::new();
    for s in small {
        samples.extend(s.join().map_err(|_| "a small client panicked")??);
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().map_err(|_| "a large reader panicked")??;
    }
    Ok(samples)
}

fn main() -> BenchResult<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let (window, rounds) = match quick {
        true => (Duration::from_millis(500), 1),
        false => (Duration::from_secs(3), 4),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    let mut config = ServeConfig::in_process();
    config.db_url = Some(format!("sqlite://{}", dir.path().display()));
    let server = rt.block_on(start(config))?;
    let (port, token) = (server.port, server.token.clone());
    let mut client = RpcClient::connect(port, &token)?;
    let batch: Vec<_> = (0..1000)
        .map(|i| json!({"type": "Filled", "data": {"n": i, "text": "a payload of some size"}}))
        .collect();
    for b in 0..LARGE / 1000 {
        let body = json!(["stream.writeBatch", format!("large-{b}"), batch]).to_string();
        let (status, answer) = client.call(&body)?;
        if status != 200 {
            return Err(format!("writeBatch answered {status}: {answer}").into());
        }
    }
    client.call(&json!(["stream.write", "small-1", {"type": "Noted", "data": {}}]).to_string())?;

    let (mut ours, mut inline, mut floor) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        for all_inline in [false, true] {
            messagedb::threads::set_all_inline(all_inline);
            let samples = small_latencies(port, &token, LARGE_READERS, window)?;
            match all_inline {
                false => ours.extend(samples),
                true => inline.extend(samples),
            }
        }
        floor.extend(small_latencies(port, &token, 0, window / 2)?);
    }
    messagedb::threads::set_all_inline(false);
    let (ours_p99, inline_p99) = (percentile(&mut ours, 0.99), percentile(&mut inline, 0.99));
    let line = json!({
        "case": "server_small_during_large_reads",
        "ours_p50_us": percentile(&mut ours, 0.50).round(),
        "ours_p99_us": ours_p99.round(),
        "inline_p50_us": percentile(&mut inline, 0.50).round(),
        "inline_p99_us": inline_p99.round(),
        "floor_p50_us": percentile(&mut floor, 0.50).round(),
        "floor_p99_us": percentile(&mut floor, 0.99).round(),
        "ratio_p99": (ours_p99 / inline_p99 * 1000.0).round() / 1000.0,
        "samples": [ours.len(), inline.len(), floor.len()],
    });
    println!("{line}");
    rt.block_on(server.stop(Duration::from_secs(5)));
    Ok(())
}
