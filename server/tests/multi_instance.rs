//! Two `messagedb serve` processes on one PostgreSQL database (design.md, Scale-out and
//! Guarantee 5): a deleted namespace's token is refused by the other instance at once, also after
//! the namespace is created again with a new token; a write on one instance reaches an SSE
//! subscriber on the other within 100 ms; expected-version races across the two have exactly one
//! winner; a namespace delete on one is seen by the other's administration calls; a token change
//! on one (a restart with another `--token`) is honoured by the other once the change returned.

mod common;

use std::time::{Duration, Instant};

use common::{Server, Storage, admin_token, bounded, error_code, import, new_id, subscribe};
use serde_json::{Value, json};

/// The tests of this file run one at a time: (b) measures latencies, which the other tests'
/// servers would disturb on a small machine.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const TEST_LIMIT: Duration = Duration::from_secs(120);

/// Two servers on one fresh database, started one after the other, with the same admin token.
async fn two_servers(storage: &Storage) -> (Server, Server) {
    let s1 = Server::start("s1", storage).await;
    let s2 = Server::start("s2", storage).await;
    (s1, s2)
}

/// `ns.create` with the admin token: the new namespace's token.
async fn create_namespace(server: &Server, namespace: &str) -> String {
    let (status, created) = server
        .client(&admin_token())
        .rpc(json!(["ns.create", namespace]))
        .await;
    assert_eq!(status, 200, "ns.create {namespace}: {created}");
    created["token"]
        .as_str()
        .unwrap_or_else(|| panic!("a token in {created}"))
        .to_string()
}

/// `ns.delete` with the admin token.
async fn delete_namespace(server: &Server, namespace: &str) {
    let (status, deleted) = server
        .client(&admin_token())
        .rpc(json!(["ns.delete", namespace]))
        .await;
    assert_eq!(status, 200, "ns.delete {namespace}: {deleted}");
}

fn is_unauthorized(status: u16, body: &Value) -> bool {
    status == 403 && error_code(body) == "AUTH_UNAUTHORIZED"
}

/// Every call a stale token can make on server 2, each of which must answer 403
/// `AUTH_UNAUTHORIZED`; a failure is described in `failures`. `secret` is text of the new
/// owner's data that must never appear in an answer (phase 2).
async fn stale_token_calls(
    s2: &Server,
    namespace: &str,
    token: &str,
    phase: &str,
    secret: Option<&str>,
    failures: &mut Vec<String>,
) {
    let mut client = s2.client(token);
    let mut check = |what: &str, status: u16, body: &str, json_body: &Value| {
        let verdict = if is_unauthorized(status, json_body) {
            "ok (403 AUTH_UNAUTHORIZED)".to_string()
        } else {
            let failure = format!("[{phase}] {what}: {status} {body}");
            failures.push(failure);
            format!("FAIL: {status} {body}")
        };
        if let Some(secret) = secret
            && body.contains(secret)
        {
            failures.push(format!(
                "[{phase}] {what}: LEAKED the new owner's data: {body}"
            ));
        }
        eprintln!("[{phase}] server 2, stale token, {what}: {verdict}");
    };
    let rpcs = [
        ("category.get x", json!(["category.get", "x"])),
        ("stream.get x-1", json!(["stream.get", "x-1"])),
        ("stream.version x-1", json!(["stream.version", "x-1"])),
        ("ns.info (own namespace)", json!(["ns.info", namespace])),
        (
            "stream.write x-1",
            json!(["stream.write", "x-1", {"type": "Stale", "data": {"by": "stale token"}}]),
        ),
    ];
    for (what, body) in rpcs {
        let (status, answer) = client.rpc(body).await;
        check(what, status, &answer.to_string(), &answer);
    }
    match subscribe(s2.port, &format!("category=x&token={token}")).await {
        Err(r) => check("GET /subscribe?category=x", r.status, &r.text(), &r.json()),
        Ok(mut sse) => {
            // Opened: see what it hands out (the new owner's message would be history).
            let mut seen = Vec::new();
            while let Some((poke, _)) = sse.next_poke(Duration::from_millis(500)).await {
                seen.push(poke.to_string());
            }
            let body = format!("200 text/event-stream opened; pokes within 0.5 s: {seen:?}");
            check("GET /subscribe?category=x", 200, &body, &Value::Null);
        }
    }
    let record = json!({
        "id": new_id(), "stream": "imported-1", "type": "Imported", "pos": 0, "gpos": 1000,
        "data": {"by": "stale token import"}, "meta": null, "time": "2024-01-15T10:30:00Z",
    });
    let r = import(s2.port, token, &format!("{record}\n")).await;
    check("POST /import", r.status, &r.text(), &r.json());
}

