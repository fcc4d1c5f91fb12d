//! `write_concurrent_8_file`: eight concurrent writers on a file database (WAL,
//! `synchronous=FULL`). Ours: eight tokio tasks over one store, sharing commits (group commit).
//! Baselines: eight OS threads each committing every write on its own connection, and eight
//! threads sharing one connection behind a mutex.

use std::hint::black_box;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use messagedb::{Durability, Namespace, NewMessage, Store, StoreOptions, WriteOpts};
use rusqlite::Connection;
use tokio::runtime::Runtime;

use crate::BenchResult;
use crate::baseline;
use crate::cases::payload;
use crate::measure::{Plan, Samples};
use crate::report::{Comparison, Target};

/// Concurrent writers.
const WRITERS: usize = 8;
/// Ours must commit at least this many times the throughput of eight independent connections.
const THROUGHPUT_BOUND: f64 = 10.0;

/// What the writers of one run did: every write's latency (ns), and how many writes completed
/// before the deadline (the last write of each writer ends after it).
#[derive(Debug, Default)]
pub(crate) struct WindowRun {
    pub(crate) latencies: Vec<u64>,
    pub(crate) completed: usize,
}

impl WindowRun {
    pub(crate) fn merge(&mut self, other: WindowRun) {
        self.latencies.extend(other.latencies);
        self.completed += other.completed;
    }
}

/// One timed run of one contender, over a window of the given length.
pub(crate) type RoundRun<'a> = Box<dyn FnMut(Duration) -> WindowRun + 'a>;

/// The stream writer `w` writes to.
fn stream_of(w: usize) -> String {
    format!("writer-{w}")
}

/// Runs every contender for `plan.round` in each round, rotating which goes first, after a warm-up.
/// Throughput counts the writes completed inside each window.
pub(crate) fn rotate_rounds(plan: &Plan, contenders: &mut [RoundRun<'_>]) -> Vec<Samples> {
    for run in contenders.iter_mut() {
        run(plan.warmup);
    }
    let mut samples = vec![Samples::default(); contenders.len()];
    for round in 0..plan.rounds {
        for k in 0..contenders.len() {
            let idx = (round + k) % contenders.len();
            let run = contenders[idx](plan.round);
            samples[idx].add_window(run.latencies, run.completed, plan.round);
        }
    }
    samples
}

/// Ours: eight tasks on the multi-thread runtime, each writing to its own stream until `duration`
/// has passed.
fn ours_round(rt: &Runtime, ns: &Namespace, duration: Duration) -> WindowRun {
    rt.block_on(async {
        let deadline = Instant::now() + duration;
        let tasks: Vec<_> = (0..WRITERS)
            .map(|w| {
                let ns = ns.clone();
                tokio::spawn(async move {
                    let stream = stream_of(w);
                    let mut run = WindowRun::default();
                    let mut i = 0u64;
                    loop {
                        i += 1;
                        let t0 = Instant::now();
                        let message =
                            NewMessage::new("Deposited", payload(i)).expect("valid message");
                        let written = ns
                            .write(&stream, message, WriteOpts::default())
                            .await
                            .expect("messagedb write");
                        black_box(written);
                        let t1 = Instant::now();
                        run.latencies.push((t1 - t0).as_nanos() as u64);
                        if t1 >= deadline {
                            return run;
                        }
                        run.completed += 1;
                    }
                })
            })
            .collect();
        let mut all = WindowRun::default();
        for task in tasks {
            all.merge(task.await.expect("writer task"));
        }
        all
    })
}

/// One baseline writer thread: writes to its stream with `write(stream, data)` until `deadline`.
fn thread_writer(w: usize, deadline: Instant, mut write: impl FnMut(&str, &str)) -> WindowRun {
    let stream = stream_of(w);
    let mut run = WindowRun::default();
    let mut i = 0u64;
    loop {
        i += 1;
        let t0 = Instant::now();
        let data = serde_json::to_string(&payload(i)).expect("JSON");
        write(&stream, &data);
        let t1 = Instant::now();
        run.latencies.push((t1 - t0).as_nanos() as u64);
        if t1 >= deadline {
            return run;
        }
        run.completed += 1;
    }
}

/// Baseline: eight threads, each with its own connection, each write its own transaction.
fn own_connections_round(conns: &mut [Connection], duration: Duration) -> WindowRun {
    let deadline = Instant::now() + duration;
    std::thread::scope(|s| {
        let handles: Vec<_> = conns
            .iter_mut()
            .enumerate()
            .map(|(w, conn)| {
                s.spawn(move || {
                    thread_writer(w, deadline, |stream, data| {
                        let written = baseline::write(conn, stream, "Deposited", data, None, None)
                            .expect("baseline write");
                        black_box(written);
                    })
                })
            })
            .collect();
        let mut all = WindowRun::default();
        for h in handles {
            all.merge(h.join().expect("writer thread"));
        }
        all
    })
}

/// Baseline: eight threads sharing one connection behind a mutex, each write its own transaction.
fn shared_connection_round(conn: &Mutex<Connection>, duration: Duration) -> WindowRun {
    let deadline = Instant::now() + duration;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..WRITERS)
            .map(|w| {
                s.spawn(move || {
                    thread_writer(w, deadline, |stream, data| {
                        let conn = conn.lock().unwrap_or_else(|p| p.into_inner());
                        let written = baseline::write(&conn, stream, "Deposited", data, None, None)
                            .expect("baseline write");
                        black_box(written);
                    })
                })
            })
            .collect();
        let mut all = WindowRun::default();
        for h in handles {
            all.merge(h.join().expect("writer thread"));
        }
        all
    })
}

