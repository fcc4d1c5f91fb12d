//! The shared harness of the process-level server tests (`crash.rs`, `multi_instance.rs`): real
//! `messagedb serve` processes (spawned, their port read from stdout, killed with SIGKILL, always
//! reaped), a tiny HTTP/1.1 client over raw TCP (`/rpc` JSON calls, `/subscribe` Server-Sent
//! Events, `/import` NDJSON), and throwaway PostgreSQL databases. Every wait has a deadline.
#![allow(dead_code)]

use std::future::Future;
use std::io::{self, BufRead};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::{Connection, Executor, PgConnection};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

mod http;
pub use http::*;

/// The longest any one HTTP call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a server may take to print `listening on`.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The well-known token of the `default` namespace (wire-protocol.md §5): `ns_`, base64url of
/// `default` without padding, `_`, 64 hex digits.
pub fn admin_token() -> String {
    format!("ns_{}_{}", base64url("default"), "0".repeat(64))
}

/// Base64url without padding (RFC 4648 §5), as tokens spell their namespace.
pub fn base64url(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Runs a whole test body under a deadline: on timeout the future (and every process guard it
/// holds) is dropped and the test fails.
pub async fn bounded<F: Future>(limit: Duration, what: &str, body: F) -> F::Output {
    match tokio::time::timeout(limit, body).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: did not finish within {limit:?}"),
    }
}

/// Polls `condition` every few milliseconds until it holds; fails the test after `limit`.
pub async fn wait_until(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A fresh UUID (v7) as text, for explicit message ids.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

// ---------------------------------------------------------------------------------------------
// Storage.

/// The URL of the PostgreSQL server to test on; the test fails (never skips) without one.
pub fn pg_server_url() -> String {
    std::env::var("MESSAGEDB_TEST_PG_URL").expect(
        "MESSAGEDB_TEST_PG_URL must name a PostgreSQL server (superuser URL) to test on; \
         scripts/test.sh starts a throwaway cluster and sets it. This test does not skip.",
    )
}

/// A database of its own on the test PostgreSQL server, dropped (with its connections) when
/// this value is dropped, even when the test panics.
pub struct TestDb {
    /// The URL of the new database.
    pub url: String,
    name: String,
    server: String,
}

impl TestDb {
    /// `CREATE DATABASE messagedb_<unique>` on the server of `MESSAGEDB_TEST_PG_URL`.
    pub async fn create() -> TestDb {
        let server = pg_server_url();
        let name = format!("messagedb_{}", uuid::Uuid::now_v7().simple());
        let mut admin = tokio::time::timeout(CALL_TIMEOUT, PgConnection::connect(&server))
            .await
            .expect("connecting to MESSAGEDB_TEST_PG_URL timed out")
            .unwrap_or_else(|e| panic!("cannot connect to MESSAGEDB_TEST_PG_URL: {e}"));
        tokio::time::timeout(
            CALL_TIMEOUT,
            admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))),
        )
        .await
        .expect("CREATE DATABASE timed out")
        .expect("create a test database");
        let _ = admin.close().await;
        // The same server, the new database (the URL's last path segment names the database).
        let (root, rest) = server.rsplit_once('/').expect("a URL with a database");
        let query = rest
            .split_once('?')
            .map_or(String::new(), |(_, q)| format!("?{q}"));
        let url = format!("{root}/{name}{query}");
        TestDb { url, name, server }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime: drop the database from a thread with a runtime
        // of its own, and wait for it a bounded time.
        let (server, name) = (self.server.clone(), self.name.clone());
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            let result = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|rt| {
                    rt.block_on(async {
                        let mut admin = PgConnection::connect(&server)
                            .await
                            .map_err(|e| e.to_string())?;
                        admin
                            .execute(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .await
                            .map_err(|e| e.to_string())?;
                        let _ = admin.close().await;
                        Ok(())
                    })
                });
            let _ = done.send(result);
        });
        match finished.recv_timeout(Duration::from_secs(20)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: cannot drop test database {}: {e}", self.name),
            Err(_) => eprintln!("warning: dropping test database {} timed out", self.name),
        }
    }
}

/// Where a server keeps its data: a SQLite directory or a PostgreSQL database.
pub enum Storage {
    /// `--data-dir` in a temporary directory (SQLite files).
    Sqlite(tempfile::TempDir),
    /// `--db-url` of a throwaway database.
    Postgres(TestDb),
}

impl Storage {
    /// A fresh SQLite data directory.
    pub fn sqlite() -> Storage {
        Storage::Sqlite(tempfile::tempdir().expect("a temporary directory"))
    }

    /// A fresh PostgreSQL database.
    pub async fn postgres() -> Storage {
        Storage::Postgres(TestDb::create().await)
    }

