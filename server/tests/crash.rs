//! Crash durability (design.md, Guarantees 1 and 4) of the real `messagedb serve` process, on
//! SQLite files and on PostgreSQL: concurrent writers (own streams, shared streams with an
//! expected version, batches) record every acknowledged, rejected and unanswered write, each
//! message sent with an explicit id; the server is killed with SIGKILL mid-write and restarted
//! on the same data, several times. Then everything read back must hold every acknowledged write
//! at its acknowledged position and global position, nothing nobody sent, nothing that was
//! definitely rejected, no id twice, no gap in any stream, global positions strictly increasing,
//! and batches all or nothing. A write whose answer never came may be there or not, but once.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::{Client, Server, Storage, admin_token, bounded, error_code, new_id, wait_until};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Concurrent writers, each with its own connection.
const WRITERS: usize = 4;
/// Kill -9 and restart this many times.
const ROUNDS: usize = 5;
/// Acknowledged messages between two kills (and after the last restart).
const ACKS_PER_ROUND: usize = 80;
/// Messages per `stream.writeBatch`.
const BATCH: usize = 3;

/// What became of one sent message.
#[derive(Debug, Clone)]
enum Outcome {
    /// 200: stored at this position and (when known) global position.
    Acked { position: i64, global: Option<i64> },
    /// A definite 4xx rejection with this code: nothing was written.
    Rejected(String),
    /// No answer (connection died, or a 5xx): stored or not, but at most once.
    Unknown(String),
    /// A retry of an unanswered write was answered 409 `DUPLICATE_MESSAGE_ID`: the first try
    /// was stored.
    AlreadyStored,
}

/// One try at writing one message.
#[derive(Debug, Clone)]
struct Attempt {
    id: String,
    stream: String,
    message_type: &'static str,
    outcome: Outcome,
}

/// What a writer saw.
#[derive(Debug, Default)]
struct Record {
    attempts: Vec<Attempt>,
    /// The ids of each batch that went unanswered (all or none of each must be stored).
    unknown_batches: Vec<Vec<String>>,
}

/// The answer to one call, as far as durability is concerned.
enum Answer {
    Ok(Value),
    Rejected(String, Value),
    Unknown(String),
    /// No connection could be made: the request never reached a server.
    NotSent,
}

struct Writer {
    w: usize,
    client: Client,
    port: watch::Receiver<u16>,
    acks: Arc<AtomicUsize>,
    record: Record,
    /// An own-stream write whose answer never came: sent again with the same id.
    retry: Option<(String, String, Value)>,
    /// The version of this writer's batch stream, when known.
    batch_version: Option<i64>,
    batches: usize,
    step: usize,
}

impl Writer {
    fn new(w: usize, port: watch::Receiver<u16>, acks: Arc<AtomicUsize>) -> Writer {
        let current = *port.borrow();
        Writer {
            w,
            client: Client::new(current, &admin_token()),
            port,
            acks,
            record: Record::default(),
            retry: None,
            batch_version: None,
            batches: 0,
            step: 0,
        }
    }

    async fn run(mut self, stop: Arc<AtomicBool>) -> Record {
        while !stop.load(Ordering::SeqCst) {
            let port = *self.port.borrow_and_update();
            if port == 0 {
                // The server is down: wait for the restart.
                tokio::time::timeout(Duration::from_secs(60), self.port.changed())
                    .await
                    .expect("the server comes back within a minute")
                    .expect("the test still runs");
                continue;
            }
            if self.client.port != port {
                self.client = Client::new(port, &admin_token());
            }
            self.step += 1;
            match self.step % 4 {
                0 | 1 => self.own().await,
                2 => self.shared().await,
                _ => self.batch().await,
            }
        }
        self.record
    }

