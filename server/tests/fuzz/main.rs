//! A bounded, seeded fuzz of the server's HTTP surface (wire-protocol.md §2–§6), on SQLite in
//! memory and on PostgreSQL.
//!
//! The server runs in-process on 127.0.0.1, port 0, normal (not test) mode, a fixed admin token.
//! A few thousand requests, generated from one seed by a splitmix64 generator, go over raw TCP,
//! one request per connection (`Connection: close`): every route (`/rpc`, `/subscribe`,
//! `/import`, `/health`, `/version`, `/metrics`, unknown paths), wrong methods on each, every RPC
//! method of §3 (and unknown ones), authentication variants (§2.1), odd headers and framing;
//! requests start valid and are mutated (wrong JSON types, missing and extra arguments, huge,
//! negative and fractional numbers, numbers beyond i64, long strings, `\u0000`, lone surrogates,
//! non-UTF-8 bytes, deep nesting, truncation, …). Valid writes are interleaved throughout and
//! read back at the end.
//!
//! Every response must be complete and below 500; every error must be `Content-Type:
//! application/json` with `{"error":{"code":C,"message":M}}`, C in the table of §3, M non-empty —
//! except `/subscribe` parameter errors, which §4 makes 400 plain text. `/import` reports record
//! errors as events; a malformed record must be `INVALID_JSON`/`INVALID_RECORD`, never
//! `IMPORT_FAILED`. Violations are collected, not stopped at, and reported together.
//!
//! The seed is printed; `MESSAGEDB_FUZZ_SEED` (decimal or `0x` hex) replays another.
//!
//! Here: the run loop and the two tests. What is sent is built in `scenarios/` (one file per
//! route family) from `rng`, `names` and `json_gen`, framed by `requests`, exchanged by `wire`;
//! answers are held to `checks` and `import_check`, and violations gathered in `findings`.

mod checks;
#[path = "../common/mod.rs"]
mod common;
mod findings;
mod import_check;
mod json_gen;
mod json_read;
mod names;
mod requests;
mod rng;
mod scenarios;
mod wire;

use std::time::{Duration, Instant};

use messagedb_server::{ServeConfig, start};
use serde_json::json;

use findings::Findings;
use requests::{OK, Req, Route};
use scenarios::Run;

/// The `default` namespace's (admin) token of the server under test.
const ADMIN_TOKEN: &str =
    "ns_ZGVmYXVsdA_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
/// Requests per backend (valid writes, imports' follow-ups and the read-back come on top).
const REQUESTS: usize = 3000;
/// The longest one request may take, sent and answered.
const REQUEST_DEADLINE: Duration = Duration::from_secs(10);
/// The whole run of one backend (its requests, then the read-back).
const RUN_DEADLINE: Duration = Duration::from_secs(45);
/// Distinct violations shown in the failure message (all are printed to stderr).
const SHOWN: usize = 30;

/// Creates a namespace for the run (as the admin); its token.
async fn setup_namespace(run: &mut Run, id: &str) -> Option<String> {
    let label = "ns.create (setup)";
    let body = json!(["ns.create", id, {"description": "fuzz"}]).to_string();
    let token = run
        .call(ADMIN_TOKEN, body, label)
        .await
        .and_then(|v| v["token"].as_str().map(String::from));
    if token.is_none() {
        let cannot = format!("cannot create {id}");
        run.f.add("setup failed", &Req::rpc(label), None, cannot);
    }
    token
}

/// Runs the whole fuzz against a server; returns what it found.
async fn fuzz(port: u16, seed: u64) -> Findings {
    let started = Instant::now();
    let mut run = Run::new(port, seed, ADMIN_TOKEN);
    let Some(tenant) = setup_namespace(&mut run, "fuzz_tenant").await else {
        return run.f;
    };
    run.tenant = tenant;
    let Some(importer) = setup_namespace(&mut run, "fuzz_import").await else {
        return run.f;
    };
    run.importer = importer;
    for i in 0..REQUESTS {
        if started.elapsed() > RUN_DEADLINE {
            run.f.add(
                "run deadline exceeded",
                &Req::run(),
                None,
                format!(
                    "{i} of {REQUESTS} requests sent in {}s",
                    RUN_DEADLINE.as_secs()
                ),
            );
            break;
        }
        match run.rng.below(100) {
            0..=14 => run.valid_write().await,
            15..=61 => run.rpc().await,
            62..=71 => run.subscribe().await,
            72..=80 => run.import().await,
            81..=85 => run.plain().await,
            86..=93 => run.wrong_method().await,
            _ => run.unknown_path().await,
        }
    }
    run.read_back().await;
    let mut health = Req::new(
        Route::Health,
        "GET",
        "/health".into(),
        "GET /health (at the end)".into(),
    );
    health.expect = OK;
    if run.send(&health).await.is_none() {
        run.f.add(
            "server gone at the end",
            &health,
            None,
            "no answer to /health",
        );
    }
    let (valid, accepted) = run.written();
    eprintln!(
        "{valid} valid writes read back, {accepted} accepted mutated writes checked, {:.1}s",
        started.elapsed().as_secs_f64()
    );
    run.f
}

/// Starts a server on `db_url` and fuzzes it (bounded by the run's deadline and a margin).
async fn fuzz_backend(backend: &str, db_url: String) -> (Findings, u64) {
    let seed = rng::seed();
    eprintln!("fuzz seed for {backend}: {seed} ({seed:#x}); set MESSAGEDB_FUZZ_SEED to replay");
    let server = start(ServeConfig {
        port: 0,
        host: Some("127.0.0.1".into()),
        test_mode: false,
        token: Some(ADMIN_TOKEN.into()),
        db_url: Some(db_url),
        ..ServeConfig::default()
    })
    .await
    .expect("start the server");
    let whole_run = RUN_DEADLINE + Duration::from_secs(10);
    let findings = match tokio::time::timeout(whole_run, fuzz(server.port, seed)).await {
        Ok(f) => f,
        Err(_) => {
            let mut f = Findings::default();
            f.add(
                "whole-run deadline exceeded",
                &Req::run(),
                None,
                "the fuzz did not finish",
            );
            f
        }
    };
    server.stop(Duration::from_millis(500)).await;
    (findings, seed)
}

/// Prints the whole report; fails with its start when anything was found.
fn conclude(backend: &str, findings: &Findings, seed: u64) {
    eprintln!("{}", findings.report(backend, seed, usize::MAX));
    assert!(
        findings.total == 0,
        "{}",
        findings.report(backend, seed, SHOWN)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzz_sqlite_in_memory() {
    let (findings, seed) = fuzz_backend("sqlite (in memory)", "sqlite::memory:".into()).await;
    conclude("sqlite (in memory)", &findings, seed);
}

/// On a database of its own (dropped afterwards, even on failure); fails without
/// `MESSAGEDB_TEST_PG_URL`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzz_postgres() {
    let db = common::TestDb::create().await;
    let (findings, seed) = fuzz_backend("postgres", db.url.clone()).await;
    conclude("postgres", &findings, seed);
}
