//! `messagedb-bench-server`: the server's benchmarks, each beside its baseline in one run.
//!
//! ```text
//! cargo build --release -p messagedb-server -p messagedb-bench
//! target/release/messagedb-bench-server [--quick]
//! target/release/messagedb-bench-server --load PORT   # only the rpc_mix load, on a running server
//! ```
//!
//! - `rpc_mix_10_clients`: 10 concurrent HTTP clients (keep-alive, loopback) doing 90% `stream.write`
//!   / 10% `stream.get` of 10 against the in-process server on SQLite in memory, beside the same
//!   workload called in-process on the core by 10 tasks. Target: server throughput ≥ 50% of core.
//!   Beside them, two bounds from the same clients: a server that answers `{}` at once (the
//!   loopback floor) and a bare HTTP server that makes the same store calls with no routing, JSON
//!   or encoding (the most any HTTP server doing this work reaches on this machine).
//! - `sse_poke_latency_100_subscribers`: 100 open `/subscribe` streams; time from a write's
//!   acknowledgement to each subscriber's poke. Beside it: the same through core subscriptions.
//!   Target: p99 ≤ 5 ms.
//! - `sse_idle_memory_1000`: the `messagedb` binary (next to this one) with 1,000 idle SSE
//!   subscriptions; resident memory growth against the same server before they opened.
//!   Target: < 50 MB.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use messagedb::{GetStreamOpts, Namespace, NewMessage, Store, SubscribeOpts, WriteOpts};
use messagedb_server::{ServeConfig, start};
use serde_json::json;

#[path = "../http.rs"]
mod http;

use http::{AsyncRpcClient, BenchResult, Header, RpcClient, header, percentile};

fn emit(line: serde_json::Value) {
    println!("{line}");
    eprintln!("{line}");
}

/// 10 clients, 90% writes / 10% reads of 10, for `window`; returns operations per second. The
/// clients run on one thread of their own (a current-thread runtime), apart from the server's.
fn http_mix(port: u16, token: &str, window: Duration) -> BenchResult<f64> {
    let token = token.to_string();
    let generator = std::thread::spawn(move || -> BenchResult<usize> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async move {
            let deadline = Instant::now() + window;
            let clients: Vec<_> = (0..10)
                .map(|c| {
                    let token = token.clone();
                    tokio::spawn(async move {
                        let mut client = AsyncRpcClient::connect(port, &token).await?;
                        let mut n = 0usize;
                        while Instant::now() < deadline {
                            let body = if n % 10 == 9 {
                                json!(["stream.get", format!("mix{c}-1"), {"batchSize": 10}]).to_string()
                            } else {
                                json!(["stream.write", format!("mix{c}-1"), {"type": "Mixed", "data": {"n": n}}]).to_string()
                            };
                            let status = client.call(&body).await?;
                            if status != 200 {
                                return Err(format!("HTTP {status}").into());
                            }
                            n += 1;
                        }
                        BenchResult::Ok(n)
                    })
                })
                .collect();
            let mut total = 0;
            for c in clients {
                total += c.await.map_err(|_| "client task panicked")??;
            }
            Ok(total)
        })
    });
    let total = generator.join().map_err(|_| "load generator panicked")??;
    Ok(total as f64 / window.as_secs_f64())
}

