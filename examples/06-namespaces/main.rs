//! Namespaces: separate stores inside one store. Each has its own streams, its own global
//! positions and its own token; one cannot see another's messages.
//!
//! `cargo run -p messagedb-examples --example namespaces`

use messagedb::{NamespaceOpts, NewMessage, Store, WriteOpts};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), messagedb::Error> {
    let store = Store::open("sqlite::memory:").await?;

    // [example]
    // The token comes back this once (only its hash is kept): a client of the HTTP server
    // presents it to reach this namespace, and no other.
    for (tenant, description) in [("tenant-a", "Tenant A"), ("tenant-b", "Tenant B")] {
        let opts = NamespaceOpts::default().description(description);
        let created = store.create_namespace(tenant, opts).await?;
        let named = messagedb::token::parse_token(&created.token).expect("a valid token");
        assert_eq!(named, tenant);
        println!("created {tenant}");
    }

    // The same stream name in each namespace: two unrelated streams, each numbered from 0, and
    // each namespace counting its own global positions from 1.
    let (a, b) = (store.namespace("tenant-a"), store.namespace("tenant-b"));
    let writes = [
        (&a, "Opened", json!({"owner": "ada"}), (0, 1)),
        (&a, "Deposited", json!({"amount": 10}), (1, 2)),
        (&b, "Opened", json!({"owner": "bob"}), (0, 1)),
    ];
    for (ns, message_type, data, (position, global)) in writes {
        let message = NewMessage::new(message_type, data.clone())?;
        let w = ns.write("account-1", message, WriteOpts::default()).await?;
        assert_eq!((w.position, w.global_position), (position, global));
        println!(
            "{}: account-1 position {position} global {global} {message_type} {data}",
            ns.id()
        );
    }

    // Each namespace sees only its own messages, and counts only its own.
    for (ns, want) in [(&a, vec!["Opened", "Deposited"]), (&b, vec!["Opened"])] {
        let messages = ns.get_stream("account-1", &Default::default()).await?;
        let types: Vec<&str> = messages.iter().map(|m| m.message_type.as_str()).collect();
        assert_eq!(types, want);
        let info = store.namespace_info(ns.id()).await?;
        assert_eq!(
            (info.message_count, info.stream_count),
            (want.len() as i64, 1)
        );
        let (id, description) = (&info.namespace, &info.description);
        println!("{id} ({description}) reads account-1: {}", types.join(", "));
        println!(
            "{id}: messages {}, streams {}",
            info.message_count, info.stream_count
        );
    }

    // Every store has `default`. The listing is newest first: sort it by name to print it.
    let mut listed = store.list_namespaces().await?;
    listed.sort_by(|x, y| x.namespace.cmp(&y.namespace));
    let listed: Vec<String> = listed
        .iter()
        .map(|n| format!("{} {}", n.namespace, n.message_count))
        .collect();
    assert_eq!(listed, ["default 0", "tenant-a 2", "tenant-b 1"]);
    println!("namespaces (messages): {}", listed.join(", "));

    // Deleting a namespace deletes its messages; its handles fail from then on.
    let deleted = store.delete_namespace("tenant-b").await?;
    assert_eq!(deleted.messages_deleted, 1);
    println!(
        "deleted tenant-b, messages deleted {}",
        deleted.messages_deleted
    );
    let err = b.stream_version("account-1").await.unwrap_err();
    assert_eq!(err.code(), "NAMESPACE_NOT_FOUND");
    println!("reading tenant-b: {} {err}", err.code());
    let left = store.list_namespaces().await?;
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|n| n.namespace != "tenant-b"));
    println!("namespaces left: {}", left.len());
    // [/example]

    store.close().await;
    Ok(())
}
