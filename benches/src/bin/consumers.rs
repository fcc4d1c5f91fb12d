//! `messagedb-bench-consumers`: what a consumer costs beside a plain subscription, how long a
//! standby takes to take over after the active instance is killed, and a consumer's memory while
//! a million messages pass through a slow handler. Each case runs ours and its baseline in one
//! run (alternating rounds where it times), on a SQLite directory and on PostgreSQL (`--pg-url`).
//!
//! ```text
//! cargo build --release -p messagedb-bench
//! target/release/messagedb-bench-consumers [--pg-url postgres://…] [--quick] [--case throughput|takeover|memory]
//! ```
//!
//! - `throughput`: 100,000 messages of one category, handed out by a consumer with a no-op
//!   handler (`next` + `ack`, the position recorded every 100) and by a plain category
//!   subscription (`next`), seven rounds, alternating which runs first. Printed: messages per second of each
//!   (median round) and the ratio consumer ÷ subscription (the target is ≥ 0.8). Beside them, the
//!   bound of recording in line: the subscription writing the position itself every 100
//!   messages and waiting for each write (the cost of a commit every 100 messages). The
//!   consumer is timed from when it opened; its open (the lock, and on PostgreSQL the wait of
//!   one fifth of the lease after it) is printed apart.
//! - `takeover`: a child process (this binary, `--hold`) is the active consumer with the default
//!   lease (5 s); a standby in this process waits; the child is killed with SIGKILL; printed: the
//!   time from the kill to the standby's `open` returning, each round and the worst, beside the
//!   lease.
//! - `memory` (SQLite directory): a writer appends 1,000,000 messages as fast as it can while a
//!   consumer's handler spends ~10 µs on each; the resident set size is sampled every 100,000
//!   handled. The same with a plain subscription as the baseline, first (SQLite's caches and the
//!   allocator warm up during the first run). Printed: RSS at each sample, and the growth from
//!   the first sample, and from the middle one, to the last.

#[path = "../proc.rs"]
mod proc;
use proc::rss_mib;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use messagedb::consumer::ConsumerOpts;
use messagedb::{Namespace, NewMessage, Store, SubscribeOpts, WriteOpts};
use serde_json::json;

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Messages in the throughput category.
const MESSAGES: usize = 100_000;
/// Messages per write.
const BATCH: usize = 500;
/// Timed rounds of the throughput case.
const ROUNDS: usize = 7;

fn main() -> BenchResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if let Some(i) = args.iter().position(|a| a == "--hold") {
        return runtime.block_on(hold(&args[i + 1]));
    }
    let quick = args.iter().any(|a| a == "--quick");
    let pg = args
        .iter()
        .position(|a| a == "--pg-url")
        .map(|i| args[i + 1].clone());
    let case = args
        .iter()
        .position(|a| a == "--case")
        .map(|i| args[i + 1].clone());
    let runs = |name: &str| case.as_deref().is_none_or(|c| c == name);
    runtime.block_on(async {
        let dir = tempfile::tempdir()?;
        let mut stores = vec![("sqlite-dir", format!("sqlite://{}", dir.path().display()))];
        if let Some(url) = pg {
            stores.push(("postgres", url));
        }
        for (kind, url) in stores.iter().filter(|_| runs("throughput")) {
            throughput(kind, url, if quick { 10_000 } else { MESSAGES }).await?;
        }
        for (kind, url) in stores.iter().filter(|_| runs("takeover")) {
            takeover(kind, url, if quick { 1 } else { 3 }).await?;
        }
        if runs("memory") {
            let mem_dir = tempfile::tempdir()?;
            let url = format!("sqlite://{}", mem_dir.path().display());
            memory(&url, if quick { 100_000 } else { 1_000_000 }).await?;
        }
        Ok(())
    })
}