    /// The `messagedb serve` flags that select this storage.
    pub fn args(&self) -> Vec<String> {
        match self {
            Storage::Sqlite(dir) => vec![
                "--data-dir".into(),
                dir.path().to_str().expect("a UTF-8 path").into(),
            ],
            Storage::Postgres(db) => vec!["--db-url".into(), db.url.clone()],
        }
    }

    /// The store URL of this storage (`sqlite://<dir>` or the database's URL).
    pub fn url(&self) -> String {
        match self {
            Storage::Sqlite(dir) => format!("sqlite://{}", dir.path().display()),
            Storage::Postgres(db) => db.url.clone(),
        }
    }

    /// `sqlite` or `postgres`, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Storage::Sqlite(_) => "sqlite",
            Storage::Postgres(_) => "postgres",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Server processes.

/// One `messagedb serve` process (and, after `restart`, its successors on the same data). The
/// process is killed (SIGKILL) and reaped when this is dropped, also on panic; on panic the
/// tail of its output is printed.
pub struct Server {
    /// A name for messages (`s1`, `crash`, …).
    pub name: String,
    /// The port the current process listens on.
    pub port: u16,
    args: Vec<String>,
    child: Option<Child>,
    generation: usize,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Spawns `messagedb serve --port 0 --token <admin> <storage flags>` and waits (bounded) for
    /// its `listening on http://<addr>:<port>` line.
    pub async fn start(name: &str, storage: &Storage) -> Server {
        Server::start_with_token(name, storage, &admin_token()).await
    }

    /// [`Server::start`] with another admin token (`--token`).
    pub async fn start_with_token(name: &str, storage: &Storage, token: &str) -> Server {
        let mut args: Vec<String> = vec![
            "serve".into(),
            "--port".into(),
            "0".into(),
            "--token".into(),
            token.into(),
        ];
        args.extend(storage.args());
        let mut server = Server {
            name: name.into(),
            port: 0,
            args,
            child: None,
            generation: 0,
            log: Arc::new(Mutex::new(Vec::new())),
        };
        server.spawn().await;
        server
    }

    async fn spawn(&mut self) {
        self.generation += 1;
        let tag = format!("{}#{}", self.name, self.generation);
        let mut command = Command::new(env!("CARGO_BIN_EXE_messagedb"));
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Only the flags given here configure the server, not the environment of the test.
        for (key, _) in std::env::vars() {
            if key.starts_with("MESSAGEDB_") || key.starts_with("EVENTODB_") {
                command.env_remove(key);
            }
        }
        let mut child = command.spawn().expect("spawn the messagedb binary");
        let (port_tx, port_rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let (log, out_tag) = (self.log.clone(), tag.clone());
        std::thread::spawn(move || {
            for line in io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("listening on ") {
                    let port = url.rsplit(':').next().and_then(|p| p.trim().parse().ok());
                    let _ = port_tx.send(port);
                }
                push(&log, format!("[{out_tag} stdout] {line}"));
            }
        });
        let (log, err_tag) = (self.log.clone(), tag.clone());
        std::thread::spawn(move || {
            for line in io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                push(&log, format!("[{err_tag} stderr] {line}"));
            }
        });
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match port_rx.try_recv() {
                Ok(Some(port)) => {
                    self.port = port;
                    return;
                }
                Ok(None) => panic!(
                    "{tag}: cannot parse the port of its `listening on` line\n{}",
                    self.output()
                ),
                Err(mpsc::TryRecvError::Empty) => {}
                Err(mpsc::TryRecvError::Disconnected) => {
                    // Stdout closed: let stderr drain a moment for the message.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    panic!(
                        "{tag}: stdout closed before `listening on`\n{}",
                        self.output()
                    );
                }
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
                panic!(
                    "{tag}: exited ({status}) before `listening on`\n{}",
                    self.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{tag}: no `listening on` within {START_TIMEOUT:?}\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// `kill -9` (SIGKILL) and reap the current process. Idempotent.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the current process with SIGKILL and starts a new one on the same data; `port` is
    /// the new port.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    /// Everything the processes printed so far (stdout and stderr, tagged).
    pub fn output(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .join("\n")
    }

    /// The last `n` lines of output.
    pub fn tail(&self, n: usize) -> String {
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log[log.len().saturating_sub(n)..].join("\n")
    }

    /// A keep-alive RPC client of this server's current process.
    pub fn client(&self, token: &str) -> Client {
        Client::new(self.port, token)
    }
}

fn push(log: &Mutex<Vec<String>>, line: String) {
    log.lock().unwrap_or_else(|p| p.into_inner()).push(line);
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "---- last output of server {} ----\n{}\n----",
                self.name,
                self.tail(80)
            );
        }
    }
}