    async fn call(&mut self, body: &Value) -> Answer {
        match self.client.try_rpc(body).await {
            Ok((200, v)) => Answer::Ok(v),
            Ok((status, v)) if (400..500).contains(&status) => {
                Answer::Rejected(error_code(&v).to_string(), v)
            }
            Ok((status, v)) => Answer::Unknown(format!("{status} {v}")),
            Err(e) if !e.sent => {
                // The server is being killed or restarted; don't spin.
                tokio::time::sleep(Duration::from_millis(5)).await;
                Answer::NotSent
            }
            Err(e) => Answer::Unknown(e.message),
        }
    }

    fn note(&mut self, id: &str, stream: &str, message_type: &'static str, outcome: Outcome) {
        self.record.attempts.push(Attempt {
            id: id.into(),
            stream: stream.into(),
            message_type,
            outcome,
        });
    }

    fn acknowledged(&mut self, id: &str, stream: &str, message_type: &'static str, r: &Value) {
        let position = r["position"]
            .as_i64()
            .unwrap_or_else(|| panic!("position in {r}"));
        let global = r["globalPosition"]
            .as_i64()
            .unwrap_or_else(|| panic!("globalPosition in {r}"));
        self.note(
            id,
            stream,
            message_type,
            Outcome::Acked {
                position,
                global: Some(global),
            },
        );
        self.acks.fetch_add(1, Ordering::SeqCst);
    }

    /// A write to one of the writer's own streams, no expected version; an unanswered one is
    /// sent again with the same id.
    async fn own(&mut self) {
        let (id, stream, message, retry) = match self.retry.take() {
            Some((id, stream, message)) => (id, stream, message, true),
            None => (
                new_id(),
                format!("own-w{}s{}", self.w, self.step % 3),
                json!({"type": "Own", "data": {"w": self.w, "step": self.step}}),
                false,
            ),
        };
        let body = json!(["stream.write", stream, message, {"id": id}]);
        match self.call(&body).await {
            Answer::Ok(r) => self.acknowledged(&id, &stream, "Own", &r),
            Answer::Rejected(code, _) if retry && code == "DUPLICATE_MESSAGE_ID" => {
                self.note(&id, &stream, "Own", Outcome::AlreadyStored);
            }
            Answer::Rejected(code, v) => {
                self.note(
                    &id,
                    &stream,
                    "Own",
                    Outcome::Rejected(format!("{code} {v}")),
                );
            }
            Answer::Unknown(why) => {
                self.note(&id, &stream, "Own", Outcome::Unknown(why));
                self.retry = Some((id, stream, message));
            }
            Answer::NotSent => self.retry = Some((id, stream, message)),
        }
    }

    /// A write to a stream every writer writes to, expecting the version just read: some lose
    /// the race and get 409.
    async fn shared(&mut self) {
        let stream = format!("shared-{}", (self.step / 4) % 2);
        let expected = match self.call(&json!(["stream.version", stream])).await {
            Answer::Ok(v) => v.as_i64().unwrap_or(-1),
            _ => return,
        };
        let id = new_id();
        let body = json!(["stream.write", stream,
            {"type": "Shared", "data": {"w": self.w, "step": self.step}},
            {"id": id, "expectedVersion": expected}]);
        match self.call(&body).await {
            Answer::Ok(r) => {
                assert_eq!(
                    r["position"],
                    json!(expected + 1),
                    "a write expecting version {expected} of {stream} lands right after it"
                );
                self.acknowledged(&id, &stream, "Shared", &r);
            }
            Answer::Rejected(code, v) => {
                let why = if code == "STREAM_VERSION_CONFLICT" {
                    code
                } else {
                    format!("{code} {v}")
                };
                self.note(&id, &stream, "Shared", Outcome::Rejected(why));
            }
            Answer::Unknown(why) => self.note(&id, &stream, "Shared", Outcome::Unknown(why)),
            Answer::NotSent => {}
        }
    }

