//! Consumers across real processes (consumers.md, "Must hold" 1 and 4), on SQLite files and on
//! PostgreSQL: `messagedb consume` processes with the same identity, one active and one standby;
//! the active one is killed with SIGKILL, the standby takes over within the lease and resumes
//! after the recorded position, nothing skipped; SIGTERM stops cleanly with the position
//! recorded. And the server's consumer methods over HTTP: `consumer.ack` / `consumer.position`
//! shared by two servers on one store, `/subscribe?…&name=` resuming and holding the name (a
//! second is a standby until the first disconnects), `consumer.list`,
//! `consumer.parked`, and `messagedb_consumer_lag` on `/metrics`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Server, Storage, admin_token, bounded, error_code, request, subscribe, wait_until};
use messagedb::consumer::ConsumerOpts;
use messagedb::{NewMessage, Store, WriteOpts};
use serde_json::{Value, json};

/// The whole of one test.
const TEST: Duration = Duration::from_secs(120);
/// The longest one step may take.
const STEP: Duration = Duration::from_secs(20);
/// The consumers' lease.
const LEASE: Duration = Duration::from_secs(2);

/// One `messagedb consume` process: the global positions it printed, and whether it said it is
/// active. Killed (SIGKILL) and reaped when dropped.
struct Consume {
    child: Option<Child>,
    handled: Arc<Mutex<Vec<i64>>>,
    active: Arc<Mutex<Option<Instant>>>,
}