/// (a) Guarantee 5: once `ns.delete` has returned on server 1, server 2 refuses the deleted
/// namespace's token on every endpoint, and still refuses it (and never shows the new owner's
/// data) after the namespace is created again with a new token, which server 2 accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_namespace_token_is_refused_by_the_other_instance() {
    let _serial = SERIAL.lock().await;
    let storage = Storage::postgres().await;
    bounded(TEST_LIMIT, "token revocation across instances", async {
        let (s1, s2) = two_servers(&storage).await;
        let t1 = create_namespace(&s1, "E").await;

        // Server 2 learns T1.
        let mut old = s2.client(&t1);
        let (status, written) = old
            .rpc(json!(["stream.write", "x-1", {"type": "Old", "data": {"owner": "old"}}]))
            .await;
        assert_eq!(status, 200, "a write with T1 on server 2: {written}");
        let (status, read) = old.rpc(json!(["category.get", "x"])).await;
        assert_eq!(status, 200, "category.get with T1 on server 2: {read}");
        assert_eq!(read.as_array().map(Vec::len), Some(1), "{read}");

        let mut failures = Vec::new();
        delete_namespace(&s1, "E").await;
        stale_token_calls(&s2, "E", &t1, "after delete", None, &mut failures).await;

        // E again, another owner, another token.
        let t2 = create_namespace(&s1, "E").await;
        assert_ne!(t1, t2);
        let secret = format!("secret-of-the-new-owner-{}", new_id());
        let new_message = new_id();
        let (status, written) = s1
            .client(&t2)
            .rpc(json!(["stream.write", "x-1", {"type": "New", "data": {"owner": secret}},
                {"id": new_message}]))
            .await;
        assert_eq!(status, 200, "a write with T2 on server 1: {written}");
        stale_token_calls(
            &s2,
            "E",
            &t1,
            "after re-create",
            Some(&secret),
            &mut failures,
        )
        .await;

        // T2 on server 2: exactly the new owner's message.
        let mut new = s2.client(&t2);
        let (status, read) = new.rpc(json!(["category.get", "x"])).await;
        let ids: Vec<&str> = read
            .as_array()
            .map(|a| a.iter().filter_map(|m| m[0].as_str()).collect())
            .unwrap_or_default();
        if status != 200 || ids != [new_message.as_str()] {
            failures.push(format!(
                "category.get x with T2 on server 2 should be exactly [{new_message}]: {status} {read}"
            ));
        }
        let (status, read) = new.rpc(json!(["stream.get", "x-1"])).await;
        if status != 200 || read.as_array().map(Vec::len) != Some(1) || read[0][0] != json!(new_message)
        {
            failures.push(format!(
                "stream.get x-1 with T2 on server 2 should be exactly [{new_message}]: {status} {read}"
            ));
        }
        let (status, read) = new.rpc(json!(["stream.get", "imported-1"])).await;
        if status != 200 || read != json!([]) {
            failures.push(format!(
                "the stale token's import reached the new namespace: {status} {read}"
            ));
        }
        assert!(
            failures.is_empty(),
            "{} calls with the deleted namespace's token were not refused as they must be \
             (the servers' output follows):\n{}",
            failures.len(),
            failures.join("\n"),
        );
    })
    .await;
}

