//! The input rules (core/src/rules.rs) give the same answer, with the same message, on every
//! backend, and a refused input writes nothing; what they accept round-trips exactly.

use std::time::Duration;

use messagedb::rules::{MAX_IMPORTED_POSITION, MAX_STREAM_NAME_BYTES, MAX_TYPE_BYTES};
use messagedb::{
    CategoryOpts, GetStreamOpts, JsonObject, ListStreamsOpts, Message, NamespaceOpts, NewMessage,
    SubscribeOpts, WriteOpts, token,
};
use serde_json::json;

use crate::{Fixture, msg};

fn invalid<T: std::fmt::Debug>(r: messagedb::Result<T>, message: &str) {
    let e = r.expect_err(message);
    assert_eq!(
        (e.code(), e.to_string().as_str()),
        ("INVALID_REQUEST", message)
    );
}

/// A message whose type the constructor has not checked (`from_parts`): the write checks it.
fn unchecked(message_type: &str) -> NewMessage {
    NewMessage::from_parts(
        message_type,
        JsonObject::from_json("{}", "message.data").unwrap(),
        None,
        None,
    )
}

const NUL_STREAM: &str = "streamName must not contain the character U+0000";

/// Every string argument refuses U+0000, every stored name has a documented length limit, JSON
/// that PostgreSQL's `jsonb` cannot hold is refused — on every backend alike, writing nothing.
pub async fn bad_input_is_refused_alike_on_every_backend(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    let w = WriteOpts::default;
    invalid(
        ns.write("a\0-1", msg("T", json!({})), w()).await,
        NUL_STREAM,
    );
    invalid(
        ns.write("a-1", unchecked("T\0"), w()).await,
        "message.type must not contain the character U+0000",
    );
    invalid(
        ns.get_stream("a\0-1", &GetStreamOpts::default()).await,
        NUL_STREAM,
    );
    invalid(ns.get_last("a\0-1", None).await, NUL_STREAM);
    invalid(
        ns.get_last("a-1", Some("T\0")).await,
        "options.type must not contain the character U+0000",
    );
    invalid(ns.stream_version("a\0-1").await, NUL_STREAM);
    invalid(
        ns.get_category("a\0", &CategoryOpts::default()).await,
        "categoryName must not contain the character U+0000",
    );
    invalid(
        ns.get_category("a", &CategoryOpts::default().correlation("c\0"))
            .await,
        "options.correlation must not contain the character U+0000",
    );
    invalid(
        ns.list_streams(&ListStreamsOpts::default().prefix("a\0"))
            .await,
        "prefix must not contain the character U+0000",
    );
    invalid(
        ns.list_streams(&ListStreamsOpts::default().cursor("a\0"))
            .await,
        "cursor must not contain the character U+0000",
    );
    invalid(
        ns.subscribe(SubscribeOpts::stream("a\0-1"))
            .await
            .map(|_| ()),
        NUL_STREAM,
    );
    invalid(
        ns.subscribe(SubscribeOpts::category("a\0"))
            .await
            .map(|_| ()),
        "categoryName must not contain the character U+0000",
    );
    let bad_id = "namespace ID must be 1-128 characters of A-Z, a-z, 0-9, '_', '.' and '-'";
    invalid(store.namespace_info("a\0").await, bad_id);
    invalid(store.delete_namespace("a\0").await, bad_id);
    invalid(store.verify_token("a\0", "t").await, bad_id);
    invalid(
        store
            .create_namespace("a\0", NamespaceOpts::default())
            .await,
        bad_id,
    );
    invalid(store.namespace("a\0").stream_version("a-1").await, bad_id);
    invalid(
        store
            .create_namespace("d", NamespaceOpts::default().description("x\0"))
            .await,
        "options.description must not contain the character U+0000",
    );
    // A token whose namespace part decodes to U+0000 does not parse at all.
    let nul_token = format!("ns_AA_{}", "0".repeat(64));
    assert_eq!(
        token::parse_token(&nul_token).map_err(|e| e.to_string()),
        Err("invalid token format: namespace is not a valid namespace ID".to_string())
    );

    // JSON: the escape \u0000, lone surrogates, numbers beyond PostgreSQL's numeric.
    for (text, message) in [
        (
            r#"{"a":"\u0000"}"#,
            "message.data must not contain the character U+0000",
        ),
        (
            r#"{"a":"\ud800"}"#,
            "message.data must not contain a lone UTF-16 surrogate escape (\\ud800-\\udfff without its pair)",
        ),
        (
            r#"{"\udc00":1}"#,
            "message.data must not contain a lone UTF-16 surrogate escape (\\ud800-\\udfff without its pair)",
        ),
        (
            r#"{"a":1e131072}"#,
            "message.data has a number out of range (at most 10^131071 and 16383 digits after the decimal point)",
        ),
    ] {
        invalid(JsonObject::from_json(text, "message.data"), message);
    }
    // Metadata's correlationStreamName is a stream name.
    let with_meta = |meta: serde_json::Value| msg("T", json!({})).with_metadata(meta).unwrap();
    invalid(
        ns.write("a-1", with_meta(json!({"correlationStreamName": 5})), w())
            .await,
        "metadata.correlationStreamName must be a string",
    );
    invalid(
        ns.write(
            "a-1",
            with_meta(json!({"correlationStreamName": "x".repeat(MAX_STREAM_NAME_BYTES + 1)})),
            w(),
        )
        .await,
        "metadata.correlationStreamName must be at most 1024 bytes",
    );

    // Lengths: at the limit it is stored and read back; past it refused.
    let longest = format!("long-{}", "n".repeat(MAX_STREAM_NAME_BYTES - 5));
    let long_type = "t".repeat(MAX_TYPE_BYTES);
    invalid(
        ns.write(&format!("{longest}x"), msg("T", json!({})), w())
            .await,
        "streamName must be at most 1024 bytes",
    );
    invalid(
        ns.write("a-1", unchecked(&format!("{long_type}t")), w())
            .await,
        "message.type must be at most 1024 bytes",
    );
    invalid(
        ns.get_stream(&format!("{longest}x"), &GetStreamOpts::default())
            .await,
        "streamName must be at most 1024 bytes",
    );
    assert!(
        ns.list_streams(&ListStreamsOpts::default())
            .await
            .unwrap()
            .is_empty(),
        "a refused input wrote nothing"
    );
    let meta = json!({"correlationStreamName": format!("corr-{}", "c".repeat(1000))});
    let kept = NewMessage::new(long_type.clone(), json!({"a": "\u{1F600}", "n": 1e300}))
        .unwrap()
        .with_metadata(meta.clone())
        .unwrap();
    ns.write(&longest, kept, w()).await.unwrap();
    let back = ns.get_last(&longest, None).await.unwrap().unwrap();
    assert_eq!(
        (back.stream_name.as_str(), back.message_type.as_str()),
        (longest.as_str(), long_type.as_str())
    );
    assert_eq!(back.metadata.unwrap().to_value(), meta);
    assert_eq!(
        ns.get_category("long", &CategoryOpts::default().correlation("corr"))
            .await
            .unwrap()
            .len(),
        1
    );
}