async fn fill(ns: &Namespace, category: &str, n: usize) -> BenchResult<()> {
    let mut written = 0;
    while written < n {
        let batch = BATCH.min(n - written);
        let messages = (0..batch)
            .map(|i| NewMessage::new("Happened", json!({ "i": written + i })))
            .collect::<messagedb::Result<Vec<_>>>()?;
        let stream = format!("{category}-{}", (written / BATCH) % 50);
        ns.write_batch(&stream, messages, WriteOpts::default())
            .await?;
        written += batch;
    }
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Messages per second of a plain category subscription over the first `n` messages.
async fn plain(ns: &Namespace, category: &str, n: usize) -> BenchResult<f64> {
    let started = Instant::now();
    let mut sub = ns
        .subscribe(SubscribeOpts::category(category).from_position(1))
        .await?;
    for _ in 0..n {
        sub.next().await.ok_or("ended")??;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// The bound: a subscription recording its position in line (waiting) every 100 messages.
async fn inline(ns: &Namespace, category: &str, name: &str, n: usize) -> BenchResult<f64> {
    let started = Instant::now();
    let mut sub = ns
        .subscribe(SubscribeOpts::category(category).from_position(1))
        .await?;
    let id = ConsumerOpts::new(category, name)?.id;
    for i in 1..=n {
        let m = sub.next().await.ok_or("ended")??;
        if i % 100 == 0 {
            ns.set_consumer_position(&id, m.global_position).await?;
        }
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// A consumer with a no-op handler (a fresh name): messages per second from its open, and how
/// long the open took (the lock; on PostgreSQL one fifth of the lease more, see `locks.rs`).
async fn consume(ns: &Namespace, category: &str, name: &str, n: usize) -> BenchResult<(f64, f64)> {
    let interval = std::env::var("BENCH_INTERVAL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let opening = Instant::now();
    let opts = ConsumerOpts::new(category, name)?.position_update_interval(interval);
    let mut c = ns.consumer(opts).open().await?;
    let opened = opening.elapsed().as_secs_f64();
    let started = Instant::now();
    for _ in 0..n {
        let m = c.next().await?.ok_or("ended")?;
        c.ack(&m).await?;
    }
    c.stop().await?;
    Ok((n as f64 / started.elapsed().as_secs_f64(), opened))
}

async fn throughput(kind: &str, url: &str, n: usize) -> BenchResult<()> {
    let store = Store::open(url).await?;
    let ns = store.namespace("default");
    let category = format!("tp{}", std::process::id());
    fill(&ns, &category, n).await?;
    let (mut ours, mut base, mut ratios, mut bounds) = (vec![], vec![], vec![], vec![]);
    let mut opens = Vec::new();
    // Rounds alternate which runs first; each round's ratio pairs its two runs.
    for round in 0..ROUNDS {
        let name = format!("noop{round}");
        let (b, (o, opened)) = if round % 2 == 0 {
            let b = plain(&ns, &category, n).await?;
            (b, consume(&ns, &category, &name, n).await?)
        } else {
            let o = consume(&ns, &category, &name, n).await?;
            (plain(&ns, &category, n).await?, o)
        };
        let i = inline(&ns, &category, &format!("inline{round}"), n).await?;
        ours.push(o);
        base.push(b);
        ratios.push(o / b);
        bounds.push(i / b);
        opens.push(opened);
    }
    println!(
        "throughput {kind}: {n} messages, {ROUNDS} rounds — consumer {:.0}/s, subscription {:.0}/s, ratio {:.2} (median of the rounds' ratios; target >= 0.80); bound with a waited write every 100: ratio {:.2}; consumer open {:.3} s",
        median(ours),
        median(base),
        median(ratios),
        median(bounds),
        median(opens)
    );
    store.close().await;
    Ok(())
}

/// `--hold <url>`: the active consumer of the takeover case, until killed.
async fn hold(url: &str) -> BenchResult<()> {
    let store = Store::open(url).await?;
    let ns = store.namespace("default");
    let c = ns
        .consumer(ConsumerOpts::new("takeover", "bench")?)
        .open()
        .await?;
    println!("active");
    tokio::time::sleep(Duration::from_secs(600)).await;
    drop(c);
    Ok(())
}

async fn takeover(kind: &str, url: &str, rounds: usize) -> BenchResult<()> {
    let store = Store::open(url).await?;
    let ns = store.namespace("default");
    let opts = ConsumerOpts::new("takeover", "bench")?;
    let lease = opts.lease;
    let mut times = Vec::new();
    for round in 0..rounds {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["--hold", url])
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().ok_or("stdout")?).read_line(&mut line)?;
        if line.trim() != "active" {
            return Err(format!("the holder said {line:?}").into());
        }
        let standby = tokio::spawn(ns.consumer(opts.clone()).open());
        // The standby is polling by now; each round kills at another point of its poll period.
        tokio::time::sleep(Duration::from_millis(2000 + 370 * round as u64)).await;
        if standby.is_finished() {
            return Err("the standby opened while the holder lived".into());
        }
        child.kill()?;
        let killed = Instant::now();
        child.wait()?;
        let c = tokio::time::timeout(Duration::from_secs(60), standby).await???;
        times.push(killed.elapsed().as_secs_f64());
        c.stop().await?;
    }
    let worst = times.iter().copied().fold(0.0, f64::max);
    let shown: Vec<String> = times.iter().map(|t| format!("{t:.2}")).collect();
    println!(
        "takeover {kind}: {} s after kill -9 (worst {worst:.2} s), lease {:.1} s",
        shown.join(", "),
        lease.as_secs_f64()
    );
    store.close().await;
    Ok(())
}

/// ~10 µs of work.
fn slow_handler() {
    let until = Instant::now() + Duration::from_micros(10);
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

async fn memory(url: &str, n: usize) -> BenchResult<()> {
    let store = Store::open(url).await?;
    let ns = store.namespace("default");
    // The baseline first, so that the consumer runs with SQLite's caches as warm as it had them.
    for mode in ["subscription", "consumer"] {
        let category = format!("mem{mode}");
        let writer = {
            let (ns, category) = (ns.clone(), category.clone());
            tokio::spawn(async move { fill(&ns, &category, n).await })
        };
        let mut samples = Vec::new();
        let started = Instant::now();
        if mode == "consumer" {
            let mut c = ns
                .consumer(ConsumerOpts::new(&category, "slow")?)
                .open()
                .await?;
            for i in 1..=n {
                let m = c.next().await?.ok_or("ended")?;
                slow_handler();
                c.ack(&m).await?;
                if i % (n / 10) == 0 {
                    samples.push(rss_mib());
                }
            }
            c.stop().await?;
        } else {
            let mut sub = ns
                .subscribe(SubscribeOpts::category(&category).from_position(1))
                .await?;
            for i in 1..=n {
                sub.next().await.ok_or("ended")??;
                slow_handler();
                if i % (n / 10) == 0 {
                    samples.push(rss_mib());
                }
            }
        }
        writer.await??;
        let shown: Vec<String> = samples.iter().map(|s| format!("{s:.0}")).collect();
        let last = samples.last().copied().unwrap_or(0.0);
        println!(
            "memory {mode}: {n} messages through a ~10 µs handler in {:.0} s while written; RSS MiB every {}: {} (growth {:+.1} MiB, over the second half {:+.1} MiB)",
            started.elapsed().as_secs_f64(),
            n / 10,
            shown.join(" "),
            last - samples.first().copied().unwrap_or(0.0),
            last - samples.get(samples.len() / 2 - 1).copied().unwrap_or(0.0)
        );
    }
    store.close().await;
    Ok(())
}
