use std::collections::HashSet;
use std::time::Duration;

use messagedb::{NamespaceOpts, Store, SubscribeOpts, WriteOpts};
use serde_json::json;

use crate::subscriptions::next;
use crate::{Fixture, msg};

/// 8 writers race on the same streams with expected versions: exactly one wins each race,
/// positions stay gapless, nothing acknowledged is lost.
pub async fn racing_writers_have_one_winner_per_race(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    let streams = 5;
    let rounds = 40;
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let ns = ns.clone();
        tasks.push(tokio::spawn(async move {
            let mut wins = Vec::new();
            for round in 0..rounds {
                for s in 0..streams {
                    let stream = format!("race-{s}");
                    let expected = round - 1;
                    let m = msg("Claimed", json!({"writer": writer, "round": round}));
                    match ns.write(&stream, m, WriteOpts::expect(expected)).await {
                        Ok(r) => {
                            assert_eq!(r.position, round);
                            wins.push((stream.clone(), round, writer));
                        }
                        Err(messagedb::Error::VersionConflict { actual, .. }) => {
                            assert!(actual >= expected, "the stream never goes backwards");
                        }
                        Err(e) => panic!("unexpected error {e:?}"),
                    }
                    // Wait until the round's winner is visible before racing the next round.
                    while ns.stream_version(&stream).await.unwrap().unwrap_or(-1) < round {
                        tokio::task::yield_now().await;
                    }
                }
            }
            wins
        }));
    }
    let mut wins = Vec::new();
    for t in tasks {
        wins.extend(t.await.unwrap());
    }
    assert_eq!(
        wins.len() as i64,
        streams * rounds,
        "exactly one winner per race"
    );
    for s in 0..streams {
        let stored = ns
            .get_stream(
                &format!("race-{s}"),
                &messagedb::GetStreamOpts::default().batch_size(-1),
            )
            .await
            .unwrap();
        assert_eq!(
            stored.iter().map(|m| m.position).collect::<Vec<_>>(),
            (0..rounds).collect::<Vec<_>>()
        );
        for m in &stored {
            let writer = m.data.to_value()["writer"].as_i64().unwrap();
            assert!(
                wins.contains(&(format!("race-{s}"), m.position, writer)),
                "the stored message is the winner's"
            );
        }
    }
    let all = ns
        .get_category("", &messagedb::CategoryOpts::default().batch_size(-1))
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|m| m.global_position).collect::<Vec<_>>(),
        (1..=streams * rounds).collect::<Vec<_>>()
    );
}

/// A whole-namespace subscription running during 10,000 concurrent writes over 100 categories
/// receives every global position exactly once, in order.
pub async fn whole_namespace_subscription_during_concurrent_writes(f: &Fixture) {
    let store = f.open().await;
    store
        .create_namespace("busy", NamespaceOpts::default())
        .await
        .unwrap();
    let ns = store.namespace("busy");
    let mut sub = ns.subscribe(SubscribeOpts::all()).await.unwrap();
    let mut category_sub = ns.subscribe(SubscribeOpts::category("cat7")).await.unwrap();
    let total: i64 = 10_000;
    let writers = 16;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let ns = ns.clone();
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in (w..total).step_by(writers as usize) {
                let stream = format!("cat{}-{}", i % 100, i % 7);
                let r = ns
                    .write(&stream, msg("T", json!({"i": i})), WriteOpts::default())
                    .await
                    .unwrap();
                acked.push(r.global_position);
            }
            acked
        }));
    }
    let reader = tokio::spawn(async move {
        let mut got = Vec::with_capacity(total as usize);
        while (got.len() as i64) < total {
            got.push(next(&mut sub).await.global_position);
        }
        got
    });
    let mut acked = Vec::new();
    for t in tasks {
        acked.extend(t.await.unwrap());
    }
    let got = tokio::time::timeout(Duration::from_secs(120), reader)
        .await
        .expect("reader finishes")
        .unwrap();
    assert_eq!(
        got,
        (1..=total).collect::<Vec<_>>(),
        "every global position once, in order"
    );
    acked.sort_unstable();
    assert_eq!(acked, got, "every acknowledged write was delivered");
    let expected_cat7: Vec<i64> = ns
        .get_category("cat7", &messagedb::CategoryOpts::default().batch_size(-1))
        .await
        .unwrap()
        .iter()
        .map(|m| m.global_position)
        .collect();
    assert_eq!(expected_cat7.len(), 100);
    for gp in expected_cat7 {
        assert_eq!(next(&mut category_sub).await.global_position, gp);
    }
}