    /// A batch to the writer's batch stream with the version it knows; every fifth expects a
    /// wrong version on purpose and must be rejected whole.
    async fn batch(&mut self) {
        let stream = format!("batch-w{}", self.w);
        let known = match self.batch_version {
            Some(v) => v,
            None => match self.call(&json!(["stream.version", stream])).await {
                Answer::Ok(v) => v.as_i64().unwrap_or(-1),
                _ => return,
            },
        };
        self.batches += 1;
        let wrong = self.batches.is_multiple_of(5);
        let expected = if wrong { known + 7 } else { known };
        let ids: Vec<String> = (0..BATCH).map(|_| new_id()).collect();
        let messages: Vec<Value> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| json!({"type": "Batch", "data": {"w": self.w, "batch": self.batches, "i": i}, "id": id}))
            .collect();
        let body = json!(["stream.writeBatch", stream, messages, {"expectedVersion": expected}]);
        match self.call(&body).await {
            Answer::Ok(r) => {
                let number = |k: &str| r[k].as_i64().unwrap_or_else(|| panic!("{k} in {r}"));
                let (first, last) = (number("position"), number("lastPosition"));
                let (g0, g1) = (number("globalPosition"), number("lastGlobalPosition"));
                assert!(
                    !wrong,
                    "a batch expecting version {expected} of {stream} (at {known}) was accepted: {r}"
                );
                assert_eq!(
                    first,
                    expected + 1,
                    "the batch lands after version {expected}"
                );
                assert_eq!(
                    last - first,
                    BATCH as i64 - 1,
                    "batch positions contiguous: {r}"
                );
                let contiguous = g1 - g0 == BATCH as i64 - 1;
                for (i, id) in ids.iter().enumerate() {
                    let global = match i {
                        0 => Some(g0),
                        _ if i == BATCH - 1 => Some(g1),
                        _ if contiguous => Some(g0 + i as i64),
                        _ => None,
                    };
                    let position = first + i as i64;
                    self.note(id, &stream, "Batch", Outcome::Acked { position, global });
                }
                self.acks.fetch_add(BATCH, Ordering::SeqCst);
                self.batch_version = Some(last);
            }
            Answer::Rejected(code, v) => {
                let why = if code == "STREAM_VERSION_CONFLICT" {
                    code
                } else {
                    format!("{code} {v}")
                };
                for id in &ids {
                    self.note(id, &stream, "Batch", Outcome::Rejected(why.clone()));
                }
                self.batch_version = v["error"]["details"]["actual"].as_i64();
            }
            Answer::Unknown(why) => {
                for id in &ids {
                    self.note(id, &stream, "Batch", Outcome::Unknown(why.clone()));
                }
                self.record.unknown_batches.push(ids);
                self.batch_version = None;
            }
            Answer::NotSent => {}
        }
    }
}

/// Waits until `target` messages have been acknowledged; a writer that ended early (panicked)
/// fails the test with its own message.
async fn progress(acks: &AtomicUsize, target: usize, writers: &mut Vec<JoinHandle<Record>>) {
    wait_until(
        Duration::from_secs(60),
        &format!("{target} acknowledged messages"),
        || acks.load(Ordering::SeqCst) >= target || writers.iter().any(JoinHandle::is_finished),
    )
    .await;
    if let Some(i) = writers.iter().position(JoinHandle::is_finished) {
        let ended = writers.remove(i);
        match ended.await {
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            other => panic!("a writer ended before the test stopped it: {other:?}"),
        }
    }
}

/// A message as read back.
#[derive(Debug, Clone, PartialEq)]
struct Stored {
    id: String,
    stream: String,
    message_type: String,
    position: i64,
    global: i64,
}