/// Runs the case in directories under `parent`; returns the main line and the shared-connection
/// line.
pub fn write_concurrent_8_file(plan: &Plan, parent: &Path) -> BenchResult<Vec<Comparison>> {
    let dir = tempfile::tempdir_in(parent)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut options = StoreOptions::default();
    options.durability = Durability::Full;
    let url = format!("sqlite://{}", dir.path().join("ours").display());
    let store = rt.block_on(Store::open_with(&url, options))?;
    let ns = store.namespace("default");

    let own_path = dir.path().join("own.sqlite3");
    let mut conns = (0..WRITERS)
        .map(|_| baseline::open(Some(&own_path)))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let shared = Mutex::new(baseline::open(Some(&dir.path().join("shared.sqlite3")))?);

    let mut contenders: [RoundRun<'_>; 3] = [
        Box::new(|d| ours_round(&rt, &ns, d)),
        Box::new(|d| own_connections_round(&mut conns, d)),
        Box::new(|d| shared_connection_round(&shared, d)),
    ];
    let mut samples = rotate_rounds(plan, &mut contenders).into_iter();
    drop(contenders);
    let (ours, own, shared_samples) = match (samples.next(), samples.next(), samples.next()) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => return Err("missing samples".into()),
    };
    rt.block_on(store.close());
    let ours_label = format!(
        "{WRITERS} tokio tasks (multi-thread runtime) writing to their own streams through one Store, Durability::Full"
    );
    Ok(vec![
        Comparison {
            case: "write_concurrent_8_file".into(),
            ours_label: ours_label.clone(),
            baseline_label: format!(
                "{WRITERS} OS threads, one rusqlite connection each (WAL, synchronous=FULL, busy_timeout 10s), one transaction per write"
            ),
            ours: ours.clone(),
            baseline: own,
            target: Target::ThroughputAtLeast(THROUGHPUT_BOUND),
        },
        Comparison {
            case: "write_concurrent_8_file_shared_conn".into(),
            ours_label,
            baseline_label: format!(
                "{WRITERS} OS threads sharing one rusqlite connection behind a Mutex (WAL, synchronous=FULL), one transaction per write"
            ),
            ours,
            baseline: shared_samples,
            target: Target::ThroughputInfo,
        },
    ])
}
