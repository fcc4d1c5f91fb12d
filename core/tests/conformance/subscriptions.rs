use std::time::Duration;

use messagedb::{ConsumerGroup, Message, SubscribeOpts, Subscription, WriteOpts};
use serde_json::json;

use crate::{Fixture, msg};

/// The next message, failing the test when none comes within 10 s.
pub async fn next(sub: &mut Subscription) -> Message {
    tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("a message within 10 s")
        .expect("subscription open")
        .expect("no error")
}

/// Asserts that nothing more arrives (within a short grace period).
async fn nothing_more(sub: &mut Subscription) {
    let r = tokio::time::timeout(Duration::from_millis(100), sub.next()).await;
    assert!(r.is_err(), "unexpected message: {r:?}");
}

pub async fn stream_subscription_history_then_live(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    for i in 0..3 {
        ns.write("acct-1", msg("T", json!({"i": i})), WriteOpts::default())
            .await
            .unwrap();
        ns.write("acct-2", msg("T", json!({"i": i})), WriteOpts::default())
            .await
            .unwrap();
    }
    let mut sub = ns
        .subscribe(SubscribeOpts::stream("acct-1").from_position(1))
        .await
        .unwrap();
    assert_eq!(next(&mut sub).await.position, 1);
    assert_eq!(next(&mut sub).await.position, 2);
    let writer = ns.clone();
    let live = tokio::spawn(async move {
        for i in 3..6 {
            writer
                .write("acct-2", msg("T", json!({"i": i})), WriteOpts::default())
                .await
                .unwrap();
            writer
                .write("acct-1", msg("T", json!({"i": i})), WriteOpts::default())
                .await
                .unwrap();
        }
    });
    for expected in 3..6 {
        let m = next(&mut sub).await;
        assert_eq!((m.stream_name.as_str(), m.position), ("acct-1", expected));
        assert_eq!(m.data.to_value(), json!({"i": expected}));
    }
    live.await.unwrap();
    nothing_more(&mut sub).await;
    let e = ns.subscribe(SubscribeOpts::stream("")).await.unwrap_err();
    assert_eq!(e.code(), "INVALID_REQUEST");
}

pub async fn category_subscription_with_consumer_group(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    ns.write("account-123", msg("T", json!({})), WriteOpts::default())
        .await
        .unwrap();
    ns.write("account-456", msg("T", json!({})), WriteOpts::default())
        .await
        .unwrap();
    let g = ConsumerGroup::new(1, 2).unwrap();
    let mut member1 = ns
        .subscribe(SubscribeOpts::category("account").consumer_group(g))
        .await
        .unwrap();
    let mut whole = ns
        .subscribe(SubscribeOpts::category("account"))
        .await
        .unwrap();
    ns.write(
        "account-123+retry",
        msg("T", json!({})),
        WriteOpts::default(),
    )
    .await
    .unwrap();
    ns.write("other-1", msg("T", json!({})), WriteOpts::default())
        .await
        .unwrap();
    ns.write("account-x", msg("T", json!({})), WriteOpts::default())
        .await
        .unwrap();
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(next(&mut whole).await.stream_name);
    }
    assert_eq!(
        got,
        vec![
            "account-123",
            "account-456",
            "account-123+retry",
            "account-x"
        ]
    );
    let expected: Vec<String> = got
        .iter()
        .filter(|s| messagedb::in_consumer_group(s, 1, 2))
        .cloned()
        .collect();
    assert!(
        expected.contains(&"account-123".to_string())
            && expected.contains(&"account-123+retry".to_string())
    );
    for name in &expected {
        assert_eq!(&next(&mut member1).await.stream_name, name);
    }
    nothing_more(&mut member1).await;
    nothing_more(&mut whole).await;
}

