//! `messagedb-bench-scaleout`: one `messagedb serve` against two on one PostgreSQL, and what bounds
//! them on this machine, in alternating rounds of one run.
//!
//! ```text
//! cargo build --release -p messagedb-server -p messagedb-bench
//! eval "$(scripts/pg.sh start)"
//! target/release/messagedb-bench-scaleout --pg-url "$MESSAGEDB_TEST_PG_URL" [--pg-data DIR] [--quick]
//! ```
//!
//! Two real `messagedb` binaries (next to this one, or `MESSAGEDB_BIN`) on a fresh database, with
//! one generated `default` token (`MESSAGEDB_TOKEN`); "one instance" loads only the first.
//!
//! - `scaleout_writes`: 32 keep-alive HTTP clients on one thread doing `stream.write` of one small
//!   message to random streams of 4 categories, all on one instance or split across two; beside
//!   them, two instances whose clients write disjoint categories (no category lock shared).
//!   Printed: writes/s, the ratio two ÷ one (target ≥ 1.5), p50/p99, PostgreSQL xids per write.
//! - `scaleout_sse_fanout`: 100 `/subscribe?category=…` streams on one instance or split across
//!   two; one writer writes a burst (`stream.writeBatch` of 500) through the first; the second
//!   learns of it through LISTEN/NOTIFY. Printed: pokes delivered per second until every
//!   subscriber has every message, and the ratio two ÷ one (target ≥ 1.5).
//! - In both: CPU time (utime + stime from /proc, 100 ticks/s) of each server, the PostgreSQL
//!   cluster (postmaster and children), this process (the load generator) and the machine, as
//!   cores busy and CPU-µs per write (poke). When the cores are busy in both runs a second
//!   instance cannot add throughput here; `projection` states what the measured CPU cost per
//!   write allows where each part has cores of its own.

#[path = "../http.rs"]
mod http;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::time::{Duration, Instant};

use http::{AsyncRpcClient, BenchResult, percentile};
use serde_json::{Value, json};
use sqlx::postgres::{PgConnection, PgListener};
use sqlx::{AssertSqlSafe, Connection};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader as AsyncBufReader};
use tokio::net::TcpStream;

