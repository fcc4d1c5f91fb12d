//! Counts and listings are kept as messages come and go (migrations 0002 on SQLite, 0005 on
//! PostgreSQL): after every kind of write they equal what reading every message says.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use messagedb::{
    CategorySummary, JsonObject, ListStreamsOpts, Message, Namespace, NewMessage, Store,
    StreamSummary, WriteOpts,
};
use serde_json::json;
use uuid::Uuid;

use crate::{Fixture, msg};

/// Counts, categories and streams as the namespace reports them.
async fn reported(
    store: &Store,
    ns: &Namespace,
) -> (
    i64,
    i64,
    Vec<(String, i64, i64)>,
    Vec<(String, i64, DateTime<Utc>)>,
) {
    let info = store.namespace_info(ns.id()).await.unwrap();
    let mut streams = Vec::new();
    let mut opts = ListStreamsOpts::default().limit(2);
    loop {
        let page: Vec<StreamSummary> = ns.list_streams(&opts).await.unwrap();
        let Some(last) = page.last() else { break };
        opts = opts.cursor(last.stream.clone());
        streams.extend(
            page.into_iter()
                .map(|s| (s.stream, s.version, s.last_activity)),
        );
    }
    let categories = ns
        .list_categories()
        .await
        .unwrap()
        .into_iter()
        .map(|c: CategorySummary| (c.category, c.stream_count, c.message_count))
        .collect();
    (info.message_count, info.stream_count, categories, streams)
}

/// The same, computed from every message of the namespace.
async fn counted(
    ns: &Namespace,
) -> (
    i64,
    i64,
    Vec<(String, i64, i64)>,
    Vec<(String, i64, DateTime<Utc>)>,
) {
    let mut all = Vec::new();
    let mut export = ns.export(1);
    loop {
        let page = export.next_page().await.unwrap();
        if page.is_empty() {
            break;
        }
        all.extend(page);
    }
    let mut versions: BTreeMap<Vec<u8>, (String, i64, DateTime<Utc>)> = BTreeMap::new();
    let mut categories: BTreeMap<Vec<u8>, (String, i64, i64)> = BTreeMap::new();
    for m in &all {
        let v = versions
            .entry(m.stream_name.as_bytes().to_vec())
            .or_insert((m.stream_name.clone(), -1, m.time));
        let new = v.1 < 0;
        if m.position > v.1 {
            (v.1, v.2) = (m.position, m.time);
        }
        let c = messagedb::category(&m.stream_name).to_string();
        let e = categories.entry(c.as_bytes().to_vec()).or_insert((c, 0, 0));
        e.1 += i64::from(new);
        e.2 += 1;
    }
    let categories = categories.into_values().collect();
    (
        all.len() as i64,
        versions.len() as i64,
        categories,
        versions.into_values().collect(),
    )
}

fn imported(stream: &str, position: i64, global_position: i64) -> Message {
    Message::from_parts(
        Uuid::now_v7(),
        stream.into(),
        "Imported".into(),
        position,
        global_position,
        JsonObject::from_json("{}", "data").unwrap(),
        None,
        DateTime::from_timestamp_micros(1_700_000_000_000_000).unwrap(),
    )
}

pub async fn counts_and_listings_follow_every_write(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    let check = |when: &'static str| {
        let (store, ns) = (store.clone(), ns.clone());
        async move {
            let (got, want) = (reported(&store, &ns).await, counted(&ns).await);
            assert_eq!(got.0, want.0, "message count {when}");
            assert_eq!(got.1, want.1, "stream count {when}");
            assert_eq!(got.2, want.2, "categories {when}");
            assert_eq!(
                got.3, want.3,
                "streams, versions and times in byte order {when}"
            );
        }
    };
    check("when empty").await;
    // Names whose byte order differs from a language's collation order.
    for stream in [
        "zeta-1", "Zeta-1", "été-1", "eta-1", "eta-2", "eta", "eta-1",
    ] {
        ns.write(stream, msg("T", json!({})), WriteOpts::default())
            .await
            .unwrap();
    }
    check("after single writes").await;
    let batch = (0..5)
        .map(|i| msg("B", json!({ "i": i })))
        .collect::<Vec<NewMessage>>();
    ns.write_batch("eta-3", batch.clone(), WriteOpts::default())
        .await
        .unwrap();
    ns.write_batch("eta-1", batch.clone(), WriteOpts::default())
        .await
        .unwrap();
    check("after batches").await;
    let conflict = ns.write_batch("eta-4", batch, WriteOpts::expect(3)).await;
    assert_eq!(conflict.unwrap_err().code(), "STREAM_VERSION_CONFLICT");
    check("after a refused batch (nothing counted)").await;
    let writers = (0..4).map(|w| {
        let ns = ns.clone();
        tokio::spawn(async move {
            for i in 0..10 {
                let stream = format!("race{}-{}", w % 2, i % 3);
                ns.write(&stream, msg("R", json!({})), WriteOpts::default())
                    .await
                    .unwrap();
            }
        })
    });
    for w in writers {
        w.await.unwrap();
    }
    check("after concurrent writers").await;
    let head = ns
        .get_category("", &Default::default())
        .await
        .unwrap()
        .last()
        .unwrap()
        .global_position;
    ns.import(vec![
        imported("import-1", 0, head + 1),
        imported("import-1", 1, head + 2),
        imported("eta-2", 1, head + 3),
        imported("late-9", 4, head + 4),
    ])
    .await
    .unwrap();
    check("after an import").await;
    assert!(ns.clear().await.unwrap() > 0);
    check("after a clear").await;
    ns.write("eta-1", msg("T", json!({})), WriteOpts::default())
        .await
        .unwrap();
    check("after writing again").await;
}

/// More messages than one count-up step adds (SQLite counts 100,000 global positions per step,
/// with writes between steps): every one is counted, once.
pub async fn counts_of_a_large_import(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    let total: i64 = 250_001;
    let mut next = 1;
    while next <= total {
        let chunk: Vec<Message> = (next..(next + 50_000).min(total + 1))
            .map(|g| {
                let stream = g % 1000;
                imported(&format!("bulk{}-{stream}", stream % 7), (g - 1) / 1000, g)
            })
            .collect();
        next += chunk.len() as i64;
        ns.import(chunk).await.unwrap();
    }
    // Imported global positions may leave gaps: a step counts messages, not positions.
    ns.import(vec![imported("far-1", 0, 1 << 52)])
        .await
        .unwrap();
    let info = store.namespace_info("default").await.unwrap();
    assert_eq!((info.message_count, info.stream_count), (total + 1, 1001));
    let categories = ns.list_categories().await.unwrap();
    assert_eq!(categories.len(), 8);
    assert_eq!(
        categories.iter().map(|c| c.message_count).sum::<i64>(),
        total + 1
    );
    let first = ns
        .list_streams(&ListStreamsOpts::default().limit(1))
        .await
        .unwrap();
    assert_eq!(
        (first[0].stream.as_str(), first[0].version),
        ("bulk0-0", 249)
    );
}