impl Consume {
    fn spawn(url: &str, interval: u64) -> Consume {
        let mut child = Command::new(env!("CARGO_BIN_EXE_messagedb"))
            .args([
                "consume",
                "--db-url",
                url,
                "--category",
                "job",
                "--name",
                "runner",
            ])
            .args(["--position-update-interval", &interval.to_string()])
            .args(["--lease", &LEASE.as_secs_f64().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn messagedb consume");
        let handled = Arc::new(Mutex::new(Vec::new()));
        let active = Arc::new(Mutex::new(None));
        let (out, seen) = (child.stdout.take().unwrap(), handled.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let record: Value = serde_json::from_str(&line).expect("an NDJSON record");
                seen.lock().unwrap().push(record["gpos"].as_i64().unwrap());
            }
        });
        let (err, flag) = (child.stderr.take().unwrap(), active.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if line == "active" {
                    *flag.lock().unwrap() = Some(Instant::now());
                } else {
                    eprintln!("[consume] {line}");
                }
            }
        });
        Consume {
            child: Some(child),
            handled,
            active,
        }
    }

    fn handled(&self) -> Vec<i64> {
        self.handled.lock().unwrap().clone()
    }

    fn active_since(&self) -> Option<Instant> {
        *self.active.lock().unwrap()
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then the exit status within the step deadline.
    async fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let pid = child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + STEP;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("consume did not stop within {STEP:?} of SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Consume {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn write_jobs(store: &Store, from: usize, n: usize) {
    let ns = store.namespace("default");
    for i in from..from + n {
        let m = NewMessage::new("Queued", json!({ "i": i })).unwrap();
        ns.write(&format!("job-{}", i % 4), m, WriteOpts::default())
            .await
            .unwrap();
    }
}

async fn takeover_after_kill(storage: Storage) {
    let url = storage.url();
    // The store (and its namespace registry) first, as the server would make it.
    let store = Store::open(&url).await.unwrap();
    write_jobs(&store, 0, 42).await;
    let id = ConsumerOpts::new("job", "runner").unwrap().id;

    let mut first = Consume::spawn(&url, 5);
    wait_until(STEP, "the first consumer handles all 42", || {
        first.handled().len() == 42
    })
    .await;
    assert_eq!(first.handled(), (1..=42).collect::<Vec<_>>());
    let mut standby = Consume::spawn(&url, 5);
    // While the first lives, the standby hands out nothing (two leases of waiting).
    tokio::time::sleep(2 * LEASE).await;
    assert!(standby.active_since().is_none() && standby.handled().is_empty());

    first.kill();
    let killed = Instant::now();
    let recorded = store
        .namespace("default")
        .consumer_position(&id)
        .await
        .unwrap()
        .expect("a recorded position");
    assert!(recorded >= 40, "recorded every 5: {recorded}");
    wait_until(STEP, "the standby takes over", || {
        standby.active_since().is_some()
    })
    .await;
    let took = standby.active_since().unwrap() - killed;
    assert!(took <= LEASE, "took over in {took:?}, more than the lease");
    write_jobs(&store, 42, 10).await;
    // Every job after the recorded position (the position records are in another category).
    let ns = store.namespace("default");
    let after = messagedb::CategoryOpts::default()
        .position(recorded + 1)
        .batch_size(-1);
    let expected: Vec<i64> = ns
        .get_category("job", &after)
        .await
        .unwrap()
        .iter()
        .map(|m| m.global_position)
        .collect();
    assert_eq!(expected.len(), 10 + (42 - recorded as usize));
    let last = *expected.last().unwrap();
    let deadline = Instant::now() + STEP;
    while standby.handled().last() != Some(&last) {
        assert!(
            Instant::now() < deadline,
            "the standby did not handle up to {last}: {:?} (recorded {recorded})",
            standby.handled()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        standby.handled(),
        expected,
        "resumes after {recorded}, nothing skipped"
    );

    // SIGTERM: a clean stop records the last position.
    let status = standby.terminate().await;
    assert!(status.success(), "{status}");
    assert_eq!(ns.consumer_position(&id).await.unwrap(), Some(last));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_process_takes_over_after_kill_sqlite() {
    bounded(
        TEST,
        "sqlite takeover",
        takeover_after_kill(Storage::sqlite()),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_process_takes_over_after_kill_postgres() {
    let storage = Storage::postgres().await;
    bounded(TEST, "postgres takeover", takeover_after_kill(storage)).await;
}

/// Two servers on one PostgreSQL database: acknowledgements on one are recorded (after the idle
/// second) and seen by the other, which resumes a `/subscribe?…&name=` after them; the consumer
/// methods answer in the error vocabulary; `/metrics` reports the lag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_consumers_share_positions_across_servers() {
    let storage = Storage::postgres().await;
    bounded(TEST, "http consumers", async {
        let one = Server::start("one", &storage).await;
        let two = Server::start("two", &storage).await;
        let token = admin_token();
        let (mut a, mut b) = (one.client(&token), two.client(&token));
        for i in 0..6 {
            let (status, _) = a
                .rpc(json!(["stream.write", format!("job-{i}"), {"type": "Queued", "data": {}}]))
                .await;
            assert_eq!(status, 200);
        }
        let (status, body) = a.rpc(json!(["consumer.position", "job", "http"])).await;
        assert_eq!((status, body), (200, Value::Null));
        let (status, body) = a.rpc(json!(["consumer.ack", "job", "http", 3])).await;
        assert_eq!((status, body), (200, json!({"position": 3})));
        // Acknowledging backwards never moves the position back.
        let (_, body) = a.rpc(json!(["consumer.ack", "job", "http", 2])).await;
        assert_eq!(body, json!({"position": 3}));
        let (_, body) = a.rpc(json!(["consumer.position", "job", "http"])).await;
        assert_eq!(body, json!(3), "acknowledged here, recorded soon");
        // The other server sees it once the first records it (after one idle second).
        let deadline = Instant::now() + STEP;
        loop {
            let (_, body) = b.rpc(json!(["consumer.position", "job", "http"])).await;
            if body == json!(3) {
                break;
            }
            assert!(Instant::now() < deadline, "never recorded: {body}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (_, listed) = b.rpc(json!(["consumer.list", {"category": "job"}])).await;
        assert_eq!(
            listed,
            json!([{"category": "job", "name": "http", "group": null, "position": 3,
                    "lag": 3, "parked": 0}])
        );
        // A subscription by name resumes after the recorded position, on the other server.
        let mut sse = subscribe(two.port, &format!("category=job&name=http&token={token}"))
            .await
            .unwrap_or_else(|r| panic!("subscribe: {} {}", r.status, r.text()));
        sse.ready(STEP).await;
        let (poke, _) = sse.next_poke(STEP).await.expect("a poke");
        assert_eq!(poke["globalPosition"], json!(4));
        // A second subscription by the same name, on the other server, is a standby: silent
        // (no `: ready`) while the first is connected, ready once it goes.
        let mut standby = subscribe(one.port, &format!("category=job&name=http&token={token}"))
            .await
            .unwrap_or_else(|r| panic!("subscribe: {} {}", r.status, r.text()));
        let early = standby.next_line(Duration::from_secs(2)).await;
        assert!(early.is_none(), "the standby said {early:?}");
        drop(sse);
        let gone = Instant::now();
        standby.ready(STEP).await;
        assert!(gone.elapsed() <= Duration::from_secs(5), "within the lease");
        let (poke, _) = standby.next_poke(STEP).await.expect("a poke");
        assert_eq!(poke["globalPosition"], json!(4), "after the recorded 3");

        // Errors: a bad name, a bad position, a name without a category.
        let (status, body) = a.rpc(json!(["consumer.ack", "job", "a b", 1])).await;
        assert_eq!((status, error_code(&body)), (400, "INVALID_REQUEST"));
        let (status, body) = a.rpc(json!(["consumer.ack", "job", "http", "x"])).await;
        assert_eq!((status, error_code(&body)), (400, "INVALID_REQUEST"));
        let (status, body) = a.rpc(json!(["consumer.parked", "job-1", "http"])).await;
        assert_eq!((status, error_code(&body)), (400, "INVALID_REQUEST"));
        let answer = subscribe(one.port, &format!("stream=job-1&name=http&token={token}"))
            .await
            .err()
            .expect("refused");
        assert_eq!(answer.status, 400);
        assert_eq!(error_code(&answer.json()), "INVALID_REQUEST");
        let (status, body) = a.rpc(json!(["consumer.parked", "job", "http"])).await;
        assert_eq!((status, body), (200, json!([])));

        let metrics = request(one.port, "GET", "/metrics", &[], b"").await.text();
        let line = metrics
            .lines()
            .find(|l| l.starts_with("messagedb_consumer_lag{"))
            .unwrap_or_else(|| panic!("no consumer lag in\n{metrics}"));
        assert!(
            line.contains("category=\"job\"") && line.contains("consumer=\"http\""),
            "{line}"
        );
        assert!(line.ends_with(" 3"), "{line}");
    })
    .await;
}

/// Two servers on one SQLite directory: what an HTTP consumer acknowledged on one is recorded when
/// its `/subscribe?…&name=` goes, before the name is let go, so the standby on the other starts
/// after it; an acknowledgement behind a position recorded elsewhere never moves it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_subscription_records_before_letting_go() {
    let storage = Storage::sqlite();
    bounded(TEST, "named subscription hand-over", async {
        let one = Server::start("one", &storage).await;
        let two = Server::start("two", &storage).await;
        let token = admin_token();
        let (mut a, mut b) = (one.client(&token), two.client(&token));
        for i in 0..8 {
            let (status, _) = a
                .rpc(json!(["stream.write", format!("job-{i}"), {"type": "Queued", "data": {}}]))
                .await;
            assert_eq!(status, 200);
        }
        let query = format!("category=job&name=handover&token={token}");
        let mut first = subscribe(one.port, &query)
            .await
            .unwrap_or_else(|r| panic!("{}", r.status));
        first.ready(STEP).await;
        let mut standby = subscribe(two.port, &query)
            .await
            .unwrap_or_else(|r| panic!("{}", r.status));
        for expected in 1..=5 {
            let (poke, _) = first.next_poke(STEP).await.expect("a poke");
            assert_eq!(poke["globalPosition"], json!(expected));
            let (status, _) = a
                .rpc(json!(["consumer.ack", "job", "handover", expected]))
                .await;
            assert_eq!(status, 200);
        }
        drop(first);
        standby.ready(STEP).await;
        let (poke, _) = standby.next_poke(STEP).await.expect("a poke");
        assert_eq!(
            poke["globalPosition"],
            json!(6),
            "starts after what the first acknowledged"
        );

        // Set ahead elsewhere (as `set_consumer_position` does): a later ack behind it is ignored.
        let store = Store::open(&storage.url()).await.unwrap();
        let id = ConsumerOpts::new("job", "handover").unwrap().id;
        store
            .namespace("default")
            .set_consumer_position(&id, 10)
            .await
            .unwrap();
        let (_, body) = b.rpc(json!(["consumer.ack", "job", "handover", 7])).await;
        assert_eq!(body, json!({"position": 10}));
        let (_, body) = b.rpc(json!(["consumer.position", "job", "handover"])).await;
        assert_eq!(body, json!(10));
        store.close().await;
    })
    .await;
}
