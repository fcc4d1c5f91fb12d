//! The server's serving threads: connections spread over several single-threaded runtimes share
//! one store. Every write is acknowledged once at its own position, read back on the connection
//! that made it, and poked exactly once, in order, to a subscriber on yet another connection; on
//! SQLite in memory and on PostgreSQL (whose connections are opened from whichever thread needs
//! one). Then the server stops within its grace period and frees its port.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use messagedb_server::{ServeConfig, start};
use serde_json::{Value, json};
use sqlx::{Connection, Executor, PgConnection};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const CONNECTIONS: usize = 8;
const WRITES: usize = 40;
const DEADLINE: Duration = Duration::from_secs(30);

/// One keep-alive HTTP/1.1 connection.
struct Client {
    stream: BufReader<TcpStream>,
    token: String,
}

impl Client {
    async fn connect(port: u16, token: &str) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        Client {
            stream: BufReader::new(stream),
            token: token.into(),
        }
    }

    /// One RPC call: the status and the JSON result.
    async fn call(&mut self, body: Value) -> (u16, Value) {
        let body = body.to_string();
        let request = format!(
            "POST /rpc HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.token,
            body.len()
        );
        self.stream
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .expect("send");
        let mut line = String::new();
        self.stream.read_line(&mut line).await.expect("status line");
        let status = line
            .split(' ')
            .nth(1)
            .unwrap_or("0")
            .parse()
            .expect("status");
        let mut length = 0;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.expect("header");
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().expect("length");
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await.expect("body");
        (status, serde_json::from_slice(&body).expect("JSON"))
    }
}

/// Opens `/subscribe?all=true` and returns the stream after `: ready`.
async fn subscribe_all(port: u16, token: &str) -> BufReader<TcpStream> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let request =
        format!("GET /subscribe?all=true&token={token} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    while !line.starts_with(": ready") {
        line.clear();
        assert!(
            reader.read_line(&mut line).await.expect("read") > 0,
            "the stream ended before `: ready`"
        );
    }
    reader
}

/// Reads pokes until `count` have come; returns their global positions in arrival order.
async fn pokes(mut sse: BufReader<TcpStream>, count: usize) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut line = String::new();
    while seen.len() < count {
        line.clear();
        assert!(
            sse.read_line(&mut line).await.expect("read") > 0,
            "the stream ended"
        );
        if let Some(data) = line.strip_prefix("data: ") {
            let poke: Value = serde_json::from_str(data).expect("poke JSON");
            seen.push(poke["globalPosition"].as_i64().expect("globalPosition"));
        }
    }
    seen
}

async fn connections_share_the_store(db_url: Option<String>) {
    let server = start(ServeConfig {
        port: 0,
        test_mode: true,
        db_url,
        ..ServeConfig::default()
    })
    .await
    .expect("start");
    let (port, token) = (server.port, server.token.clone());
    let sse = subscribe_all(port, &token).await;
    let watcher = tokio::spawn(pokes(sse, CONNECTIONS * WRITES));

    let writers: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            let token = token.clone();
            tokio::spawn(async move {
                let mut client = Client::connect(port, &token).await;
                let stream = format!("spread{c}-1");
                let mut acknowledged = Vec::new();
                for i in 0..WRITES {
                    let (status, result) = client
                        .call(
                            json!(["stream.write", stream, {"type": "Spread", "data": {"i": i}},
                            {"expectedVersion": i as i64 - 1}]),
                        )
                        .await;
                    assert_eq!(status, 200, "write {i} of {stream}: {result}");
                    assert_eq!(result["position"], json!(i), "{stream}");
                    acknowledged.push(result["globalPosition"].as_i64().expect("gp"));
                    let (status, last) = client.call(json!(["stream.last", stream])).await;
                    assert_eq!(status, 200);
                    assert_eq!(
                        last[4],
                        json!({"i": i}),
                        "the connection reads its own write"
                    );
                }
                acknowledged
            })
        })
        .collect();
    let mut written = BTreeSet::new();
    for w in writers {
        let acknowledged = tokio::time::timeout(DEADLINE, w)
            .await
            .expect("writers finish")
            .expect("writer");
        for gp in acknowledged {
            assert!(
                written.insert(gp),
                "global position {gp} acknowledged twice"
            );
        }
    }
    let seen = tokio::time::timeout(DEADLINE, watcher)
        .await
        .expect("every poke arrives")
        .expect("watcher");
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "pokes in global order, none twice"
    );
    assert_eq!(
        seen.into_iter().collect::<BTreeSet<_>>(),
        written,
        "one poke per acknowledged write"
    );

    let stopping = Instant::now();
    server.stop(Duration::from_millis(500)).await;
    assert!(
        stopping.elapsed() < Duration::from_secs(2),
        "stops promptly"
    );
    std::net::TcpListener::bind(("0.0.0.0", port)).expect("the port is free again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_on_several_threads_share_an_in_memory_store() {
    connections_share_the_store(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_on_several_threads_share_a_postgres_store() {
    let server = std::env::var("MESSAGEDB_TEST_PG_URL").expect(
        "MESSAGEDB_TEST_PG_URL must name a PostgreSQL server to test on; \
         scripts/test.sh starts a throwaway cluster and sets it",
    );
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    let mut admin = PgConnection::connect(&server).await.expect("connect");
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create a test database");
    // The same server, the new database (the URL's last path segment names the database).
    let (root, rest) = server.rsplit_once('/').expect("a URL with a database");
    let query = rest
        .split_once('?')
        .map_or(String::new(), |(_, q)| format!("?{q}"));
    let url = format!("{root}/{name}{query}");
    connections_share_the_store(Some(url)).await;
}