const CLIENTS: usize = 32;
const CATEGORIES: u64 = 4;
const SUBSCRIBERS: usize = 100;
const BATCH: usize = 500;
const CLK_TCK: f64 = 100.0;
/// PostgreSQL's cores in the projection.
const PG_CORES: f64 = 2.0;
const LISTEN_DEADLINE: Duration = Duration::from_secs(30);
const DELIVERY_DEADLINE: Duration = Duration::from_secs(60);
const CALL_DEADLINE: Duration = Duration::from_secs(10);

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A `messagedb serve` child process, killed when dropped (on every exit path of the bench).
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn spawn(db_url: &str, token: &str) -> BenchResult<Server> {
        let exe = std::env::current_exe().unwrap_or_default();
        let binary =
            std::env::var_os("MESSAGEDB_BIN").map_or(exe.with_file_name("messagedb"), Into::into);
        let child = Command::new(&binary)
            .args(["serve", "--port=0", "--host=127.0.0.1", "--log-level=warn"])
            .args(["--test-mode=false", &format!("--db-url={db_url}")])
            .env("MESSAGEDB_TOKEN", token)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{}: {e} (build messagedb-server)", binary.display()))?;
        let mut server = Server { child, port: 0 };
        let stdout = server.child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = mpsc::channel();
        // Reads until "listening on …", then drains stdout until the child exits.
        std::thread::spawn(move || {
            let (mut out, mut line) = (BufReader::new(stdout), String::new());
            while out.read_line(&mut line).unwrap_or(0) > 0 {
                if let Some(url) = line.trim().strip_prefix("listening on ") {
                    let _ = tx.send(url.rsplit(':').next().unwrap_or("").parse::<u16>());
                }
                line.clear();
            }
        });
        let late = "the server did not print `listening on` within 30 s";
        server.port = rx.recv_timeout(LISTEN_DEADLINE).map_err(|_| late)??;
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Utime + stime (ticks) and parent of a process, from `/proc/<pid>/stat`.
fn proc_stat(pid: &str) -> Option<(u32, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some((fields.get(1)?.parse().ok()?, ticks))
}

/// CPU ticks of each part at one instant.
struct Sample {
    at: Instant,
    servers: Vec<u64>,
    postgres: HashMap<u32, u64>,
    bench: u64,
    /// Busy ticks of the whole machine (all cores).
    machine: u64,
}

/// CPU ticks used between samples, summed over the runs of one configuration.
#[derive(Default)]
struct CpuUse {
    secs: f64,
    servers: Vec<u64>,
    postgres: u64,
    bench: u64,
    machine: u64,
}

impl CpuUse {
    fn add(&mut self, a: &Sample, b: &Sample) {
        self.secs += b.at.duration_since(a.at).as_secs_f64();
        self.servers.resize(a.servers.len(), 0);
        for (i, (x, y)) in a.servers.iter().zip(&b.servers).enumerate() {
            self.servers[i] += y.saturating_sub(*x);
        }
        for (pid, t) in &b.postgres {
            self.postgres += t.saturating_sub(*a.postgres.get(pid).unwrap_or(&0));
        }
        self.bench += b.bench.saturating_sub(a.bench);
        self.machine += b.machine.saturating_sub(a.machine);
    }

    fn servers_total(&self) -> u64 {
        self.servers.iter().sum()
    }

    fn cores(&self, ticks: u64) -> f64 {
        round3(ticks as f64 / CLK_TCK / self.secs)
    }

    /// Cores busy per part, and CPU-µs per unit of work (`units` writes or pokes).
    fn report(&self, units: usize, unit: &str) -> Value {
        let measured = self.servers_total() + self.postgres + self.bench;
        let us = |t: u64| (t as f64 / CLK_TCK * 1e7 / units as f64).round() / 10.0;
        json!({
            "seconds": round3(self.secs),
            "cores_busy": {
                "servers": self.servers.iter().map(|t| self.cores(*t)).collect::<Vec<_>>(),
                "servers_total": self.cores(self.servers_total()),
                "postgres": self.cores(self.postgres),
                "load_generator": self.cores(self.bench),
                "total_measured": self.cores(measured),
                "machine": self.cores(self.machine),
                "machine_rest": self.cores(self.machine.saturating_sub(measured)),
            },
            format!("cpu_us_per_{unit}"): {
                "servers_total": us(self.servers_total()),
                "postgres": us(self.postgres),
                "load_generator": us(self.bench),
                "total_measured": us(measured),
            },
        })
    }
}

/// Where a configuration sends its load.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    One,
    Two,
    /// Two instances, the clients of each writing only its half of the categories.
    TwoDisjoint,
}

/// The measured runs of one configuration.
#[derive(Default)]
struct Runs {
    rates: Vec<f64>,
    /// Write latencies (ms), or per fan-out burst the writer's seconds.
    latencies: Vec<f64>,
    /// Per fan-out burst: ms from the writer's last acknowledgement to the last poke.
    drains: Vec<f64>,
    units: usize,
    /// Transaction ids assigned in the cluster, and of those the servers' NOTIFYs.
    xids: i64,
    notifies: i64,
    cpu: CpuUse,
}

impl Runs {
    fn mean(&self) -> f64 {
        self.rates.iter().sum::<f64>() / self.rates.len() as f64
    }

    /// The write runs: measured numbers, then the projection of their CPU cost per write to
    /// `instances` instances on a core each, PostgreSQL on `PG_CORES` and the load elsewhere.
    fn write_summary(&mut self, instances: f64) -> Value {
        let us = |t: u64| t as f64 / CLK_TCK * 1e6 / self.units as f64;
        let (server_us, pg_us) = (us(self.cpu.servers_total()), us(self.cpu.postgres));
        let (servers, pg) = (instances * 1e6 / server_us, PG_CORES * 1e6 / pg_us);
        let write_xacts = self.xids - self.notifies;
        let (mean, mut latencies) = (self.mean(), std::mem::take(&mut self.latencies));
        let mut p = |q| round3(percentile(&mut latencies, q));
        json!({
            "writes_per_sec": mean.round(),
            "rounds_writes_per_sec": self.rates.iter().map(|r| r.round()).collect::<Vec<_>>(),
            "p50_ms": p(0.5),
            "p99_ms": p(0.99),
            "xids_per_sec": (self.xids as f64 / self.cpu.secs).round(),
            "notify_xacts_per_sec": (self.notifies as f64 / self.cpu.secs).round(),
            "writes_per_write_xact": round3(self.units as f64 / write_xacts.max(1) as f64),
            "cpu": self.cpu.report(self.units, "write"),
            "projection": {
                "instances_bound_writes_per_sec": servers.round(),
                "postgres_bound_writes_per_sec": pg.round(),
                "projected_writes_per_sec": servers.min(pg).round(),
            },
        })
    }
}