pub async fn all_subscription_from_a_position(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    for i in 0..1200 {
        ns.write(
            &format!("c{}-1", i % 5),
            msg("T", json!({})),
            WriteOpts::default(),
        )
        .await
        .unwrap();
    }
    let mut sub = ns
        .subscribe(SubscribeOpts::all().from_position(100))
        .await
        .unwrap();
    for gp in 100..=1200 {
        assert_eq!(
            next(&mut sub).await.global_position,
            gp,
            "history spans several pages in order"
        );
    }
    ns.write("late-1", msg("T", json!({})), WriteOpts::default())
        .await
        .unwrap();
    assert_eq!(next(&mut sub).await.global_position, 1201);
    nothing_more(&mut sub).await;
}

pub async fn slow_subscriber_falls_back_to_storage(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    let mut sub = ns.subscribe(SubscribeOpts::all()).await.unwrap();
    ns.write("a-1", msg("T", json!({})), WriteOpts::default())
        .await
        .unwrap();
    assert_eq!(next(&mut sub).await.global_position, 1);
    // Far more commits than the live buffer holds, while the subscriber is not reading: writers
    // must not wait for it.
    let n = 3000;
    tokio::time::timeout(Duration::from_secs(60), async {
        for i in 0..n {
            ns.write(
                &format!("a-{}", i % 10),
                msg("T", json!({"i": i})),
                WriteOpts::default(),
            )
            .await
            .unwrap();
        }
    })
    .await
    .expect("writers are never blocked by a slow subscriber");
    for gp in 2..=(n + 1) {
        assert_eq!(next(&mut sub).await.global_position, gp);
    }
    nothing_more(&mut sub).await;
}

pub async fn closing_the_store_ends_subscriptions(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    let mut sub = ns.subscribe(SubscribeOpts::category("acct")).await.unwrap();
    let waiter =
        tokio::spawn(async move { sub.next().await.map(|r| r.map(|m| m.global_position)) });
    tokio::task::yield_now().await;
    store.close().await;
    let ended = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("ends promptly")
        .unwrap();
    assert!(
        ended.is_none() || matches!(ended, Some(Err(messagedb::Error::Closed))),
        "{ended:?}"
    );
    let e = ns
        .write("acct-1", msg("T", json!({})), WriteOpts::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "CLOSED");
}

/// Two stores on one database (two processes sharing a directory or a PostgreSQL): a commit of the
/// other store between two of this store's commits is never skipped by this store's subscribers.
pub async fn another_stores_commit_is_never_skipped(f: &Fixture) {
    let Some(url) = f.url() else { return };
    let here = f.open().await;
    let there = messagedb::Store::open(&url).await.unwrap();
    let ns = here.namespace("default");
    let mut sub = ns.subscribe(SubscribeOpts::all()).await.unwrap();
    ns.write("a-1", msg("Here", json!({})), WriteOpts::default())
        .await
        .unwrap();
    assert_eq!(next(&mut sub).await.global_position, 1);
    for round in 0..3 {
        there
            .namespace("default")
            .write("b-1", msg("There", json!({})), WriteOpts::default())
            .await
            .unwrap();
        ns.write("a-1", msg("Here", json!({})), WriteOpts::default())
            .await
            .unwrap();
        let first = next(&mut sub).await;
        let second = next(&mut sub).await;
        assert_eq!(
            (first.global_position, first.message_type.as_str()),
            (2 + 2 * round, "There")
        );
        assert_eq!(
            (second.global_position, second.message_type.as_str()),
            (3 + 2 * round, "Here")
        );
    }
}

/// A subscriber is woken by another store's commits on the same database even when its own
/// store writes nothing (LISTEN/NOTIFY on PostgreSQL, a watch of the file on SQLite).
pub async fn another_stores_commit_wakes_subscribers(f: &Fixture) {
    let Some(url) = f.url() else { return };
    let here = f.open().await;
    let there = messagedb::Store::open(&url).await.unwrap();
    let mut sub = here
        .namespace("default")
        .subscribe(SubscribeOpts::category("remote"))
        .await
        .unwrap();
    for i in 0..3 {
        there
            .namespace("default")
            .write(
                "remote-1",
                msg("There", json!({"i": i})),
                WriteOpts::default(),
            )
            .await
            .unwrap();
        let m = next(&mut sub).await;
        assert_eq!((m.position, m.data.to_value()), (i, json!({"i": i})));
    }
    nothing_more(&mut sub).await;
}