/// (b) A write on server 1 reaches an SSE subscriber on server 2 (LISTEN/NOTIFY) within 100 ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_instance_is_poked_on_the_other_within_100_ms() {
    const WRITES: usize = 20;
    let _serial = SERIAL.lock().await;
    let storage = Storage::postgres().await;
    bounded(TEST_LIMIT, "cross-instance notification latency", async {
        let (s1, s2) = two_servers(&storage).await;
        let mut sse = subscribe(s2.port, &format!("category=lat&token={}", admin_token()))
            .await
            .unwrap_or_else(|r| panic!("subscribe on server 2: {} {}", r.status, r.text()));
        sse.ready(Duration::from_secs(10)).await;
        let mut writer = s1.client(&admin_token());
        let mut latencies = Vec::new();
        for i in 0..WRITES {
            let sent = Instant::now();
            let (status, written) = writer
                .rpc(json!(["stream.write", "lat-1", {"type": "Lat", "data": {"i": i}}]))
                .await;
            assert_eq!(status, 200, "write {i} on server 1: {written}");
            let global = written["globalPosition"].clone();
            let (poke, arrived) = sse
                .next_poke(Duration::from_secs(5))
                .await
                .unwrap_or_else(|| panic!("no poke on server 2 for write {i} within 5 s"));
            assert_eq!(
                (&poke["stream"], &poke["position"], &poke["globalPosition"]),
                (&json!("lat-1"), &json!(i), &global),
                "pokes in order, one per write: {poke}"
            );
            latencies.push(arrived.saturating_duration_since(sent));
        }
        let ms: Vec<f64> = latencies
            .iter()
            .map(|d| (d.as_secs_f64() * 10_000.0).round() / 10.0)
            .collect();
        let mut sorted = latencies.clone();
        sorted.sort();
        let median = sorted[WRITES / 2];
        eprintln!(
            "write on server 1 -> poke on server 2, ms (from sending the write): {ms:?}; \
             median {median:?}, max {:?}",
            sorted[WRITES - 1]
        );
        assert!(
            median < Duration::from_millis(100),
            "median latency {median:?} >= 100 ms: {ms:?}"
        );
        assert!(
            sorted[WRITES - 1] < Duration::from_secs(1),
            "a poke took {:?}: {ms:?}",
            sorted[WRITES - 1]
        );
    })
    .await;
}

/// (c) Two writers, one per server, expecting the same version of one stream at the same time:
/// exactly one wins each round, the other gets 409 `STREAM_VERSION_CONFLICT`, and the stream
/// holds exactly the winners, one per round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expected_version_races_across_instances_have_one_winner() {
    const ROUNDS: i64 = 30;
    let _serial = SERIAL.lock().await;
    let storage = Storage::postgres().await;
    bounded(
        TEST_LIMIT,
        "expected-version races across instances",
        async {
            let (s1, s2) = two_servers(&storage).await;
            let (mut c1, mut c2) = (s1.client(&admin_token()), s2.client(&admin_token()));
            let mut winners = Vec::new();
            let mut wins = [0, 0];
            for round in 0..ROUNDS {
                let (id1, id2) = (new_id(), new_id());
                let write = |id: &str, server: u8| {
                    json!(["stream.write", "race-1",
                    {"type": "Race", "data": {"round": round, "server": server}},
                    {"id": id, "expectedVersion": round - 1}])
                };
                let (b1, b2) = (write(&id1, 1), write(&id2, 2));
                let ((st1, r1), (st2, r2)) = if round % 2 == 0 {
                    tokio::join!(c1.rpc(b1), c2.rpc(b2))
                } else {
                    let (second, first) = tokio::join!(c2.rpc(b2), c1.rpc(b1));
                    (first, second)
                };
                let (winner, loser) = match (st1, st2) {
                    (200, 409) => {
                        wins[0] += 1;
                        ((id1, r1), r2)
                    }
                    (409, 200) => {
                        wins[1] += 1;
                        ((id2, r2), r1)
                    }
                    _ => panic!(
                        "round {round}: want one 200 and one 409, got server 1: {st1} {r1}, \
                     server 2: {st2} {r2}"
                    ),
                };
                assert_eq!(error_code(&loser), "STREAM_VERSION_CONFLICT", "{loser}");
                assert_eq!(
                    loser["error"]["details"],
                    json!({"expected": round - 1, "actual": round}),
                    "the loser sees the winner's write"
                );
                assert_eq!(winner.1["position"], json!(round), "{}", winner.1);
                winners.push(winner.0);
            }
            eprintln!(
                "race winners: server 1 {} times, server 2 {} times",
                wins[0], wins[1]
            );
            for (name, client) in [("server 1", &mut c1), ("server 2", &mut c2)] {
                let (status, read) = client
                    .rpc(json!(["stream.get", "race-1", {"batchSize": -1}]))
                    .await;
                assert_eq!(status, 200, "{read}");
                let read = read.as_array().expect("an array");
                let ids: Vec<&str> = read.iter().filter_map(|m| m[0].as_str()).collect();
                let positions: Vec<i64> = read.iter().filter_map(|m| m[2].as_i64()).collect();
                assert_eq!(ids, winners, "{name}: exactly the winners, in order");
                assert_eq!(positions, (0..ROUNDS).collect::<Vec<_>>(), "{name}");
            }
        },
    )
    .await;
}

