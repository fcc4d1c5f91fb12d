use messagedb::{Error, NewMessage, WriteOpts};
use serde_json::json;
use uuid::Uuid;

use crate::{Fixture, msg};

pub async fn write_assigns_positions_and_a_uuid_v7(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    let a = ns
        .write(
            "account-1",
            msg("Opened", json!({"n": 0})),
            WriteOpts::default(),
        )
        .await
        .unwrap();
    let b = ns
        .write(
            "account-1",
            msg("Deposited", json!({"n": 1})),
            WriteOpts::default(),
        )
        .await
        .unwrap();
    let c = ns
        .write(
            "account-2",
            msg("Opened", json!({"n": 2})),
            WriteOpts::default(),
        )
        .await
        .unwrap();
    assert_eq!((a.position, a.global_position), (0, 1));
    assert_eq!((b.position, b.global_position), (1, 2));
    assert_eq!((c.position, c.global_position), (0, 3));
    let stored = ns
        .get_stream("account-1", &Default::default())
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(
        stored[0].id.get_version_num(),
        7,
        "generated ids are UUIDv7"
    );
    assert_ne!(stored[0].id, stored[1].id);
    assert_eq!(stored[1].message_type, "Deposited");
    assert_eq!(stored[1].data.to_value(), json!({"n": 1}));
    assert_eq!(stored[1].metadata, None);
}

pub async fn write_keeps_a_given_id_and_refuses_a_duplicate(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    let id = Uuid::parse_str("4f0c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f").unwrap();
    ns.write(
        "order-1",
        msg("Placed", json!({})).with_id(id),
        WriteOpts::default(),
    )
    .await
    .unwrap();
    let dup = ns
        .write(
            "order-2",
            msg("Placed", json!({})).with_id(id),
            WriteOpts::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(dup, Error::DuplicateMessageId(ref s) if s == &id.to_string()),
        "{dup:?}"
    );
    assert_eq!(dup.code(), "DUPLICATE_MESSAGE_ID");
    assert_eq!(
        ns.stream_version("order-2").await.unwrap(),
        None,
        "nothing written"
    );
    let stored = ns.get_last("order-1", None).await.unwrap().unwrap();
    assert_eq!(stored.id, id);
}

