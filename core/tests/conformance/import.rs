use chrono::DateTime;
use messagedb::{JsonObject, Message, NamespaceOpts, WriteOpts};
use serde_json::json;
use uuid::Uuid;

use crate::{Fixture, msg};

fn record(stream: &str, pos: i64, gpos: i64) -> Message {
    Message::from_parts(
        Uuid::now_v7(),
        stream.into(),
        "Imported".into(),
        pos,
        gpos,
        JsonObject::from_json(&format!(r#"{{"gpos":{gpos}}}"#), "data").unwrap(),
        Some(JsonObject::from_json(r#"{"correlationStreamName":"origin-1"}"#, "meta").unwrap()),
        DateTime::from_timestamp_micros(1_700_000_000_123_456 + gpos).unwrap(),
    )
}

pub async fn import_keeps_positions_and_writes_continue_after(f: &Fixture) {
    let store = f.open().await;
    store
        .create_namespace("target", NamespaceOpts::default())
        .await
        .unwrap();
    let ns = store.namespace("target");
    let records = vec![
        record("acct-1", 0, 10),
        record("acct-2", 0, 11),
        record("acct-1", 1, 15),
    ];
    let r = ns.import(records.clone()).await.unwrap();
    assert_eq!((r.imported, r.last_global_position), (3, 15));
    let stored = ns.get_category("", &Default::default()).await.unwrap();
    let key = |m: &Message| {
        (
            m.id,
            m.stream_name.clone(),
            m.message_type.clone(),
            m.position,
            m.global_position,
            m.time,
        )
    };
    assert_eq!(
        stored.iter().map(key).collect::<Vec<_>>(),
        records.iter().map(key).collect::<Vec<_>>(),
        "ids, positions, global positions and times kept exactly"
    );
    for (s, r) in stored.iter().zip(&records) {
        assert_eq!(
            s.data.to_value(),
            r.data.to_value(),
            "JSON kept (PostgreSQL normalizes its text)"
        );
        assert_eq!(
            s.metadata.as_ref().map(|m| m.to_value()),
            r.metadata.as_ref().map(|m| m.to_value())
        );
    }
    let corr = ns
        .get_category(
            "acct",
            &messagedb::CategoryOpts::default().correlation("origin"),
        )
        .await
        .unwrap();
    assert_eq!(
        corr.len(),
        3,
        "imported messages are indexed like written ones"
    );
    let w = ns
        .write("acct-1", msg("After", json!({})), WriteOpts::expect(1))
        .await
        .unwrap();
    assert_eq!((w.position, w.global_position), (2, 16));
    // A later import goes after the namespace's end.
    let r = ns.import(vec![record("acct-3", 0, 100)]).await.unwrap();
    assert_eq!(r.last_global_position, 100);
    let w = ns
        .write("acct-3", msg("After", json!({})), WriteOpts::default())
        .await
        .unwrap();
    assert_eq!((w.position, w.global_position), (1, 101));
    // Clearing empties the namespace for a forced import.
    assert_eq!(ns.clear().await.unwrap(), 6);
    ns.import(vec![record("acct-1", 0, 1)]).await.unwrap();
    assert_eq!(
        ns.get_category("", &Default::default())
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn import_refuses_taken_positions_atomically(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    ns.import(vec![record("acct-1", 0, 5)]).await.unwrap();
    let e = ns.import(vec![record("acct-9", 0, 5)]).await.unwrap_err();
    assert_eq!(e.code(), "POSITION_EXISTS");
    let e = ns
        .import(vec![record("acct-9", 0, 6), record("acct-1", 0, 7)])
        .await
        .unwrap_err();
    assert_eq!(e.code(), "POSITION_EXISTS");
    assert_eq!(e.to_string(), "position 0 of stream 'acct-1' exists");
    assert_eq!(
        ns.stream_version("acct-9").await.unwrap(),
        None,
        "the failed batch wrote nothing"
    );
    let existing = ns.get_last("acct-1", None).await.unwrap().unwrap();
    let mut dup = record("acct-5", 0, 8);
    dup.id = existing.id;
    let e = ns
        .import(vec![record("acct-4", 0, 7), dup])
        .await
        .unwrap_err();
    assert_eq!(e.code(), "DUPLICATE_MESSAGE_ID");
    assert_eq!(ns.stream_version("acct-4").await.unwrap(), None);
    let e = ns
        .import(vec![record("acct-4", 0, 9), record("acct-4", 1, 9)])
        .await
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_REQUEST");
    let e = ns.import(vec![record("acct-4", -1, 9)]).await.unwrap_err();
    assert_eq!(e.code(), "INVALID_REQUEST");
    assert_eq!(
        ns.get_category("", &Default::default())
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn export_pages_in_global_order(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    for i in 0..2500 {
        ns.write(
            &format!("c{}-{}", i % 7, i % 13),
            msg("T", json!({"i": i})),
            WriteOpts::default(),
        )
        .await
        .unwrap();
    }
    let mut export = ns.export(1);
    let mut seen = Vec::new();
    loop {
        let page = export.next_page().await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 1000);
        seen.extend(page.into_iter().map(|m| m.global_position));
    }
    assert_eq!(seen, (1..=2500).collect::<Vec<_>>());
    let mut tail = ns.export(2401);
    assert_eq!(tail.next_page().await.unwrap().len(), 100);
}