/// (d) A namespace deleted on server 1 is gone for server 2's administration calls and token
/// checks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_delete_on_one_instance_is_honoured_by_the_other() {
    let _serial = SERIAL.lock().await;
    let storage = Storage::postgres().await;
    bounded(TEST_LIMIT, "namespace delete across instances", async {
        let (s1, s2) = two_servers(&storage).await;
        let tf = create_namespace(&s1, "F").await;
        let mut admin2 = s2.client(&admin_token());
        let mut tenant2 = s2.client(&tf);
        // Server 2 knows F and its token.
        let (status, written) = tenant2
            .rpc(json!(["stream.write", "f-1", {"type": "F", "data": {}}]))
            .await;
        assert_eq!(status, 200, "a write with F's token on server 2: {written}");
        let (status, info) = admin2.rpc(json!(["ns.info", "F"])).await;
        assert_eq!(status, 200, "ns.info F on server 2: {info}");
        assert_eq!(info["messageCount"], json!(1), "{info}");

        delete_namespace(&s1, "F").await;

        let mut failures = Vec::new();
        let (status, info) = admin2.rpc(json!(["ns.info", "F"])).await;
        let verdict = status == 404 && error_code(&info) == "NAMESPACE_NOT_FOUND";
        eprintln!("server 2: ns.info F after the delete: {status} {info}");
        if !verdict {
            failures.push(format!(
                "ns.info F on server 2: want 404 NAMESPACE_NOT_FOUND, got {status} {info}"
            ));
        }
        let (status, list) = admin2.rpc(json!(["ns.list"])).await;
        eprintln!("server 2: ns.list after the delete: {status} {list}");
        let listed = list
            .as_array()
            .is_some_and(|l| l.iter().any(|n| n["namespace"] == json!("F")));
        if status != 200 || listed {
            failures.push(format!(
                "ns.list on server 2: want 200 without F, got {status} {list}"
            ));
        }
        let (status, written) = tenant2
            .rpc(json!(["stream.write", "f-1", {"type": "F", "data": {}}]))
            .await;
        eprintln!("server 2: a write with F's token after the delete: {status} {written}");
        if !is_unauthorized(status, &written) {
            failures.push(format!(
                "stream.write with F's token on server 2: want 403 AUTH_UNAUTHORIZED, \
                 got {status} {written}"
            ));
        }
        assert!(
            failures.is_empty(),
            "server 2 did not honour server 1's delete of F (the servers' output follows):\n{}",
            failures.join("\n"),
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_change_on_one_instance_is_honoured_by_the_other() {
    let _serial = SERIAL.lock().await;
    let storage = Storage::postgres().await;
    bounded(TEST_LIMIT, "token change across instances", async {
        let (mut s1, s2) = two_servers(&storage).await;
        let old = admin_token();
        let (status, list) = s2.client(&old).rpc(json!(["ns.list"])).await;
        assert_eq!(status, 200, "server 2 knows the admin token: {list}");
        // Server 1 comes back with another admin token: its start changes the token and is
        // listening only once the change has returned.
        s1.kill();
        let new = format!("ns_{}_{}", common::base64url("default"), "cd".repeat(32));
        let s3 = Server::start_with_token("s3", &storage, &new).await;
        for server in [&s2, &s3] {
            let (status, body) = server.client(&old).rpc(json!(["ns.list"])).await;
            assert!(
                is_unauthorized(status, &body),
                "the old admin token on {}: want 403 AUTH_UNAUTHORIZED, got {status} {body}",
                server.name
            );
            let (status, body) = server.client(&new).rpc(json!(["ns.list"])).await;
            assert_eq!(
                status, 200,
                "the new admin token on {}: {body}",
                server.name
            );
        }
    })
    .await;
}