fn record(stream: &str, position: i64, global_position: i64) -> Message {
    Message::from_parts(
        uuid::Uuid::now_v7(),
        stream.into(),
        "Imported".into(),
        position,
        global_position,
        JsonObject::from_json("{}", "data").unwrap(),
        None,
        chrono::Utc::now(),
    )
}

/// Imports stop at 2^52, leaving room for writes; writes after an import continue upwards.
pub async fn imported_positions_leave_room_to_write(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    let over = MAX_IMPORTED_POSITION + 1;
    let message = "positions and global positions must be at most 4503599627370496 (2^52)";
    invalid(ns.import(vec![record("a-1", 0, over)]).await, message);
    invalid(ns.import(vec![record("a-1", over, 1)]).await, message);
    invalid(
        ns.import(vec![record("a-1", 0, 9_223_372_036_854_775_806)])
            .await,
        message,
    );
    ns.import(vec![record("a-1", 0, MAX_IMPORTED_POSITION)])
        .await
        .unwrap();
    for expected in 1..=3 {
        let w = ns
            .write("b-1", msg("After", json!({})), WriteOpts::default())
            .await
            .unwrap();
        assert_eq!(w.global_position, MAX_IMPORTED_POSITION + expected);
    }
}

/// Namespace ids that a shortened schema name could confuse are distinct namespaces.
pub async fn long_namespace_ids_never_collide(f: &Fixture) {
    let store = f.open().await;
    let long = format!("tenant{}", "x".repeat(122));
    let lookalike = format!("{}_{:016x}", &long[..40], messagedb::hash_64(&long));
    for id in [long.as_str(), lookalike.as_str()] {
        store
            .create_namespace(id, NamespaceOpts::default())
            .await
            .unwrap();
        store
            .namespace(id)
            .write("a-1", msg(id, json!({})), WriteOpts::default())
            .await
            .unwrap();
    }
    for id in [long.as_str(), lookalike.as_str()] {
        let read = store
            .namespace(id)
            .get_stream("a-1", &GetStreamOpts::default())
            .await
            .unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(
            read[0].message_type, id,
            "each namespace has its own messages"
        );
    }
}

/// Two stores on the same storage (two processes, as far as the store knows): after one deletes a
/// namespace and creates it again, the other's subscription of the old namespace never sees the
/// new one's messages, and its reads reach the new namespace, never a deleted one.
pub async fn a_namespace_created_again_elsewhere_is_never_reached_through_the_old(f: &Fixture) {
    let Some(url) = f.url() else {
        return; // memory: nothing else can share it
    };
    let a = messagedb::Store::open(&url).await.unwrap();
    let b = messagedb::Store::open(&url).await.unwrap();
    a.create_namespace("tenant", NamespaceOpts::default())
        .await
        .unwrap();
    let old = a.namespace("tenant");
    old.write("acct-1", msg("Old", json!({})), WriteOpts::default())
        .await
        .unwrap();
    let mut sub = old
        .subscribe(SubscribeOpts::category("acct"))
        .await
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("history within 10 s");
    assert_eq!(first.unwrap().unwrap().message_type, "Old");

    b.delete_namespace("tenant").await.unwrap();
    // Deleted: the other store no longer reaches it.
    let e = a
        .namespace("tenant")
        .stream_version("acct-1")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "NAMESPACE_NOT_FOUND");
    b.create_namespace("tenant", NamespaceOpts::default())
        .await
        .unwrap();
    b.namespace("tenant")
        .write("acct-2", msg("New", json!({})), WriteOpts::default())
        .await
        .unwrap();
    // Through the same handle, the store reaches the new namespace, not the deleted one.
    let now = a
        .namespace("tenant")
        .get_category("acct", &CategoryOpts::default())
        .await
        .unwrap();
    assert_eq!(
        now.iter()
            .map(|m| m.message_type.as_str())
            .collect::<Vec<_>>(),
        ["New"]
    );
    a.namespace("tenant")
        .write("acct-3", msg("NewToo", json!({})), WriteOpts::default())
        .await
        .unwrap();
    // The old subscription ends; it never delivers a message of the new namespace.
    let ended = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("the old subscription ends within 10 s");
    assert!(
        !matches!(ended, Some(Ok(_))),
        "the old subscription delivered {ended:?}"
    );
    a.close().await;
    b.close().await;
}
