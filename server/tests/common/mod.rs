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

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 over raw TCP.

/// A whole HTTP response.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON, or as a JSON string when it is not JSON.
    pub fn json(&self) -> Value {
        to_json(&self.body)
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

fn to_json(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

type Conn = BufReader<TcpStream>;

async fn connect(port: u16) -> io::Result<Conn> {
    let stream = tokio::time::timeout(
        Duration::from_secs(5),
        TcpStream::connect(("127.0.0.1", port)),
    )
    .await
    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
    stream.set_nodelay(true)?;
    Ok(BufReader::new(stream))
}

async fn read_head(conn: &mut Conn) -> io::Result<(u16, Vec<(String, String)>)> {
    let mut line = String::new();
    if conn.read_line(&mut line).await? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the connection closed before a response",
        ));
    }
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if conn.read_line(&mut line).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection closed in the headers",
            ));
        }
        let h = line.trim_end();
        if h.is_empty() {
            return Ok((status, headers));
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
}

fn is_chunked(headers: &[(String, String)]) -> bool {
    header(headers, "transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
}

/// One chunk of a chunked body; `None` at the last (empty) chunk.
async fn read_chunk(conn: &mut Conn) -> io::Result<Option<Vec<u8>>> {
    let mut line = String::new();
    if conn.read_line(&mut line).await? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the connection closed in a chunked body",
        ));
    }
    let size_text = line.trim().split(';').next().unwrap_or("").trim();
    let size = usize::from_str_radix(size_text, 16)
        .map_err(|_| io::Error::other(format!("bad chunk size line {line:?}")))?;
    if size == 0 {
        // Trailers, up to the blank line.
        loop {
            line.clear();
            if conn.read_line(&mut line).await? == 0 || line.trim_end().is_empty() {
                return Ok(None);
            }
        }
    }
    let mut data = vec![0; size];
    conn.read_exact(&mut data).await?;
    let mut crlf = [0; 2];
    conn.read_exact(&mut crlf).await?;
    Ok(Some(data))
}

async fn read_body(conn: &mut Conn, headers: &[(String, String)]) -> io::Result<Vec<u8>> {
    if is_chunked(headers) {
        let mut body = Vec::new();
        while let Some(chunk) = read_chunk(conn).await? {
            body.extend_from_slice(&chunk);
        }
        return Ok(body);
    }
    if let Some(length) = header(headers, "content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| io::Error::other("bad content-length"))?;
        let mut body = vec![0; length];
        conn.read_exact(&mut body).await?;
        return Ok(body);
    }
    let mut body = Vec::new();
    conn.read_to_end(&mut body).await?;
    Ok(body)
}

fn request_bytes(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    close: bool,
) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    if method != "GET" || !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A failed call: `sent` is false only when no connection could be made, so the request
/// certainly never reached the server; otherwise its outcome is unknown.
#[derive(Debug)]
pub struct CallError {
    /// Whether the request may have reached the server.
    pub sent: bool,
    /// What went wrong.
    pub message: String,
}

/// One keep-alive HTTP/1.1 connection for `/rpc` calls with one token; reconnects after an error.
pub struct Client {
    /// The server's port.
    pub port: u16,
    token: String,
    conn: Option<Conn>,
}

impl Client {
    /// A client of the server on `port` (connects on first use).
    pub fn new(port: u16, token: &str) -> Client {
        Client {
            port,
            token: token.into(),
            conn: None,
        }
    }

    /// One RPC call: status and JSON body, or a transport error (within `CALL_TIMEOUT`).
    pub async fn try_rpc(&mut self, body: &Value) -> Result<(u16, Value), CallError> {
        match tokio::time::timeout(CALL_TIMEOUT, self.call(body)).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) => {
                self.conn = None;
                Err(e)
            }
            Err(_) => {
                self.conn = None;
                Err(CallError {
                    sent: true,
                    message: format!("no answer within {CALL_TIMEOUT:?}"),
                })
            }
        }
    }

    /// One RPC call; a transport error fails the test.
    pub async fn rpc(&mut self, body: Value) -> (u16, Value) {
        self.try_rpc(&body)
            .await
            .unwrap_or_else(|e| panic!("RPC {body} to port {}: {}", self.port, e.message))
    }

    async fn call(&mut self, body: &Value) -> Result<(u16, Value), CallError> {
        if self.conn.is_none() {
            self.conn = Some(connect(self.port).await.map_err(|e| CallError {
                sent: false,
                message: format!("connect: {e}"),
            })?);
        }
        let conn = self.conn.as_mut().expect("connected");
        let unknown = |e: io::Error| CallError {
            sent: true,
            message: e.to_string(),
        };
        let auth = format!("Bearer {}", self.token);
        let request = request_bytes(
            "POST",
            "/rpc",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            body.to_string().as_bytes(),
            false,
        );
        conn.get_mut().write_all(&request).await.map_err(unknown)?;
        let (status, headers) = read_head(conn).await.map_err(unknown)?;
        let body = read_body(conn, &headers).await.map_err(unknown)?;
        if header(&headers, "connection").is_some_and(|c| c.eq_ignore_ascii_case("close")) {
            self.conn = None;
        }
        Ok((status, to_json(&body)))
    }
}

