//! `messagedb-bench-growth`: what each operation costs as a store grows, and what a message costs
//! on disk. Not part of CI (a full run fills ten million messages per backend).
//!
//! ```text
//! cargo build --release -p messagedb-bench
//! target/release/messagedb-bench-growth --pg-url postgres://… [--backend sqlite|postgres] [--sizes 1000000,10000000] [--window-ms 1000]
//! target/release/messagedb-bench-growth --pg-url postgres://… --case footprint [--messages 1000000]
//! ```
//!
//! `growth`, on SQLite files and on PostgreSQL: two stores side by side in one run. The small one
//! holds 10,000 messages (100 streams of 100, one per category); the big one holds the same and
//! grows, by imports of 20,000 (one transaction each, durable as in production), to each size
//! (default 1M and 10M) over 10,000 more streams in the same 100 categories. At each size every
//! operation runs on the small and on the big store in alternating rounds, and the line printed
//! per operation gives both (p50, p99 and mean in µs), the ratio big ÷ small of the means and of
//! the medians (`ratio_p50`, of the means for throughput; target ≤ 1.3), and the KiB the machine
//! read from storage per operation meanwhile (`pgpgin` of /proc/vmstat: what came from disk
//! rather than from a cache):
//! - `write`: one message to a random stream, awaited (p50/p99 latency).
//! - `write_8_writers`: eight tasks writing one message each at a time; the mean is wall time per
//!   write (the inverse of throughput).
//! - `stream_read_10`, `stream_read_100`: from a random stream of 100 (written first, so on the
//!   big store they are its oldest data).
//! - `category_read_100`: a random category from a random global position.
//! - `tail_poll`: a random category past its end (what a caught-up subscriber does).
//! - `stream_version`, `ns_info`, `ns_streams` (a page of 100 after a random stream name),
//!   `ns_categories`.
//! - `open`: a child process (this binary, `--probe URL`) opens the store and answers its first
//!   read; printed with the child's resident memory after a read of each kind.
//!
//! `footprint`: the same 1M messages (ids, streams, data) in our SQLite, our PostgreSQL schema and
//! Message DB's own schema (its functions, installed from our migration into a schema of their
//! own, written with `write_message`); bytes on disk per message after a checkpoint (SQLite) or
//! `VACUUM` (PostgreSQL), table and indexes.

#[path = "../proc.rs"]
mod proc;
use proc::rss_mib;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use messagedb::{
    CategoryOpts, GetStreamOpts, JsonObject, ListStreamsOpts, Message, Namespace, NewMessage,
    Store, WriteOpts,
};
use serde_json::json;
use sqlx::{Connection, Executor};

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Categories, streams of the fill, and probe streams (one per category, 100 messages each).
const CATEGORIES: u64 = 100;
const FILL_STREAMS: u64 = 10_000;
const PROBE_MESSAGES: u64 = 100;
/// Messages per import of the fill.
const CHUNK: u64 = 20_000;

/// xorshift64*: enough randomness to pick streams and positions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// The stream and position of the message at global position `g` of the fill: the first
/// 10,000 go round-robin to the probe streams, the rest round-robin to the fill streams.
fn placement(g: u64) -> (String, u64) {
    let probes = CATEGORIES * PROBE_MESSAGES;
    if g <= probes {
        let j = g - 1;
        (probe_stream(j % CATEGORIES), j / CATEGORIES)
    } else {
        let i = g - probes - 1;
        let s = i % FILL_STREAMS;
        (format!("cat{}-{s}", s % CATEGORIES), i / FILL_STREAMS)
    }
}

fn probe_stream(k: u64) -> String {
    format!("cat{k}-probe")
}