pub async fn expected_version_is_checked_atomically(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    ns.write("account-9", msg("Opened", json!({})), WriteOpts::expect(-1))
        .await
        .unwrap();
    let again = ns
        .write("account-9", msg("Opened", json!({})), WriteOpts::expect(-1))
        .await
        .unwrap_err();
    match &again {
        Error::VersionConflict {
            expected,
            actual,
            stream,
        } => {
            assert_eq!((*expected, *actual, stream.as_str()), (-1, 0, "account-9"));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        again.to_string(),
        "Expected version -1, stream is at version 0"
    );
    ns.write(
        "account-9",
        msg("Deposited", json!({})),
        WriteOpts::expect(0),
    )
    .await
    .unwrap();
    let stale = ns
        .write(
            "account-9",
            msg("Deposited", json!({})),
            WriteOpts::expect(0),
        )
        .await
        .unwrap_err();
    assert_eq!(stale.code(), "STREAM_VERSION_CONFLICT");
    assert_eq!(
        stale.to_string(),
        "Expected version 0, stream is at version 1"
    );
    let empty = ns
        .write(
            "account-new",
            msg("Deposited", json!({})),
            WriteOpts::expect(3),
        )
        .await
        .unwrap_err();
    assert_eq!(
        empty.to_string(),
        "Expected version 3, stream is at version -1"
    );
    assert_eq!(ns.stream_version("account-9").await.unwrap(), Some(1));
    assert_eq!(ns.stream_version("account-new").await.unwrap(), None);
}

pub async fn batch_is_contiguous_and_atomic(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    ns.write("other-1", msg("X", json!({})), WriteOpts::default())
        .await
        .unwrap();
    let batch: Vec<NewMessage> = (0..5).map(|i| msg("Item", json!({"i": i}))).collect();
    let r = ns
        .write_batch("cart-1", batch, WriteOpts::expect(-1))
        .await
        .unwrap();
    assert_eq!(
        (
            r.position,
            r.global_position,
            r.last_position,
            r.last_global_position
        ),
        (0, 2, 4, 6)
    );
    let stored = ns.get_stream("cart-1", &Default::default()).await.unwrap();
    let positions: Vec<i64> = stored.iter().map(|m| m.position).collect();
    assert_eq!(positions, vec![0, 1, 2, 3, 4]);
    let gps: Vec<i64> = stored.iter().map(|m| m.global_position).collect();
    assert_eq!(gps, vec![2, 3, 4, 5, 6]);

    // A duplicate id in the middle fails the whole batch.
    let taken = stored[2].id;
    let bad = vec![
        msg("Item", json!({})),
        msg("Item", json!({})).with_id(taken),
        msg("Item", json!({})),
    ];
    let e = ns
        .write_batch("cart-1", bad, WriteOpts::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "DUPLICATE_MESSAGE_ID");
    assert_eq!(
        ns.stream_version("cart-1").await.unwrap(),
        Some(4),
        "no message of the failed batch landed"
    );
    // A stale expected version fails the whole batch too.
    let e = ns
        .write_batch(
            "cart-1",
            vec![msg("Item", json!({})), msg("Item", json!({}))],
            WriteOpts::expect(2),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "STREAM_VERSION_CONFLICT");
    let e = ns
        .write_batch("cart-1", vec![], WriteOpts::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_REQUEST");
    // The next write continues right after the batch.
    let next = ns
        .write("cart-1", msg("Item", json!({})), WriteOpts::expect(4))
        .await
        .unwrap();
    assert_eq!((next.position, next.global_position), (5, 7));
}

pub async fn bad_input_writes_nothing(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    let e = ns
        .write("", msg("T", json!({})), WriteOpts::default())
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.to_string().as_str()),
        ("INVALID_REQUEST", "streamName must be a non-empty string")
    );
    let e = NewMessage::new("", json!({})).unwrap_err();
    assert_eq!(e.to_string(), "message.type must be a non-empty string");
    let e = NewMessage::new("T", json!([1, 2])).unwrap_err();
    assert_eq!(e.to_string(), "message.data must be an object");
    let e = msg("T", json!({})).with_metadata(json!("x")).unwrap_err();
    assert_eq!(e.to_string(), "message.metadata must be an object");
    let e = messagedb::JsonObject::from_json("{not json", "message.data").unwrap_err();
    assert_eq!(e.code(), "INVALID_REQUEST");
    // PostgreSQL cannot store U+0000, so no backend takes it.
    let e = messagedb::JsonObject::from_json(r#"{"s":"a\u0000"}"#, "message.data").unwrap_err();
    assert_eq!(
        e.to_string(),
        "message.data must not contain the character U+0000"
    );
    let e = NewMessage::new("T", json!({"s": "a\u{0}b"})).unwrap_err();
    assert_eq!(e.code(), "INVALID_REQUEST");
    // An empty type slipped past the constructor is still refused by the store.
    let sneaky = NewMessage::from_parts(
        "",
        messagedb::JsonObject::from_json("{}", "d").unwrap(),
        None,
        None,
    );
    let e = ns
        .write("s-1", sneaky, WriteOpts::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_REQUEST");
    assert!(
        ns.get_category("", &Default::default())
            .await
            .unwrap()
            .is_empty(),
        "nothing was written"
    );
    // Metadata null means none.
    ns.write(
        "s-1",
        msg("T", json!({})).with_metadata(json!(null)).unwrap(),
        WriteOpts::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        ns.get_last("s-1", None).await.unwrap().unwrap().metadata,
        None
    );
}

pub async fn json_and_time_round_trip_exactly(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    let data = r#"{"big":123456789012345678901234567890,"exact":9007199254740993,"f":0.1,"s":"é\"\\u0000","nested":{"a":[1,{"b":null}]}}"#;
    let m = NewMessage::from_parts(
        "Typed",
        messagedb::JsonObject::from_json(data, "message.data").unwrap(),
        Some(
            messagedb::JsonObject::from_json(
                r#"{"correlationStreamName":"other-1","n":18446744073709551616}"#,
                "m",
            )
            .unwrap(),
        ),
        None,
    );
    let before = chrono::Utc::now();
    ns.write("json-1", m, WriteOpts::default()).await.unwrap();
    let after = chrono::Utc::now();
    let stored = ns.get_last("json-1", None).await.unwrap().unwrap();
    let reparsed: serde_json::Value = serde_json::from_str(stored.data.as_str()).unwrap();
    let original: serde_json::Value = serde_json::from_str(data).unwrap();
    assert_eq!(reparsed, original);
    assert!(
        stored
            .data
            .as_str()
            .contains("123456789012345678901234567890"),
        "big integers are kept exactly"
    );
    assert!(stored.data.as_str().contains("9007199254740993"));
    assert!(
        stored
            .metadata
            .as_ref()
            .unwrap()
            .as_str()
            .contains("18446744073709551616")
    );
    assert_eq!(
        stored.time.timestamp_subsec_nanos() % 1000,
        0,
        "microsecond precision"
    );
    assert!(stored.time >= before - chrono::Duration::microseconds(1) && stored.time <= after);
    let text = stored.time_rfc3339();
    assert!(text.ends_with('Z') && text.len() <= 27, "{text}");
    let t = chrono::DateTime::parse_from_rfc3339("2024-01-15T10:30:00.123400Z")
        .unwrap()
        .to_utc();
    assert_eq!(messagedb::format_time(t), "2024-01-15T10:30:00.1234Z");
    let t = chrono::DateTime::parse_from_rfc3339("2024-01-15T10:30:00Z")
        .unwrap()
        .to_utc();
    assert_eq!(messagedb::format_time(t), "2024-01-15T10:30:00Z");
}