/// The running instances and what is sampled.
struct Bench {
    ports: Vec<u16>,
    token: String,
    db_url: String,
    servers: Vec<u32>,
    postmaster: u32,
}

impl Bench {
    fn ports(&self, layout: Layout) -> &[u16] {
        &self.ports[..if layout == Layout::One { 1 } else { 2 }]
    }

    fn sample(&self) -> Sample {
        let mut postgres = HashMap::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Ok(pid) = name.parse::<u32>()
                && let Some((ppid, ticks)) = proc_stat(&name)
                && (pid == self.postmaster || ppid == self.postmaster)
            {
                postgres.insert(pid, ticks);
            }
        }
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let fields = stat.lines().next().unwrap_or("").split_whitespace().skip(1);
        let cpu: Vec<u64> = fields
            .map(|f| f.parse().unwrap_or(0))
            .chain([0; 8])
            .collect();
        // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
        let busy = cpu[..8].iter().sum::<u64>() - cpu[3] - cpu[4];
        let servers = self.servers.iter().map(|p| proc_stat(&p.to_string()));
        Sample {
            at: Instant::now(),
            servers: servers.map(|s| s.map_or(0, |s| s.1)).collect(),
            postgres,
            bench: proc_stat("self").map_or(0, |s| s.1),
            machine: busy,
        }
    }
}

fn runtime() -> BenchResult<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_current_thread();
    Ok(builder.enable_all().build()?)
}

/// `fut`'s outcome, or an error after `CALL_DEADLINE`: no wait of the bench is unbounded.
async fn within<T, E>(what: &str, fut: impl Future<Output = Result<T, E>>) -> BenchResult<T>
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match tokio::time::timeout(CALL_DEADLINE, fut).await {
        Ok(outcome) => outcome.map_err(Into::into),
        Err(_) => Err(format!("{what} took over 10 s").into()),
    }
}

async fn call(client: &mut AsyncRpcClient, body: &str) -> BenchResult<()> {
    match within("a call", client.call(body)).await? {
        200 => Ok(()),
        status => Err(format!("HTTP {status}").into()),
    }
}

/// The next transaction id of the cluster: the difference over a window counts the transactions
/// that wrote (the servers' write calls and their NOTIFYs); reading it assigns none.
async fn next_xid(pg: &mut PgConnection) -> BenchResult<i64> {
    let sql = "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint";
    let read = sqlx::query_scalar(sql).fetch_one(pg);
    within("reading the next xid", read).await
}

/// One client of the write load: random streams until `deadline`; returns the latencies (ms).
async fn write_client(
    mut client: AsyncRpcClient,
    c: usize,
    layout: Layout,
    deadline: Instant,
) -> BenchResult<Vec<f64>> {
    // xorshift: the streams need only be spread, not unpredictable.
    let (mut r, mut latencies) = ((c as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15), vec![]);
    while Instant::now() < deadline {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        let category = match layout {
            // Client c writes through instance c % 2: categories 0 and 2 there, 1 and 3 on the other.
            Layout::TwoDisjoint => r % (CATEGORIES / 2) * 2 + c as u64 % 2,
            _ => r % CATEGORIES,
        };
        let (id, n) = ((r >> 8) % 1000, latencies.len());
        let body = format!(
            r#"["stream.write","so{category}-{id}",{{"type":"Wrote","data":{{"n":{n}}}}}]"#
        );
        let t0 = Instant::now();
        call(&mut client, &body).await?;
        latencies.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    Ok(latencies)
}

/// One write window: `CLIENTS` clients over the layout's instances, on a thread of their own.
fn write_window(b: &Bench, layout: Layout, window: Duration, runs: &mut Runs) -> BenchResult<()> {
    let ports = b.ports(layout);
    let generator = || -> BenchResult<_> {
        runtime()?.block_on(async {
            let mut pg = within("connecting", PgConnection::connect(&b.db_url)).await?;
            // Counts the servers' NOTIFYs: each is a transaction of its own.
            let mut listener = within("connecting", PgListener::connect(&b.db_url)).await?;
            within("LISTEN", listener.listen("messagedb")).await?;
            let notified = Arc::new(AtomicI64::new(0));
            let count = notified.clone();
            let counter = tokio::spawn(async move {
                while listener.recv().await.is_ok() {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            });
            let mut clients = Vec::new();
            for c in 0..CLIENTS {
                let connect = AsyncRpcClient::connect(ports[c % ports.len()], &b.token);
                clients.push(within("connecting", connect).await?);
            }
            let (before, xid) = (b.sample(), next_xid(&mut pg).await?);
            let notifies = notified.load(Ordering::Relaxed);
            let deadline = Instant::now() + window;
            let tasks: Vec<_> = (clients.into_iter().enumerate())
                .map(|(c, client)| tokio::spawn(write_client(client, c, layout, deadline)))
                .collect();
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await.map_err(|_| "a client task panicked")??);
            }
            let (after, xids) = (b.sample(), next_xid(&mut pg).await? - xid);
            let notifies = notified.load(Ordering::Relaxed) - notifies;
            counter.abort();
            within("closing", pg.close()).await?;
            Ok((before, after, (xids, notifies), all))
        })
    };
    let generated = std::thread::scope(|s| s.spawn(generator).join());
    let (before, after, xids, latencies) = generated.map_err(|_| "the generator panicked")??;
    runs.cpu.add(&before, &after);
    let rate = latencies.len() as f64 / window.as_secs_f64();
    runs.rates.push(rate);
    runs.units += latencies.len();
    (runs.xids, runs.notifies) = (runs.xids + xids.0, runs.notifies + xids.1);
    runs.latencies.extend(latencies);
    Ok(())
}