/// The messages at global positions `from..to` of the fill.
fn fill_messages(from: u64, to: u64) -> BenchResult<Vec<Message>> {
    let time = chrono::Utc::now();
    (from..to)
        .map(|g| {
            let (stream, position) = placement(g);
            let data = JsonObject::from_json(
                &format!(r#"{{"n":{g},"account":"{stream}","amount":{},"note":"a payload of a realistic size"}}"#, g % 997),
                "data",
            )?;
            Ok(Message::from_parts(
                uuid::Uuid::now_v7(),
                stream,
                "Filled".into(),
                position as i64,
                g as i64,
                data,
                None,
                time,
            ))
        })
        .collect()
}

/// One store under measurement.
#[derive(Clone)]
struct Target {
    url: String,
    store: Store,
    ns: Namespace,
    /// The last global position written (fill and measurement writes).
    head: Arc<AtomicI64>,
    /// How many messages of the fill it holds.
    filled: Arc<AtomicI64>,
}

impl Target {
    async fn open(url: &str) -> BenchResult<Target> {
        let store = Store::open(url).await?;
        let ns = store.namespace(messagedb::DEFAULT_NAMESPACE);
        Ok(Target {
            url: url.into(),
            store,
            ns,
            head: Arc::new(AtomicI64::new(0)),
            filled: Arc::new(AtomicI64::new(0)),
        })
    }

    /// Imports the fill up to `size` messages (from what it holds).
    async fn fill_to(&self, size: u64) -> BenchResult<()> {
        let filled = Instant::now();
        let mut g = self.filled.load(Ordering::Relaxed) as u64 + 1;
        while g <= size {
            let to = (g + CHUNK).min(size + 1);
            let mut records = fill_messages(g, to)?;
            let head = self.head.load(Ordering::Relaxed);
            // Measurement writes took global positions of their own: the fill follows them.
            for (i, m) in records.iter_mut().enumerate() {
                m.global_position = head + 1 + i as i64;
            }
            let r = self.ns.import(records).await?;
            self.head
                .fetch_max(r.last_global_position, Ordering::Relaxed);
            self.filled.store((to - 1) as i64, Ordering::Relaxed);
            g = to;
        }
        eprintln!(
            "filled {} to {size} in {:.1} s",
            self.url,
            filled.elapsed().as_secs_f64()
        );
        self.settle().await
    }

    /// Leaves the store as a running one is, not as a bulk load leaves it: on PostgreSQL, the
    /// fill vacuumed and analyzed (as autovacuum would) and its dirty pages written out (as
    /// checkpoints would), so neither runs during the measurements.
    async fn settle(&self) -> BenchResult<()> {
        if self.url.starts_with("postgres") {
            let mut conn = sqlx::PgConnection::connect(&self.url).await?;
            conn.execute("VACUUM ANALYZE").await?;
            conn.execute("CHECKPOINT").await?;
        }
        Ok(())
    }
}

/// The operations timed at each size.
#[derive(Debug, Clone, Copy)]
enum Op {
    Write,
    Write8,
    StreamRead10,
    StreamRead100,
    CategoryRead100,
    TailPoll,
    StreamVersion,
    NsInfo,
    NsStreams,
    NsCategories,
}

const OPS: [Op; 10] = [
    Op::Write,
    Op::Write8,
    Op::StreamRead10,
    Op::StreamRead100,
    Op::CategoryRead100,
    Op::TailPoll,
    Op::StreamVersion,
    Op::NsInfo,
    Op::NsStreams,
    Op::NsCategories,
];

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Write => "write",
            Op::Write8 => "write_8_writers",
            Op::StreamRead10 => "stream_read_10",
            Op::StreamRead100 => "stream_read_100",
            Op::CategoryRead100 => "category_read_100",
            Op::TailPoll => "tail_poll",
            Op::StreamVersion => "stream_version",
            Op::NsInfo => "ns_info",
            Op::NsStreams => "ns_streams",
            Op::NsCategories => "ns_categories",
        }
    }
}

/// One write to a random stream of the measurement writes (apart from the fill's, whose
/// positions the next import takes).
async fn write_one(t: &Target, r: u64) -> BenchResult<()> {
    let stream = format!("cat{}-w{}", r % CATEGORIES, r % FILL_STREAMS);
    let m = NewMessage::new(
        "Written",
        json!({"r": r, "note": "a payload of a realistic size"}),
    )?;
    let w = t.ns.write(&stream, m, WriteOpts::default()).await?;
    t.head.fetch_max(w.global_position, Ordering::Relaxed);
    Ok(())
}