/// One request on a connection of its own (`Connection: close`), the whole response read
/// within `CALL_TIMEOUT`; a transport error fails the test.
pub async fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let exchange = async {
        let mut conn = connect(port).await?;
        conn.get_mut()
            .write_all(&request_bytes(method, path, headers, body, true))
            .await?;
        let (status, headers) = read_head(&mut conn).await?;
        let body = read_body(&mut conn, &headers).await?;
        Ok::<_, io::Error>(Response {
            status,
            headers,
            body,
        })
    };
    match tokio::time::timeout(CALL_TIMEOUT, exchange).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => panic!("{method} {path} on port {port}: {e}"),
        Err(_) => panic!("{method} {path} on port {port}: no whole answer within {CALL_TIMEOUT:?}"),
    }
}

/// `POST /import?token=<token>` with an NDJSON body; the whole (event-stream) response.
pub async fn import(port: u16, token: &str, ndjson: &str) -> Response {
    request(
        port,
        "POST",
        &format!("/import?token={token}"),
        &[("Content-Type", "application/x-ndjson")],
        ndjson.as_bytes(),
    )
    .await
}

/// An open `GET /subscribe` event stream. A task of its own reads it and timestamps each line as
/// it arrives (so waiting with a timeout never loses part of an event); dropping this closes the
/// connection.
pub struct Sse {
    lines: tokio::sync::mpsc::UnboundedReceiver<(String, Instant)>,
    reader: tokio::task::JoinHandle<()>,
    /// The response headers.
    pub headers: Vec<(String, String)>,
}

/// Opens `GET /subscribe?<query>`: the event stream when the answer is 200, else the whole
/// error response. Bounded by `CALL_TIMEOUT`; a transport error fails the test.
pub async fn subscribe(port: u16, query: &str) -> Result<Sse, Response> {
    let path = format!("/subscribe?{query}");
    let open = async {
        let mut conn = connect(port).await?;
        conn.get_mut()
            .write_all(&request_bytes("GET", &path, &[], b"", false))
            .await?;
        let (status, headers) = read_head(&mut conn).await?;
        if status != 200 {
            let body = read_body(&mut conn, &headers).await?;
            return Ok(Err(Response {
                status,
                headers,
                body,
            }));
        }
        Ok::<_, io::Error>(Ok((conn, headers)))
    };
    let (conn, headers) = match tokio::time::timeout(CALL_TIMEOUT, open).await {
        Ok(Ok(Ok(open))) => open,
        Ok(Ok(Err(response))) => return Err(response),
        Ok(Err(e)) => panic!("GET {path} on port {port}: {e}"),
        Err(_) => panic!("GET {path} on port {port}: no answer within {CALL_TIMEOUT:?}"),
    };
    let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
    let chunked = is_chunked(&headers);
    let reader = tokio::spawn(read_lines(conn, chunked, tx));
    Ok(Sse {
        lines,
        reader,
        headers,
    })
}

/// Splits the (de-chunked) event stream into lines, each sent with the time it was read.
async fn read_lines(
    mut conn: Conn,
    chunked: bool,
    tx: tokio::sync::mpsc::UnboundedSender<(String, Instant)>,
) {
    let mut pending = Vec::new();
    loop {
        let read = if chunked {
            match read_chunk(&mut conn).await {
                Ok(Some(chunk)) => chunk,
                Ok(None) | Err(_) => return,
            }
        } else {
            let mut buf = [0; 4096];
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf[..n].to_vec(),
            }
        };
        let now = Instant::now();
        pending.extend_from_slice(&read);
        while let Some(i) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=i).collect();
            let text = String::from_utf8_lossy(&line[..line.len() - 1]);
            if tx
                .send((text.trim_end_matches('\r').to_string(), now))
                .is_err()
            {
                return;
            }
        }
    }
}

impl Drop for Sse {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Sse {
    /// The next line and when it arrived; `None` when the stream ended or nothing came within
    /// `limit`.
    pub async fn next_line(&mut self, limit: Duration) -> Option<(String, Instant)> {
        tokio::time::timeout(limit, self.lines.recv())
            .await
            .ok()
            .flatten()
    }

    /// Waits (at most `limit`) for the `: ready` comment; fails the test otherwise.
    pub async fn ready(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_line(left).await {
                Some((line, _)) if line.starts_with(": ready") => return,
                Some(_) => {}
                None => {
                    panic!("SSE: the stream ended or stayed silent before `: ready` ({limit:?})")
                }
            }
        }
    }

    /// The data of the next `poke` event and when it arrived, or `None` when none comes within
    /// `limit` or the stream ends.
    pub async fn next_poke(&mut self, limit: Duration) -> Option<(Value, Instant)> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (line, at) = self.next_line(left).await?;
            if let Some(data) = line.strip_prefix("data: ") {
                return Some((to_json(data.as_bytes()), at));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Answers.

/// The `error.code` of an error body, or `""`.
pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}