/// A store reopened after writes has every acknowledged write (file-backed stores).
pub async fn reopened_store_has_every_acknowledged_write(f: &Fixture) {
    let store = f.open().await;
    store
        .create_namespace("durable", NamespaceOpts::default())
        .await
        .unwrap();
    let ns = store.namespace("durable");
    let mut tasks = Vec::new();
    for w in 0..8 {
        let ns = ns.clone();
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..50 {
                let r = ns
                    .write(
                        &format!("d-{w}"),
                        msg("T", json!({"i": i})),
                        WriteOpts::default(),
                    )
                    .await
                    .unwrap();
                acked.push((format!("d-{w}"), r.position, r.global_position));
            }
            acked
        }));
    }
    let batch = (0..10).map(|i| msg("B", json!({"i": i}))).collect();
    ns.write_batch("batch-1", batch, WriteOpts::default())
        .await
        .unwrap();
    let mut acked = Vec::new();
    for t in tasks {
        acked.extend(t.await.unwrap());
    }
    let Some(dir) = f.dir() else { return };
    // Drop without closing, as a crashing process would, then reopen.
    drop(ns);
    drop(store);
    let reopened = Store::open(&format!("sqlite://{}", dir.display()))
        .await
        .unwrap();
    let ns = reopened.namespace("durable");
    let all = ns
        .get_category("", &messagedb::CategoryOpts::default().batch_size(-1))
        .await
        .unwrap();
    assert_eq!(all.len(), 410);
    for (stream, pos, gp) in acked {
        let m = &ns
            .get_stream(
                &stream,
                &messagedb::GetStreamOpts::default()
                    .position(pos)
                    .batch_size(1),
            )
            .await
            .unwrap()[0];
        assert_eq!((m.position, m.global_position), (pos, gp));
    }
    let w = ns
        .write("d-0", msg("T", json!({})), WriteOpts::expect(49))
        .await
        .unwrap();
    assert_eq!(w.global_position, 411, "positions continue after reopening");
}

/// A namespace created at migration 1 and upgraded at open has the schema of a fresh one, and keeps
/// its data (file-backed stores).
pub async fn upgrade_from_migration_1_equals_fresh(f: &Fixture) {
    let Some(dir) = f.dir() else { return };
    messagedb::testing::create_sqlite_namespace_at(dir, "old", 1)
        .await
        .unwrap();
    // Messages written at migration 1 are counted by migration 2.
    let old_db = rusqlite::Connection::open(dir.join("namespaces/old.sqlite3")).unwrap();
    old_db
        .execute_batch(
            "INSERT INTO messages (position, time, stream_name, category, type, data, id)
             VALUES (0, 1, 'a-1', 'a', 'T', '{}', x'01'), (1, 2, 'a-1', 'a', 'T', '{}', x'02'),
                    (0, 3, 'b-1', 'b', 'T', '{}', x'03')",
        )
        .unwrap();
    drop(old_db);
    let store = Store::open(&format!("sqlite://{}", dir.display()))
        .await
        .unwrap();
    store
        .namespace("old")
        .write("s-1", msg("T", json!({})), WriteOpts::default())
        .await
        .unwrap();
    store
        .create_namespace("fresh", NamespaceOpts::default())
        .await
        .unwrap();
    store.close().await;
    let old = messagedb::testing::sqlite_namespace_schema(dir, "old").unwrap();
    let fresh = messagedb::testing::sqlite_namespace_schema(dir, "fresh").unwrap();
    assert_eq!(old, fresh);
    let latest = messagedb::migrations::SQLITE_NAMESPACE
        .last()
        .unwrap()
        .version;
    assert_eq!(fresh.0, latest);
    let names: HashSet<&str> = messagedb::migrations::SQLITE_NAMESPACE
        .iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names.len(), messagedb::migrations::SQLITE_NAMESPACE.len());
    let store = Store::open(&format!("sqlite://{}", dir.display()))
        .await
        .unwrap();
    assert_eq!(
        store.namespace("old").stream_version("s-1").await.unwrap(),
        Some(0)
    );
    let info = store.namespace_info("old").await.unwrap();
    assert_eq!((info.message_count, info.stream_count), (4, 3));
    let categories: Vec<(String, i64, i64)> = store
        .namespace("old")
        .list_categories()
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.category, c.stream_count, c.message_count))
        .collect();
    assert_eq!(
        categories,
        [("a".into(), 1, 2), ("b".into(), 1, 1), ("s".into(), 1, 1)]
    );
}