async fn crash_rounds(storage: &Storage) {
    let kind = storage.kind();
    let mut server = Server::start(&format!("crash-{kind}"), storage).await;
    let (port_tx, port_rx) = watch::channel(server.port);
    let acks = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers: Vec<JoinHandle<Record>> = (0..WRITERS)
        .map(|w| tokio::spawn(Writer::new(w, port_rx.clone(), acks.clone()).run(stop.clone())))
        .collect();
    for round in 1..=ROUNDS {
        let target = acks.load(Ordering::SeqCst) + ACKS_PER_ROUND;
        progress(&acks, target, &mut writers).await;
        // SIGKILL while the writers are mid-write.
        server.kill();
        port_tx.send_replace(0);
        eprintln!(
            "{kind}: round {round}: killed -9 after {} acknowledged messages",
            acks.load(Ordering::SeqCst)
        );
        server.restart().await;
        port_tx.send_replace(server.port);
    }
    let target = acks.load(Ordering::SeqCst) + ACKS_PER_ROUND;
    progress(&acks, target, &mut writers).await;
    stop.store(true, Ordering::SeqCst);
    let mut record = Record::default();
    for writer in writers {
        let r = tokio::time::timeout(Duration::from_secs(30), writer)
            .await
            .expect("writers stop within 30 s")
            .expect("writer");
        record.attempts.extend(r.attempts);
        record.unknown_batches.extend(r.unknown_batches);
    }
    let stored = read_everything(&server).await;
    check(&server, kind, &record, &stored).await;
}

/// Category `""` (every message of the namespace, in global order), paged.
async fn read_everything(server: &Server) -> Vec<Stored> {
    let mut client = server.client(&admin_token());
    let mut stored: Vec<Stored> = Vec::new();
    let mut next = 1;
    for _ in 0..10_000 {
        let (status, page) = client
            .rpc(json!(["category.get", "", {"position": next, "batchSize": 200}]))
            .await;
        assert_eq!(status, 200, "category.get: {page}");
        let page = page.as_array().expect("category.get answers an array");
        if page.is_empty() {
            return stored;
        }
        for m in page {
            stored.push(Stored {
                id: m[0].as_str().expect("id").into(),
                stream: m[1].as_str().expect("stream name").into(),
                message_type: m[2].as_str().expect("type").into(),
                position: m[3].as_i64().expect("position"),
                global: m[4].as_i64().expect("global position"),
            });
        }
        next = stored.last().expect("a message").global + 1;
    }
    panic!("category \"\" did not end after 10000 pages");
}