fn scaleout_writes(b: &Bench, quick: bool) -> BenchResult<Value> {
    let (rounds, window) = if quick { (1, 2) } else { (5, 5) };
    let window = Duration::from_secs(window);
    // Warm both instances' pools and PostgreSQL's caches.
    write_window(b, Layout::Two, Duration::from_secs(1), &mut Runs::default())?;
    let layouts = [Layout::One, Layout::Two, Layout::TwoDisjoint];
    let mut runs: [Runs; 3] = Default::default();
    for round in 0..rounds {
        // Rotate which goes first.
        for step in 0..3 {
            let k = (round + step) % 3;
            write_window(b, layouts[k], window, &mut runs[k])?;
        }
    }
    let [one, two, disjoint] = &mut runs;
    let ratio = two.mean() / one.mean();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let busy = |c: &CpuUse| c.machine as f64 / CLK_TCK / c.secs >= 0.9 * cores;
    Ok(json!({
        "case": "scaleout_writes",
        "ours": format!("{CLIENTS} keep-alive clients, stream.write of one small message to random streams of {CATEGORIES} categories, split evenly across two messagedb serve instances on one PostgreSQL"),
        "baseline": "the same clients all on one instance (the second one idle)",
        "rounds": rounds,
        "window_s": window.as_secs(),
        "one_instance_writes_per_sec": one.mean().round(),
        "two_instances_writes_per_sec": two.mean().round(),
        "ratio": round3(ratio),
        "ratio_kind": "throughput",
        "target": ">= 1.5",
        "pass": ratio >= 1.5,
        "disjoint_ratio": round3(disjoint.mean() / one.mean()),
        "machine_cores": cores,
        "machine_cpu_bound": busy(&one.cpu) && busy(&two.cpu),
        "one_instance": one.write_summary(1.0),
        "two_instances": two.write_summary(2.0),
        "two_instances_disjoint": disjoint.write_summary(2.0),
        "two_instances_disjoint_is": "two instances, the clients of each writing only 2 of the 4 categories and the other's the other 2: no category lock is taken through both",
        "xids_are": "transaction ids assigned in the cluster during the windows: the servers' write transactions and their NOTIFYs (each pg_notify is a transaction with an xid and a commit of its own, counted by a LISTEN of the bench); write xacts = xids - notifies",
        "machine_rest_is": "machine busy minus the measured processes: other processes (another session's work) and kernel time charged to no process (softirq: loopback TCP)",
        "projection_method": format!("PROJECTED, not measured: from each configuration's CPU cost per write measured here (utime+stime ticks from /proc ÷ writes). n instances, each on a core of its own, serve at most n × 1e6 ÷ (server CPU-µs per write); PostgreSQL on {PG_CORES} cores of its own serves at most {PG_CORES} × 1e6 ÷ (postgres CPU-µs per write); projected = the smaller, with the load generator on other cores. Assumes the cost per write stays as measured and PostgreSQL scales linearly with cores; ignores fsync latency, lock waits and group-commit batch sizes, which change with load."),
    }))
}