/// Runs one operation with the random number `r`; returns how many messages it read or listed.
async fn run_op(t: &Target, op: Op, r: u64) -> BenchResult<usize> {
    let category = format!("cat{}", r % CATEGORIES);
    let probe = probe_stream(r % CATEGORIES);
    let n = match op {
        Op::Write | Op::Write8 => {
            write_one(t, r).await?;
            1
        }
        Op::StreamRead10 => {
            let from = (r >> 8) % (PROBE_MESSAGES - 10);
            let opts = GetStreamOpts::default()
                .position(from as i64)
                .batch_size(10);
            t.ns.get_stream(&probe, &opts).await?.len()
        }
        Op::StreamRead100 => {
            let opts = GetStreamOpts::default().batch_size(100);
            t.ns.get_stream(&probe, &opts).await?.len()
        }
        Op::CategoryRead100 => {
            let head = t.head.load(Ordering::Relaxed) as u64;
            let from = 1 + (r >> 8) % head.saturating_sub(20_000).max(1);
            let opts = CategoryOpts::default()
                .position(from as i64)
                .batch_size(100);
            t.ns.get_category(&category, &opts).await?.len()
        }
        Op::TailPoll => {
            let head = t.head.load(Ordering::Relaxed);
            let opts = CategoryOpts::default().position(head + 1).batch_size(100);
            t.ns.get_category(&category, &opts).await?.len()
        }
        Op::StreamVersion => t.ns.stream_version(&probe).await?.map_or(0, |_| 1),
        Op::NsInfo => {
            let info = t.store.namespace_info(t.ns.id()).await?;
            info.message_count as usize
        }
        Op::NsStreams => {
            let cursor = format!("cat{}-{}", r % CATEGORIES, (r >> 8) % FILL_STREAMS);
            let opts = ListStreamsOpts::default().cursor(cursor).limit(100);
            t.ns.list_streams(&opts).await?.len()
        }
        Op::NsCategories => t.ns.list_categories().await?.len(),
    };
    Ok(n)
}

/// Latencies (µs) of `op` on `t` for `window`, and the wall time per operation (µs).
async fn sample(
    t: &Target,
    op: Op,
    window: Duration,
    rng: &mut Rng,
) -> BenchResult<(Vec<f64>, f64)> {
    if let Op::Write8 = op {
        return writers(t, 8, window).await;
    }
    let mut latencies = Vec::new();
    let started = Instant::now();
    while started.elapsed() < window || latencies.len() < 3 {
        let r = rng.next();
        let t0 = Instant::now();
        std::hint::black_box(run_op(t, op, r).await?);
        latencies.push(t0.elapsed().as_secs_f64() * 1e6);
    }
    let per_op = started.elapsed().as_secs_f64() * 1e6 / latencies.len() as f64;
    Ok((latencies, per_op))
}