async fn check(server: &Server, kind: &str, record: &Record, stored: &[Stored]) {
    let mut failures: Vec<String> = Vec::new();

    // Global order, ids once, every id one somebody sent.
    let mut sent: HashMap<&str, Vec<&Attempt>> = HashMap::new();
    for a in &record.attempts {
        sent.entry(&a.id).or_default().push(a);
    }
    let mut by_id: HashMap<&str, &Stored> = HashMap::new();
    for pair in stored.windows(2) {
        if pair[0].global >= pair[1].global {
            failures.push(format!(
                "global positions not strictly increasing: {:?} then {:?}",
                pair[0], pair[1]
            ));
        }
    }
    for m in stored {
        if by_id.insert(&m.id, m).is_some() {
            failures.push(format!("message id {} stored twice", m.id));
        }
        match sent.get(m.id.as_str()) {
            None => failures.push(format!("stored message nobody sent: {m:?}")),
            Some(tries) => {
                let a = tries[0];
                if a.stream != m.stream || a.message_type != m.message_type {
                    failures.push(format!("{m:?} was sent as {a:?}"));
                }
            }
        }
    }

    // Streams gapless, and `stream.get` agrees with the category read.
    let mut streams: BTreeMap<&str, Vec<&Stored>> = BTreeMap::new();
    for m in stored {
        streams.entry(&m.stream).or_default().push(m);
    }
    let mut client = server.client(&admin_token());
    let names: BTreeSet<&str> = record
        .attempts
        .iter()
        .map(|a| a.stream.as_str())
        .chain(streams.keys().copied())
        .collect();
    for name in names {
        let mut in_stream = streams.get(name).cloned().unwrap_or_default();
        in_stream.sort_by_key(|m| m.position);
        let positions: Vec<i64> = in_stream.iter().map(|m| m.position).collect();
        if positions != (0..positions.len() as i64).collect::<Vec<_>>() {
            failures.push(format!("stream {name} has positions {positions:?}"));
        }
        let (status, read) = client
            .rpc(json!(["stream.get", name, {"batchSize": -1}]))
            .await;
        assert_eq!(status, 200, "stream.get {name}: {read}");
        let read: Vec<Stored> = read
            .as_array()
            .expect("stream.get answers an array")
            .iter()
            .map(|m| Stored {
                id: m[0].as_str().expect("id").into(),
                stream: name.into(),
                message_type: m[1].as_str().expect("type").into(),
                position: m[2].as_i64().expect("position"),
                global: m[3].as_i64().expect("global position"),
            })
            .collect();
        let expected: Vec<Stored> = in_stream.into_iter().cloned().collect();
        if read != expected {
            failures.push(format!(
                "stream.get {name} = {read:?}\nbut category \"\" has {expected:?}"
            ));
        }
    }

    // Every outcome honoured.
    let (mut acked, mut rejected, mut unknown, mut unknown_present) = (0, 0, 0, 0);
    for (id, tries) in &sent {
        let found = by_id.get(id);
        let acks: Vec<(i64, Option<i64>)> = tries
            .iter()
            .filter_map(|a| match a.outcome {
                Outcome::Acked { position, global } => Some((position, global)),
                _ => None,
            })
            .collect();
        if acks.len() > 1 {
            failures.push(format!("id {id} acknowledged twice: {tries:?}"));
        }
        if let Some(&(position, global)) = acks.first() {
            acked += 1;
            match found {
                None => failures.push(format!("acknowledged write LOST: {tries:?}")),
                Some(m) if m.position != position || global.is_some_and(|g| g != m.global) => {
                    failures.push(format!(
                        "acknowledged at position {position}, global {global:?}, but stored as {m:?}"
                    ))
                }
                Some(_) => {}
            }
            continue;
        }
        if tries
            .iter()
            .any(|a| matches!(a.outcome, Outcome::AlreadyStored))
        {
            if found.is_none() {
                failures.push(format!(
                    "a retry was told the id exists, but it is not stored: {tries:?}"
                ));
            }
            unknown += 1;
            unknown_present += 1;
            continue;
        }
        if tries
            .iter()
            .all(|a| matches!(a.outcome, Outcome::Rejected(_)))
        {
            rejected += 1;
            if found.is_some() {
                failures.push(format!("a REJECTED write is stored: {tries:?}"));
            }
            for a in tries {
                if let Outcome::Rejected(why) = &a.outcome
                    && why != "STREAM_VERSION_CONFLICT"
                {
                    failures.push(format!("unexpected rejection of {a:?}"));
                }
            }
            continue;
        }
        unknown += 1;
        if found.is_some() {
            unknown_present += 1;
        }
    }
    for batch in &record.unknown_batches {
        let present: Vec<bool> = batch
            .iter()
            .map(|id| by_id.contains_key(id.as_str()))
            .collect();
        if present.iter().any(|&p| p) && !present.iter().all(|&p| p) {
            failures.push(format!(
                "an unanswered batch is partly stored: {batch:?} {present:?}"
            ));
        }
    }

    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for a in &record.attempts {
        if let Outcome::Unknown(why) = &a.outcome {
            *reasons.entry(why.chars().take(80).collect()).or_default() += 1;
        }
    }
    eprintln!("{kind}: why answers never came: {reasons:?}");
    eprintln!(
        "{kind}: {} messages stored; sent {} ids: {acked} acknowledged, {rejected} rejected \
         (version conflict), {unknown} unanswered ({unknown_present} of them stored); \
         {} unanswered batches",
        stored.len(),
        sent.len(),
        record.unknown_batches.len()
    );
    assert!(
        acked > 0 && rejected > 0,
        "the writers made progress and raced"
    );
    assert!(
        failures.is_empty(),
        "{kind}: {} durability failures (the server's output follows):\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_sqlite_files() {
    let storage = Storage::sqlite();
    bounded(
        Duration::from_secs(150),
        "crash rounds on SQLite files",
        crash_rounds(&storage),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_postgres() {
    let storage = Storage::postgres().await;
    bounded(
        Duration::from_secs(150),
        "crash rounds on PostgreSQL",
        crash_rounds(&storage),
    )
    .await;
}