/// Opens an SSE stream and returns a reader positioned after `: ready`.
async fn open_sse(port: u16, request: &str) -> BenchResult<AsyncBufReader<TcpStream>> {
    let mut socket = TcpStream::connect(("127.0.0.1", port)).await?;
    socket.set_nodelay(true)?;
    socket.write_all(request.as_bytes()).await?;
    let (mut reader, mut line) = (AsyncBufReader::new(socket), String::new());
    while !line.starts_with(": ready") {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Err("the SSE stream closed before `: ready`".into());
        }
    }
    Ok(reader)
}

/// `SUBSCRIBERS` subscriptions over `ports`, read on one thread; says on `ready` when all are
/// open, and returns when each had `n` pokes.
fn subscribers(ports: &[u16], req: &str, n: usize, ready: Sender<()>) -> BenchResult<Vec<Instant>> {
    runtime()?.block_on(async move {
        let (mut streams, opened) = (vec![], tokio::time::Instant::now() + LISTEN_DEADLINE);
        for i in 0..SUBSCRIBERS {
            let open = tokio::time::timeout_at(opened, open_sse(ports[i % ports.len()], req));
            let late = |_| "opening the SSE streams took over 30 s";
            streams.push(open.await.map_err(late)??);
        }
        let _ = ready.send(());
        let read = |mut reader: AsyncBufReader<TcpStream>| async move {
            let (mut seen, mut line) = (0, String::new());
            while seen < n {
                line.clear();
                if reader.read_line(&mut line).await? == 0 {
                    return Err("an SSE stream closed early".into());
                }
                seen += usize::from(line.starts_with("data: "));
            }
            BenchResult::Ok(Instant::now())
        };
        let tasks: Vec<_> = streams.into_iter().map(|s| tokio::spawn(read(s))).collect();
        let all = async {
            let mut done = Vec::new();
            for t in tasks {
                done.push(t.await.map_err(|_| "a subscriber task panicked")??);
            }
            BenchResult::Ok(done)
        };
        let all = tokio::time::timeout(DELIVERY_DEADLINE, all).await;
        all.map_err(|_| "a subscriber did not get every message within 60 s")?
    })
}