/// `n` tasks writing one message at a time for `window`: latencies and wall time per write.
async fn writers(t: &Target, n: u64, window: Duration) -> BenchResult<(Vec<f64>, f64)> {
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|w| {
            let (t, done) = (t.clone(), done.clone());
            tokio::spawn(async move {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (w + 1));
                let mut latencies = Vec::new();
                while started.elapsed() < window {
                    let t0 = Instant::now();
                    write_one(&t, rng.next()).await?;
                    latencies.push(t0.elapsed().as_secs_f64() * 1e6);
                    if started.elapsed() <= window {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
                BenchResult::Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let per_write = window.as_secs_f64() * 1e6 / done.load(Ordering::Relaxed).max(1) as f64;
    Ok((latencies, per_write))
}

/// KiB read from storage by the whole machine so far (`pgpgin` of /proc/vmstat): what an
/// operation read from disk rather than from a cache.
fn disk_read_kib() -> u64 {
    let vmstat = std::fs::read_to_string("/proc/vmstat").unwrap_or_default();
    vmstat
        .lines()
        .find_map(|l| l.strip_prefix("pgpgin "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn percentile(samples: &mut [f64], q: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1]
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Times every operation on `small` and `big` in alternating rounds; prints a line per operation.
async fn compare(
    backend: &str,
    small: &Target,
    big: &Target,
    size: u64,
    window: Duration,
    rounds: usize,
) -> BenchResult<Vec<f64>> {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ size);
    let mut ratios = Vec::new();
    for op in OPS {
        let (mut s_lat, mut b_lat, mut s_cost, mut b_cost) = (Vec::new(), Vec::new(), 0.0, 0.0);
        let (mut s_disk, mut b_disk) = (0u64, 0u64);
        // Warm both up (the big store's pages, the prepared statements).
        sample(small, op, window / 4, &mut rng).await?;
        sample(big, op, window / 4, &mut rng).await?;
        for round in 0..rounds {
            for which in [round % 2 == 0, round % 2 == 1] {
                let (t, lat, cost, disk) = match which {
                    true => (small, &mut s_lat, &mut s_cost, &mut s_disk),
                    false => (big, &mut b_lat, &mut b_cost, &mut b_disk),
                };
                let read_before = disk_read_kib();
                let (l, c) = sample(t, op, window, &mut rng).await?;
                *disk += disk_read_kib() - read_before;
                lat.extend(l);
                *cost += c / rounds as f64;
            }
        }
        let ratio = b_cost / s_cost;
        // The median's ratio: what a typical call costs, apart from this machine's outliers
        // (fsync stalls, scheduling) that weigh on the means. Throughput is a mean.
        let (s_p50, b_p50) = (percentile(&mut s_lat, 0.5), percentile(&mut b_lat, 0.5));
        let ratio_p50 = match op {
            Op::Write8 => ratio,
            _ => b_p50 / s_p50,
        };
        ratios.push(ratio_p50);
        let line = json!({
            "case": "growth",
            "backend": backend,
            "op": op.name(),
            "size": size,
            "small_p50_us": round1(s_p50),
            "big_p50_us": round1(b_p50),
            "small_p99_us": round1(percentile(&mut s_lat, 0.99)),
            "big_p99_us": round1(percentile(&mut b_lat, 0.99)),
            "small_mean_us": round1(s_cost),
            "big_mean_us": round1(b_cost),
            "ratio": (ratio * 100.0).round() / 100.0,
            "ratio_p50": (ratio_p50 * 100.0).round() / 100.0,
            "target": "<= 1.3",
            "small_disk_kib_per_op": round1(s_disk as f64 / s_lat.len().max(1) as f64),
            "big_disk_kib_per_op": round1(b_disk as f64 / b_lat.len().max(1) as f64),
        });
        println!("{line}");
    }
    Ok(ratios)
}

/// The child of `open`: opens `url`, answers a first read, then one read of each kind; prints the
/// open time (to the first answer) and its resident memory.
async fn probe(url: &str) -> BenchResult<()> {
    let started = Instant::now();
    let t = Target::open(url).await?;
    t.ns.stream_version(&probe_stream(0)).await?;
    let open_ms = started.elapsed().as_secs_f64() * 1e3;
    t.head.store(
        t.store.namespace_info(t.ns.id()).await?.message_count,
        Ordering::Relaxed,
    );
    for op in [
        Op::StreamRead100,
        Op::CategoryRead100,
        Op::TailPoll,
        Op::NsStreams,
        Op::NsCategories,
    ] {
        run_op(&t, op, 12345).await?;
    }
    println!("{}", json!({"open_ms": open_ms, "rss_mib": rss_mib()}));
    t.store.close().await;
    Ok(())
}

/// Runs the probe child on `url`; returns (open ms, RSS MiB).
fn open_in_child(url: &str) -> BenchResult<(f64, f64)> {
    let out = std::process::Command::new(std::env::current_exe()?)
        .args(["--probe", url])
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(format!("the probe of {url} failed: {}", out.status).into());
    }
    let line: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    Ok((
        line["open_ms"].as_f64().unwrap_or(0.0),
        line["rss_mib"].as_f64().unwrap_or(0.0),
    ))
}

/// Compares opening the small and the big store in a child process, alternately.
fn compare_open(backend: &str, small: &Target, big: &Target, size: u64) -> BenchResult<f64> {
    let (mut s, mut b) = (Vec::new(), Vec::new());
    for round in 0..3 {
        for which in [round % 2 == 0, round % 2 == 1] {
            match which {
                true => s.push(open_in_child(&small.url)?),
                false => b.push(open_in_child(&big.url)?),
            }
        }
    }
    let median = |v: &mut Vec<(f64, f64)>, f: fn(&(f64, f64)) -> f64| {
        let mut xs: Vec<f64> = v.iter().map(f).collect();
        percentile(&mut xs, 0.5)
    };
    let (s_ms, b_ms) = (median(&mut s, |x| x.0), median(&mut b, |x| x.0));
    let ratio = b_ms / s_ms;
    println!(
        "{}",
        json!({
            "case": "growth", "backend": backend, "op": "open", "size": size,
            "small_open_ms": round1(s_ms), "big_open_ms": round1(b_ms),
            "small_rss_mib": round1(median(&mut s, |x| x.1)), "big_rss_mib": round1(median(&mut b, |x| x.1)),
            "ratio": (ratio * 100.0).round() / 100.0, "rss_ratio": (median(&mut b, |x| x.1) / median(&mut s, |x| x.1) * 100.0).round() / 100.0,
            "target": "<= 1.3",
        })
    );
    Ok(ratio)
}

/// A fresh database on the cluster of `pg_url`; returns its URL.
async fn fresh_database(pg_url: &str, name: &str) -> BenchResult<String> {
    let mut conn = sqlx::PgConnection::connect(pg_url).await?;
    conn.execute(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
    )))
    .await?;
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await?;
    let base = pg_url.split('?').next().unwrap_or(pg_url);
    let cut = base
        .rfind('/')
        .ok_or("the PostgreSQL URL has no database")?;
    Ok(format!("{}/{name}", &base[..cut]))
}

/// The growth case on one backend: `urls` are the small and the big store.
async fn growth(
    backend: &str,
    urls: (String, String),
    sizes: &[u64],
    window: Duration,
    rounds: usize,
) -> BenchResult<()> {
    let small = Target::open(&urls.0).await?;
    let big = Target::open(&urls.1).await?;
    let probes = CATEGORIES * PROBE_MESSAGES;
    small.fill_to(probes).await?;
    big.fill_to(probes).await?;
    let mut worst = Vec::new();
    for &size in sizes {
        big.fill_to(size).await?;
        let ratios = compare(backend, &small, &big, size, window, rounds).await?;
        let open = compare_open(backend, &small, &big, size)?;
        let max = ratios.iter().copied().fold(open, f64::max);
        worst.push(json!({"size": size, "worst_ratio": (max * 100.0).round() / 100.0}));
    }
    println!(
        "{}",
        json!({"case": "growth_summary", "backend": backend, "levels": worst})
    );
    small.store.close().await;
    big.store.close().await;
    Ok(())
}

/// Bytes of every relation (table, its indexes and TOAST) per schema holding a `messages` table.
async fn schema_sizes(conn: &mut sqlx::PgConnection) -> BenchResult<Vec<(String, i64, i64, i64)>> {
    conn.execute("VACUUM ANALYZE").await?;
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT n.nspname,
                sum(pg_total_relation_size(c.oid))::bigint,
                (SELECT pg_table_size(m.oid) FROM pg_class m WHERE m.relnamespace = n.oid AND m.relname = 'messages'),
                (SELECT pg_indexes_size(m.oid) FROM pg_class m WHERE m.relnamespace = n.oid AND m.relname = 'messages')
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'S', 'm')
           AND EXISTS (SELECT 1 FROM pg_class m WHERE m.relnamespace = n.oid AND m.relname = 'messages')
         GROUP BY n.oid, n.nspname ORDER BY n.nspname",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows)
}

/// Bytes of the files under `dir` (after a checkpoint of every SQLite database in it).
fn sqlite_bytes(dir: &std::path::Path) -> BenchResult<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            total += sqlite_bytes(&path)?;
            continue;
        }
        if path.extension().is_some_and(|e| e == "sqlite3") {
            let conn = rusqlite::Connection::open(&path)?;
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
    }
    for entry in std::fs::read_dir(dir)? {
        let meta = entry?.metadata()?;
        if meta.is_file() {
            total += meta.len();
        }
    }
    Ok(total)
}

