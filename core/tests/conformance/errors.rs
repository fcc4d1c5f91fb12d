use messagedb::{ConsumerGroup, Error, NamespaceOpts, WriteOpts};
use serde_json::json;

use crate::{Fixture, msg};

/// Every code of bindings.md's error table, with its message, produced through the store.
pub async fn error_codes_and_messages(f: &Fixture) {
    let store = f.open().await;
    let ns = store.namespace("default");
    let mut seen = Vec::new();
    let mut check = |e: Error, code: &str, message: &str| {
        assert_eq!((e.code(), e.to_string().as_str()), (code, message));
        seen.push(code.to_string());
    };
    check(
        ns.write("", msg("T", json!({})), WriteOpts::default())
            .await
            .unwrap_err(),
        "INVALID_REQUEST",
        "streamName must be a non-empty string",
    );
    ns.write("s-1", msg("T", json!({})), WriteOpts::default())
        .await
        .unwrap();
    check(
        ns.write("s-1", msg("T", json!({})), WriteOpts::expect(5))
            .await
            .unwrap_err(),
        "STREAM_VERSION_CONFLICT",
        "Expected version 5, stream is at version 0",
    );
    let id = ns.get_last("s-1", None).await.unwrap().unwrap().id;
    check(
        ns.write("s-2", msg("T", json!({})).with_id(id), WriteOpts::default())
            .await
            .unwrap_err(),
        "DUPLICATE_MESSAGE_ID",
        &format!("Message ID '{id}' already exists"),
    );
    check(
        store
            .namespace("ghost")
            .get_last("s-1", None)
            .await
            .unwrap_err(),
        "NAMESPACE_NOT_FOUND",
        "Namespace 'ghost' not found",
    );
    check(
        store
            .create_namespace("default", NamespaceOpts::default())
            .await
            .unwrap_err(),
        "NAMESPACE_EXISTS",
        "Namespace 'default' already exists",
    );
    for (member, size, message) in [
        (-1, 2, "options.consumerGroup.member must be non-negative"),
        (0, 0, "options.consumerGroup.size must be positive"),
        (2, 2, "options.consumerGroup.member must be < size"),
    ] {
        let e = ConsumerGroup::new(member, size).unwrap_err();
        assert_eq!(
            (e.code(), e.to_string().as_str()),
            ("INVALID_REQUEST", message)
        );
    }
    store.close().await;
    check(
        ns.get_last("s-1", None).await.unwrap_err(),
        "CLOSED",
        "The store is closed",
    );
    assert_eq!(seen.len(), 6);
    let backend = Error::backend("SQLite: disk I/O error", true, std::io::Error::other("eio"));
    assert_eq!(
        (backend.code(), backend.is_retryable()),
        ("BACKEND_ERROR", true)
    );
    assert!(
        std::error::Error::source(&backend).is_some(),
        "the source is kept"
    );
}