/// One fan-out burst of `n` messages to `category`, written through the first instance.
fn fanout(b: &Bench, layout: Layout, category: &str, n: usize, runs: &mut Runs) -> BenchResult<()> {
    let (ready_tx, ready_rx) = mpsc::channel();
    let token = &b.token;
    let req = format!(
        "GET /subscribe?category={category}&token={token} HTTP/1.1\r\nHost: localhost\r\n\r\n"
    );
    let ports = b.ports(layout).to_vec();
    let readers = std::thread::spawn(move || subscribers(&ports, &req, n, ready_tx));
    if ready_rx
        .recv_timeout(LISTEN_DEADLINE + CALL_DEADLINE)
        .is_err()
    {
        let failed = readers.join().map_err(|_| "the subscribers panicked")?;
        return Err(failed.err().unwrap_or_else(|| "not ready in time".into()));
    }
    let (before, start) = (b.sample(), Instant::now());
    let wrote = runtime()?.block_on(async {
        let mut client = within("connecting", AsyncRpcClient::connect(b.ports[0], token)).await?;
        let batch = vec![r#"{"type":"Fanned","data":{"n":1}}"#; BATCH].join(",");
        for i in 0..n / BATCH {
            let body = format!(r#"["stream.writeBatch","{category}-{i}",[{batch}]]"#);
            call(&mut client, &body).await?;
        }
        BenchResult::Ok(Instant::now())
    });
    let done = readers.join().map_err(|_| "the subscribers panicked")??;
    let (last, wrote) = (done.into_iter().max().ok_or("no subscribers")?, wrote?);
    runs.cpu.add(&before, &b.sample());
    let (pokes, secs) = (SUBSCRIBERS * n, (last - start).as_secs_f64());
    runs.rates.push(pokes as f64 / secs);
    runs.units += pokes;
    runs.latencies.push(round3((wrote - start).as_secs_f64()));
    let drain = last.saturating_duration_since(wrote).as_secs_f64();
    runs.drains.push(round3(drain * 1e3));
    Ok(())
}

fn scaleout_sse_fanout(b: &Bench, quick: bool) -> BenchResult<Value> {
    let (rounds, n) = if quick { (1, 1000) } else { (3, 10_000) };
    let mut runs: [Runs; 2] = Default::default();
    for round in 0..rounds {
        for step in 0..2 {
            let k = (round + step) % 2;
            let layout = [Layout::One, Layout::Two][k];
            fanout(b, layout, &format!("fan{round}x{k}"), n, &mut runs[k])?;
        }
    }
    let [one, two] = &runs;
    let ratio = two.mean() / one.mean();
    let summary = |r: &Runs| {
        json!({
            "pokes_per_sec": r.mean().round(),
            "rounds_pokes_per_sec": r.rates.iter().map(|r| r.round()).collect::<Vec<_>>(),
            "writer_seconds": r.latencies,
            "last_poke_after_last_write_ms": r.drains,
            "cpu": r.cpu.report(r.units, "poke"),
        })
    };
    Ok(json!({
        "case": "scaleout_sse_fanout",
        "ours": format!("{SUBSCRIBERS} /subscribe?category streams split evenly across two instances; one writer writes {n} messages (stream.writeBatch of {BATCH}) through the first; the second learns of them through LISTEN/NOTIFY and reads them from PostgreSQL"),
        "baseline": "the same subscribers all on one instance",
        "rounds": rounds,
        "one_instance_pokes_per_sec": one.mean().round(),
        "two_instances_pokes_per_sec": two.mean().round(),
        "ratio": round3(ratio),
        "ratio_kind": "throughput (pokes delivered over all subscribers, from the first write until every subscriber has every message)",
        "target": ">= 1.5",
        "pass": ratio >= 1.5,
        "one_instance": summary(one),
        "two_instances": summary(two),
    }))
}

fn admin_sql(rt: &tokio::runtime::Runtime, pg_url: &str, sql: String) -> BenchResult<()> {
    rt.block_on(within("PostgreSQL administration", async {
        let mut admin = PgConnection::connect(pg_url).await?;
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut admin)
            .await?;
        BenchResult::Ok(admin.close().await?)
    }))
}

fn main() -> BenchResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        let at = args.iter().position(|a| a == name);
        at.and_then(|i| args.get(i + 1)).cloned()
    };
    let quick = args.iter().any(|a| a == "--quick");
    let env_url = std::env::var("MESSAGEDB_TEST_PG_URL").ok();
    let usage = "usage: messagedb-bench-scaleout --pg-url postgres://… [--pg-data DIR] [--quick]";
    let pg_url = flag("--pg-url").or(env_url).ok_or(usage)?;
    // The postmaster's pid, from the cluster's data directory.
    let env_dir = std::env::var("MESSAGEDB_TEST_PG_DIR").map(|d| format!("{d}/data"));
    let dir = flag("--pg-data")
        .or(env_dir.ok())
        .ok_or("--pg-data DIR is required")?;
    let pid = std::fs::read_to_string(format!("{dir}/postmaster.pid"))?;
    let postmaster: u32 = pid.lines().next().unwrap_or("").trim().parse()?;
    // The same server and options, a fresh database per run.
    let database = format!("mdb_scaleout_{}", std::process::id());
    let (base, query) = pg_url.split_once('?').unwrap_or((&pg_url, ""));
    let scheme = base.find("://").ok_or("--pg-url must be postgres://…")? + 3;
    let path = base[scheme..].find('/').map_or(base.len(), |i| scheme + i);
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    let db_url = format!("{}/{database}{query}", &base[..path]);
    let rt = runtime()?;
    admin_sql(&rt, &pg_url, format!("CREATE DATABASE \"{database}\""))?;
    let outcome = (|| -> BenchResult<()> {
        let token = messagedb::token::generate_token(messagedb::DEFAULT_NAMESPACE);
        // One after the other: the first creates the schema, the second finds it.
        let first = Server::spawn(&db_url, &token)?;
        let second = Server::spawn(&db_url, &token)?;
        let bench = Bench {
            ports: vec![first.port, second.port],
            servers: vec![first.child.id(), second.child.id()],
            token,
            db_url: db_url.clone(),
            postmaster,
        };
        for case in [scaleout_writes, scaleout_sse_fanout] {
            let line = case(&bench, quick)?;
            println!("{line}");
            eprintln!("{line}");
        }
        Ok(())
    })();
    // The servers are stopped (dropped) by now, on success and failure alike.
    let drop = format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
    admin_sql(&rt, &pg_url, drop)?;
    outcome
}