fn per_message(bytes: i64, n: u64) -> f64 {
    round1(bytes as f64 / n as f64)
}

async fn footprint(pg_url: &str, n: u64) -> BenchResult<()> {
    let records = fill_messages(1, n + 1)?;
    // Our SQLite.
    let dir = tempfile::tempdir()?;
    let sqlite = Store::open(&format!("sqlite://{}", dir.path().display())).await?;
    for chunk in records.chunks(CHUNK as usize) {
        sqlite
            .namespace(messagedb::DEFAULT_NAMESPACE)
            .import(chunk.to_vec())
            .await?;
    }
    // The counts and stream heads, brought up to date, are part of what a message costs.
    sqlite.namespace_info(messagedb::DEFAULT_NAMESPACE).await?;
    sqlite.close().await;
    drop(sqlite);
    let sqlite_total = sqlite_bytes(dir.path())? as i64;
    // Our PostgreSQL schema.
    let url = fresh_database(pg_url, &format!("footprint_{}", std::process::id())).await?;
    let pg = Store::open(&url).await?;
    for chunk in records.chunks(CHUNK as usize) {
        pg.namespace(messagedb::DEFAULT_NAMESPACE)
            .import(chunk.to_vec())
            .await?;
    }
    pg.namespace_info(messagedb::DEFAULT_NAMESPACE).await?;
    pg.close().await;
    let ours = schema_sizes(&mut sqlx::PgConnection::connect(&url).await?).await?;
    let ours = ours.first().ok_or("no messagedb schema")?.clone();
    // Message DB's schema (in a database of its own), written with its write_message.
    let md_url = fresh_database(pg_url, &format!("footprint_md_{}", std::process::id())).await?;
    let mut conn = sqlx::PgConnection::connect(&md_url).await?;
    conn.execute("CREATE SCHEMA message_store; SET search_path TO message_store")
        .await?;
    let migration = include_str!("../../../migrations/namespace/postgres/0001_message_db.sql");
    sqlx::raw_sql(sqlx::AssertSqlSafe(migration))
        .execute(&mut conn)
        .await?;
    for chunk in records.chunks(5_000) {
        let ids: Vec<String> = chunk.iter().map(|m| m.id.to_string()).collect();
        let streams: Vec<&str> = chunk.iter().map(|m| m.stream_name.as_str()).collect();
        let data: Vec<&str> = chunk.iter().map(|m| m.data.as_str()).collect();
        let mut tx = conn.begin().await?;
        sqlx::query(
            "SELECT write_message(u.i, u.s, 'Filled', u.d::jsonb)
             FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS u(i, s, d, o) ORDER BY u.o",
        )
        .bind(&ids)
        .bind(&streams)
        .bind(&data)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    let sizes = schema_sizes(&mut conn).await?;
    let md = sizes.first().ok_or("no message_store")?;
    println!(
        "{}",
        json!({
            "case": "footprint", "messages": n,
            "sqlite_bytes_per_message": per_message(sqlite_total, n),
            "postgres_bytes_per_message": per_message(ours.1, n),
            "postgres_table_bytes_per_message": per_message(ours.2, n),
            "postgres_index_bytes_per_message": per_message(ours.3, n),
            "message_db_bytes_per_message": per_message(md.1, n),
            "message_db_table_bytes_per_message": per_message(md.2, n),
            "message_db_index_bytes_per_message": per_message(md.3, n),
            "ratio_postgres_to_message_db": (ours.1 as f64 / md.1 as f64 * 1000.0).round() / 1000.0,
            "target": "postgres <= message_db",
        })
    );
    Ok(())
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> BenchResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if let Some(url) = arg(&args, "--probe") {
        return rt.block_on(probe(&url));
    }
    let pg = arg(&args, "--pg-url");
    if arg(&args, "--case").as_deref() == Some("footprint") {
        let n = arg(&args, "--messages").map_or(Ok(1_000_000), |s| s.parse())?;
        return rt.block_on(footprint(&pg.ok_or("--case footprint needs --pg-url")?, n));
    }
    let sizes: Vec<u64> = arg(&args, "--sizes")
        .unwrap_or_else(|| "1000000,10000000".into())
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let window = Duration::from_millis(arg(&args, "--window-ms").map_or(Ok(1000), |s| s.parse())?);
    let rounds = 4;
    let backend = arg(&args, "--backend");
    let dir = tempfile::tempdir_in(
        arg(&args, "--dir").unwrap_or_else(|| std::env::temp_dir().display().to_string()),
    )?;
    if backend.as_deref().is_none_or(|b| b == "sqlite") {
        let (s, b) = (dir.path().join("small"), dir.path().join("big"));
        let urls = (
            format!("sqlite://{}", s.display()),
            format!("sqlite://{}", b.display()),
        );
        rt.block_on(growth("sqlite_files", urls, &sizes, window, rounds))?;
    }
    if backend.as_deref().is_none_or(|b| b == "postgres") {
        let pg = pg.ok_or("the PostgreSQL growth case needs --pg-url (or --backend sqlite)")?;
        let urls = rt.block_on(async {
            let id = std::process::id();
            BenchResult::Ok((
                fresh_database(&pg, &format!("growth_small_{id}")).await?,
                fresh_database(&pg, &format!("growth_big_{id}")).await?,
            ))
        })?;
        rt.block_on(growth("postgres", urls, &sizes, window, rounds))?;
    }
    Ok(())
}