/// A bare HTTP server on the bench's runtime: it reads each request with the least parsing that
/// works (request line and headers skipped, `Content-Length` kept), and answers `{}` at once.
///
/// With no namespace it does nothing else: the throughput floor of HTTP over loopback on this
/// machine. With a namespace it also makes the request's store call (a `stream.get` of 10 when the
/// body names that method, else a `stream.write`) through the core, with no routing, no JSON and no
/// encoding: the most any HTTP server doing this work could reach here. Returns its port.
async fn bare_server(ns: Option<Namespace>) -> BenchResult<u16> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        let mut connections = 0usize;
        while let Ok((socket, _)) = listener.accept().await {
            let _ = socket.set_nodelay(true);
            connections += 1;
            let stream_name = format!("bare{connections}-1");
            let ns = ns.clone();
            tokio::spawn(async move {
                let mut stream = tokio::io::BufReader::new(socket);
                let mut line = String::new();
                let mut n = 0usize;
                loop {
                    let mut length = 0usize;
                    loop {
                        line.clear();
                        match stream.read_line(&mut line).await {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                        match header(&line) {
                            Ok(Header::End) => break,
                            Ok(Header::Length(n)) => length = n,
                            _ => {}
                        }
                    }
                    let mut body = vec![0; length];
                    if stream.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    if let Some(ns) = &ns {
                        let done = if body.windows(10).any(|w| w == b"stream.get") {
                            let opts = GetStreamOpts::default().batch_size(10);
                            ns.get_stream(&stream_name, &opts).await.map(drop)
                        } else {
                            let m = NewMessage::new("Mixed", json!({"n": n})).expect("message");
                            ns.write(&stream_name, m, WriteOpts::default())
                                .await
                                .map(drop)
                        };
                        if done.is_err() {
                            return;
                        }
                        n += 1;
                    }
                    let answer = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
                    if stream.get_mut().write_all(answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(port)
}

/// The same mix called in-process on the core by 10 tasks.
async fn core_mix(store: &Store, window: Duration) -> f64 {
    let deadline = Instant::now() + window;
    let tasks: Vec<_> = (0..10)
        .map(|c| {
            let ns = store.namespace("default");
            tokio::spawn(async move {
                let stream = format!("core{c}-1");
                let mut n = 0usize;
                while Instant::now() < deadline {
                    if n % 10 == 9 {
                        let opts = GetStreamOpts::default().batch_size(10);
                        ns.get_stream(&stream, &opts).await.expect("read");
                    } else {
                        let m = NewMessage::new("Mixed", json!({"n": n})).expect("message");
                        ns.write(&stream, m, WriteOpts::default())
                            .await
                            .expect("write");
                    }
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap_or(0);
    }
    total as f64 / window.as_secs_f64()
}

fn rpc_mix(rt: &tokio::runtime::Runtime, quick: bool) -> BenchResult<()> {
    let window = Duration::from_secs_f64(if quick { 0.5 } else { 3.0 });
    let rounds = if quick { 1 } else { 3 };
    let server = rt.block_on(start(ServeConfig {
        port: 0,
        test_mode: true,
        ..ServeConfig::default()
    }))?;
    let store = rt.block_on(Store::open("sqlite::memory:"))?;
    let echo = rt.block_on(bare_server(None))?;
    let bare_store = rt.block_on(Store::open("sqlite::memory:"))?;
    let bare = rt.block_on(bare_server(Some(bare_store.namespace("default"))))?;
    let (mut http, mut core, mut floor, mut ideal) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        // Rotate which goes first.
        for step in 0..4 {
            match (round + step) % 4 {
                0 => http.push(http_mix(server.port, &server.token, window)?),
                1 => core.push(rt.block_on(core_mix(&store, window))),
                2 => ideal.push(http_mix(bare, &server.token, window)?),
                _ => floor.push(http_mix(echo, &server.token, window)?),
            }
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / rounds as f64;
    let (h, c, f, b) = (mean(&http), mean(&core), mean(&floor), mean(&ideal));
    emit(json!({
        "case": "rpc_mix_10_clients",
        "ours": "HTTP /rpc, 10 keep-alive clients, 90% stream.write / 10% stream.get 10, SQLite in memory",
        "baseline": "the same calls in-process on the core, 10 tasks",
        "ours_ops_per_sec": h.round(),
        "baseline_ops_per_sec": c.round(),
        "ratio": (h / c * 1000.0).round() / 1000.0,
        "ratio_kind": "throughput",
        "target": ">= 0.5",
        "pass": h / c >= 0.5,
        "loopback_floor_ops_per_sec": f.round(),
        "loopback_floor": "the same clients against a server that reads each request and answers {} at once (no routing, no JSON, no store): what the loopback and the machine's cores allow",
        "bare_server_ops_per_sec": b.round(),
        "bare_server_ratio": (b / c * 1000.0).round() / 1000.0,
        "bare_server": "the same clients against the least HTTP server that makes the same store calls (minimal parsing, no routing, no JSON, answers {}): the most any HTTP server doing this work reaches here",
        "ours_of_bare": (h / b * 1000.0).round() / 1000.0,
    }));
    rt.block_on(bare_store.close());
    rt.block_on(server.stop(Duration::from_millis(200)));
    Ok(())
}

/// Opens an SSE stream and returns a reader positioned after `: ready`.
fn open_sse(port: u16, token: &str, query: &str) -> BenchResult<BufReader<TcpStream>> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_nodelay(true)?;
    write!(
        stream,
        "GET /subscribe?{query}&token={token} HTTP/1.1\r\nHost: localhost\r\n\r\n"
    )?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err("the SSE stream closed before `: ready`".into());
        }
        if line.starts_with(": ready") {
            return Ok(reader);
        }
    }
}

fn sse_latency(rt: &tokio::runtime::Runtime, quick: bool) -> BenchResult<()> {
    let subscribers = 100;
    let writes = if quick { 20 } else { 200 };
    let server = rt.block_on(start(ServeConfig {
        port: 0,
        test_mode: true,
        ..ServeConfig::default()
    }))?;
    // gp → acknowledgement time; every poke's arrival is compared with it.
    let acks: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; writes + 2]));
    let arrivals: Arc<Mutex<Vec<(usize, Instant)>>> = Arc::new(Mutex::new(Vec::new()));
    let readers: Vec<_> = (0..subscribers)
        .map(|_| -> BenchResult<_> {
            let mut reader = open_sse(server.port, &server.token, "category=lat")?;
            let arrivals = arrivals.clone();
            Ok(std::thread::spawn(move || {
                let mut seen = 0;
                let mut line = String::new();
                while seen < writes {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if let Some(data) = line.strip_prefix("data: ") {
                        let now = Instant::now();
                        let v: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
                        let gp = v["globalPosition"].as_u64().unwrap_or(0) as usize;
                        arrivals
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((gp, now));
                        seen += 1;
                    }
                }
            }))
        })
        .collect::<BenchResult<_>>()?;
    let mut client = RpcClient::connect(server.port, &server.token)?;
    for i in 0..writes {
        let body = json!(["stream.write", "lat-1", {"type": "Ping", "data": {"i": i}}]).to_string();
        let (status, reply) = client.call(&body)?;
        let now = Instant::now();
        if status != 200 {
            return Err(format!("HTTP {status}: {reply}").into());
        }
        let gp = serde_json::from_str::<serde_json::Value>(&reply)?["globalPosition"]
            .as_u64()
            .unwrap_or(0) as usize;
        if let Some(slot) = acks.lock().unwrap_or_else(|p| p.into_inner()).get_mut(gp) {
            *slot = Some(now);
        }
        // Paced like a real producer, so each poke is measured alone.
        std::thread::sleep(Duration::from_millis(5));
    }
    for r in readers {
        let _ = r.join();
    }
    let acks = acks.lock().unwrap_or_else(|p| p.into_inner());
    let mut latencies: Vec<f64> = arrivals
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter_map(|(gp, at)| {
            acks.get(*gp)
                .copied()
                .flatten()
                .map(|ack| at.saturating_duration_since(ack).as_secs_f64() * 1e3)
        })
        .collect();
    let delivered = latencies.len();
    let (p50, p99) = (
        percentile(&mut latencies, 0.5),
        percentile(&mut latencies, 0.99),
    );

    // Baseline: the same writes and 100 subscriptions through the core in-process.
    let core_ms = rt.block_on(async {
        let store = Store::open("sqlite::memory:").await.expect("store");
        let ns = store.namespace("default");
        let done = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for _ in 0..subscribers {
            let mut sub = ns
                .subscribe(SubscribeOpts::category("lat"))
                .await
                .expect("subscribe");
            let done = done.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..writes {
                    if let Some(Ok(m)) = sub.next().await {
                        done.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((m.global_position, Instant::now()));
                    }
                }
            }));
        }
        let mut acks = vec![None; writes + 2];
        for i in 0..writes {
            let w = ns
                .write(
                    "lat-1",
                    NewMessage::new("Ping", json!({"i": i})).expect("m"),
                    WriteOpts::default(),
                )
                .await
                .expect("write");
            acks[w.global_position as usize] = Some(Instant::now());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        for t in tasks {
            let _ = t.await;
        }
        let mut ms: Vec<f64> = done
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter_map(|(gp, at)| {
                acks[*gp as usize]
                    .map(|a: Instant| at.saturating_duration_since(a).as_secs_f64() * 1e3)
            })
            .collect();
        percentile(&mut ms, 0.99)
    });
    emit(json!({
        "case": "sse_poke_latency_100_subscribers",
        "ours": format!("{subscribers} /subscribe streams, {writes} writes over HTTP, poke arrival after the write's acknowledgement"),
        "baseline": "the same through 100 core subscriptions in-process",
        "pokes_delivered": delivered,
        "pokes_expected": subscribers * writes,
        "ours_p50_ms": (p50 * 1000.0).round() / 1000.0,
        "ours_p99_ms": (p99 * 1000.0).round() / 1000.0,
        "baseline_p99_ms": (core_ms * 1000.0).round() / 1000.0,
        "target": "p99 <= 5 ms",
        "pass": p99 <= 5.0 && delivered == subscribers * writes,
    }));
    rt.block_on(server.stop(Duration::from_millis(200)));
    Ok(())
}

fn rss_kb(pid: u32) -> BenchResult<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .ok_or("no VmRSS")?;
    Ok(line.split_whitespace().nth(1).ok_or("bad VmRSS")?.parse()?)
}

fn sse_memory(quick: bool) -> BenchResult<()> {
    let count = if quick { 200 } else { 1000 };
    let binary = std::env::var("MESSAGEDB_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::env::current_exe()
                .unwrap_or_default()
                .with_file_name("messagedb")
        });
    let mut child = std::process::Command::new(&binary)
        .args(["serve", "--port=0", "--test-mode", "--log-level=warn"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "{}: {e} (build it with cargo build --release -p messagedb-server)",
                binary.display()
            )
        })?;
    let mut out = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let mut port = 0u16;
    let mut line = String::new();
    while out.read_line(&mut line)? > 0 {
        if let Some(url) = line.trim().strip_prefix("listening on ") {
            port = url.rsplit(':').next().unwrap_or("0").parse()?;
            break;
        }
        line.clear();
    }
    let token = messagedb::token::DEFAULT_TEST_TOKEN;
    // Warm the server up with one subscription and one write, so the baseline includes the
    // runtime's threads and buffers.
    drop(open_sse(port, token, "all=true")?);
    RpcClient::connect(port, token)?
        .call(&json!(["stream.write", "warm-1", {"type": "W", "data": {}}]).to_string())?;
    std::thread::sleep(Duration::from_millis(200));
    let before = rss_kb(child.id())?;
    let streams: Vec<_> = (0..count)
        .map(|i| open_sse(port, token, &format!("stream=idle-{i}")))
        .collect::<BenchResult<_>>()?;
    std::thread::sleep(Duration::from_millis(200));
    let after = rss_kb(child.id())?;
    drop(streams);
    let _ = child.kill();
    let _ = child.wait();
    let grown_mb = (after.saturating_sub(before)) as f64 / 1024.0;
    emit(json!({
        "case": format!("sse_idle_memory_{count}"),
        "ours": format!("messagedb serve --test-mode with {count} idle /subscribe streams"),
        "baseline": "the same server before they opened",
        "baseline_rss_mb": (before as f64 / 1024.0 * 10.0).round() / 10.0,
        "ours_rss_mb": (after as f64 / 1024.0 * 10.0).round() / 10.0,
        "grown_mb": (grown_mb * 10.0).round() / 10.0,
        "per_subscription_kb": ((after.saturating_sub(before)) as f64 / count as f64 * 10.0).round() / 10.0,
        "target": "< 50 MB for 1000",
        "pass": (grown_mb * 1000.0 / (count as f64)) < 50.0,
    }));
    Ok(())
}

fn main() -> BenchResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    // `--load PORT`: only the load generator, against a server started elsewhere (the test token).
    if let Some(port) = args
        .iter()
        .position(|a| a == "--load")
        .and_then(|i| args.get(i + 1))
    {
        let ops = http_mix(
            port.parse()?,
            messagedb::token::DEFAULT_TEST_TOKEN,
            Duration::from_secs(3),
        )?;
        emit(json!({"case": "rpc_mix_10_clients_external", "ops_per_sec": ops.round()}));
        return Ok(());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rpc_mix(&rt, quick)?;
    sse_latency(&rt, quick)?;
    sse_memory(quick)?;
    Ok(())
}
