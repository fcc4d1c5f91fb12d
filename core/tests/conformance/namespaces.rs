use messagedb::{Error, JsonObject, ListStreamsOpts, NamespaceOpts, WriteOpts, token};
use serde_json::json;

use crate::{Fixture, msg};

pub async fn default_namespace_exists_and_namespaces_are_isolated(f: &Fixture) {
    let store = f.open().await;
    let list = store.list_namespaces().await.unwrap();
    assert!(list.iter().any(|n| n.namespace == "default"));
    store
        .create_namespace("tenant_a", NamespaceOpts::default())
        .await
        .unwrap();
    let a = store.namespace("tenant_a");
    let d = store.namespace("default");
    let wa = a
        .write("acct-1", msg("T", json!({"in": "a"})), WriteOpts::default())
        .await
        .unwrap();
    let wd = d
        .write("acct-1", msg("T", json!({"in": "d"})), WriteOpts::default())
        .await
        .unwrap();
    assert_eq!((wa.position, wa.global_position), (0, 1));
    assert_eq!(
        (wd.position, wd.global_position),
        (0, 1),
        "each namespace has its own positions"
    );
    assert_eq!(
        a.get_stream("acct-1", &Default::default()).await.unwrap()[0]
            .data
            .to_value(),
        json!({"in": "a"})
    );
    assert_eq!(
        d.get_category("", &Default::default()).await.unwrap().len(),
        1
    );
    let missing = store.namespace("nope");
    let e = missing
        .write("acct-1", msg("T", json!({})), WriteOpts::default())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NamespaceNotFound(ref id) if id == "nope"));
    assert_eq!(e.to_string(), "Namespace 'nope' not found");
    assert_eq!(
        missing
            .get_category("x", &Default::default())
            .await
            .unwrap_err()
            .code(),
        "NAMESPACE_NOT_FOUND"
    );
    assert_eq!(
        missing
            .get_category("x-1", &Default::default())
            .await
            .unwrap_err()
            .code(),
        "NAMESPACE_NOT_FOUND"
    );
}

pub async fn create_keeps_only_the_token_hash(f: &Fixture) {
    let store = f.open().await;
    let created = store
        .create_namespace(
            "shop",
            NamespaceOpts::default()
                .description("the shop")
                .metadata(JsonObject::from_json(r#"{"team":"x"}"#, "options.metadata").unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(created.namespace, "shop");
    assert_eq!(token::parse_token(&created.token).unwrap(), "shop");
    assert!(store.verify_token("shop", &created.token).await.unwrap());
    let other = token::generate_token("shop");
    assert!(!store.verify_token("shop", &other).await.unwrap());
    let info = store.namespace_info("shop").await.unwrap();
    assert_eq!(info.description, "the shop");
    assert_eq!(info.metadata.unwrap().to_value(), json!({"team": "x"}));
    assert_eq!(info.created_at, created.created_at);

    // A given token is kept (hashed); one naming another namespace is refused.
    let given = token::generate_token("given");
    store
        .create_namespace("given", NamespaceOpts::default().token(given.clone()))
        .await
        .unwrap();
    assert!(store.verify_token("given", &given).await.unwrap());
    let e = store
        .create_namespace(
            "third",
            NamespaceOpts::default().token(token::generate_token("fourth")),
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Token is for namespace 'fourth', not 'third'"
    );
    let e = store
        .create_namespace("third", NamespaceOpts::default().token("bad"))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Invalid token format: invalid token format: missing 'ns_' prefix"
    );
    assert!(
        store.namespace_info("third").await.is_err(),
        "nothing created"
    );
    let e = store
        .create_namespace("shop", NamespaceOpts::default())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NamespaceExists(_)));
    assert_eq!(e.to_string(), "Namespace 'shop' already exists");

    // The token itself is never stored: set_token replaces the hash.
    store
        .set_token("default", token::DEFAULT_TEST_TOKEN)
        .await
        .unwrap();
    assert!(
        store
            .verify_token("default", token::DEFAULT_TEST_TOKEN)
            .await
            .unwrap()
    );
    assert_eq!(
        store.set_token("default", &given).await.unwrap_err().code(),
        "INVALID_REQUEST"
    );
    if let Some(dir) = f.dir() {
        let meta = std::fs::read(dir.join("metadata.sqlite3")).unwrap();
        let needle = created.token.as_bytes();
        assert!(
            !meta.windows(needle.len()).any(|w| w == needle),
            "token not stored in clear"
        );
        let hash = token::hash_token(&created.token);
        let wal = std::fs::read(dir.join("metadata.sqlite3-wal")).unwrap_or_default();
        let both = [meta, wal].concat();
        assert!(
            both.windows(hash.len()).any(|w| w == hash.as_bytes()),
            "its hash is"
        );
    }
}

pub async fn list_info_and_delete_report_real_counts(f: &Fixture) {
    let store = f.open().await;
    store
        .create_namespace("first", NamespaceOpts::default())
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2)).await; // distinct creation times
    store
        .create_namespace("second", NamespaceOpts::default().description("two"))
        .await
        .unwrap();
    let second = store.namespace("second");
    let info = store.namespace_info("second").await.unwrap();
    assert_eq!(
        (info.message_count, info.stream_count, info.last_activity),
        (0, 0, None)
    );
    for i in 0..7 {
        second
            .write(
                &format!("s-{}", i % 3),
                msg("T", json!({})),
                WriteOpts::default(),
            )
            .await
            .unwrap();
    }
    let last = second.get_last("s-0", None).await.unwrap().unwrap();
    let info = store.namespace_info("second").await.unwrap();
    assert_eq!((info.message_count, info.stream_count), (7, 3));
    assert!(info.last_activity.unwrap() >= last.time);
    let list = store.list_namespaces().await.unwrap();
    let names: Vec<&str> = list.iter().map(|n| n.namespace.as_str()).collect();
    let (i2, i1) = (
        names.iter().position(|n| *n == "second").unwrap(),
        names.iter().position(|n| *n == "first").unwrap(),
    );
    assert!(i2 < i1, "newest first: {names:?}");
    assert_eq!(list[i2].message_count, 7);
    assert_eq!(list[i2].description, "two");
    assert_eq!(list[i1].message_count, 0);

    let e = store.delete_namespace("default").await.unwrap_err();
    assert_eq!(e.to_string(), "the default namespace cannot be deleted");
    let deleted = store.delete_namespace("second").await.unwrap();
    assert_eq!(
        (deleted.namespace.as_str(), deleted.messages_deleted),
        ("second", 7)
    );
    assert_eq!(
        second.stream_version("s-0").await.unwrap_err().code(),
        "NAMESPACE_NOT_FOUND"
    );
    assert_eq!(
        store.namespace_info("second").await.unwrap_err().code(),
        "NAMESPACE_NOT_FOUND"
    );
    assert_eq!(
        store.delete_namespace("second").await.unwrap_err().code(),
        "NAMESPACE_NOT_FOUND"
    );
    if let Some(dir) = f.dir() {
        assert!(
            !dir.join("namespaces/second.sqlite3").exists(),
            "the file is removed"
        );
    }
    // Re-created, it starts empty.
    store
        .create_namespace("second", NamespaceOpts::default())
        .await
        .unwrap();
    assert_eq!(second.stream_version("s-0").await.unwrap(), None);
    let w = second
        .write("s-0", msg("T", json!({})), WriteOpts::default())
        .await
        .unwrap();
    assert_eq!(w.global_position, 1);
}

pub async fn list_streams_and_categories(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    for (stream, n) in [
        ("account-2", 2),
        ("account-1", 3),
        ("order-1", 1),
        ("account", 1),
        ("accountx-1", 1),
    ] {
        for _ in 0..n {
            ns.write(stream, msg("T", json!({})), WriteOpts::default())
                .await
                .unwrap();
        }
    }
    let all = ns.list_streams(&ListStreamsOpts::default()).await.unwrap();
    let names: Vec<&str> = all.iter().map(|s| s.stream.as_str()).collect();
    assert_eq!(
        names,
        vec!["account", "account-1", "account-2", "accountx-1", "order-1"],
        "byte order"
    );
    let a1 = all.iter().find(|s| s.stream == "account-1").unwrap();
    let last = ns.get_last("account-1", None).await.unwrap().unwrap();
    assert_eq!((a1.version, a1.last_activity), (2, last.time));
    let page = ns
        .list_streams(&ListStreamsOpts::default().prefix("account-").limit(1))
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|s| s.stream.as_str()).collect::<Vec<_>>(),
        vec!["account-1"]
    );
    let next = ns
        .list_streams(
            &ListStreamsOpts::default()
                .prefix("account-")
                .cursor("account-1"),
        )
        .await
        .unwrap();
    assert_eq!(
        next.iter().map(|s| s.stream.as_str()).collect::<Vec<_>>(),
        vec!["account-2"]
    );
    let wild = ns
        .list_streams(&ListStreamsOpts::default().prefix("acc%"))
        .await
        .unwrap();
    assert!(wild.is_empty(), "the prefix is plain, not a pattern");
    for bad in [0, 1001] {
        let e = ns
            .list_streams(&ListStreamsOpts::default().limit(bad))
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "limit must be between 1 and 1000");
    }
    let cats = ns.list_categories().await.unwrap();
    let view: Vec<(&str, i64, i64)> = cats
        .iter()
        .map(|c| (c.category.as_str(), c.stream_count, c.message_count))
        .collect();
    assert_eq!(
        view,
        vec![("account", 3, 6), ("accountx", 1, 1), ("order", 1, 1)]
    );
}

pub async fn namespace_ids_are_validated(f: &Fixture) {
    let store = f.open().await;
    let e = store
        .create_namespace("", NamespaceOpts::default())
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "namespace ID must be a non-empty string");
    for bad in ["../etc", "a/b", "a b", "ü", &"x".repeat(129)] {
        let e = store
            .create_namespace(bad, NamespaceOpts::default())
            .await
            .unwrap_err();
        assert_eq!(e.code(), "INVALID_REQUEST", "{bad}");
    }
    for good in ["a", "A.b-c_9", &"x".repeat(128), "..", "."] {
        store
            .create_namespace(good, NamespaceOpts::default())
            .await
            .unwrap();
        let ns = store.namespace(good);
        ns.write("s-1", msg("T", json!({})), WriteOpts::default())
            .await
            .unwrap();
        assert_eq!(ns.stream_version("s-1").await.unwrap(), Some(0));
    }
}
