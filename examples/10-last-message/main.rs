//! Topic 10 of the tutorial (`examples/README.md`): the last message of a stream, the last of a
//! type, and a stream's version.
//!
//! `cargo run -p messagedb-examples --example last-message`

use messagedb::{Message, NewMessage, Store, WriteOpts};
use serde_json::json;

/// A message (or its absence) as one line, the same in the three languages.
fn describe(m: Option<&Message>) -> String {
    match m {
        Some(m) => format!(
            "{} position {} global {} {} {}",
            m.stream_name,
            m.position,
            m.global_position,
            m.message_type,
            m.data.as_str()
        ),
        None => "none".into(),
    }
}

#[tokio::main]
async fn main() -> Result<(), messagedb::Error> {
    // [example]
    let store = Store::open("sqlite::memory:").await?;
    let ns = store.namespace("default");
    let history = vec![
        NewMessage::new("Opened", json!({"owner": "ada"}))?,
        NewMessage::new("Deposited", json!({"amount": 10}))?,
        NewMessage::new("Withdrawn", json!({"amount": 3}))?,
        NewMessage::new("Deposited", json!({"amount": 5}))?,
    ];
    ns.write_batch("account-1", history, WriteOpts::expect(-1))
        .await?;

    // The latest message, without reading the stream from its start.
    let last = ns.get_last("account-1", None).await?;
    assert_eq!(last.as_ref().map(|m| m.position), Some(3));
    println!("last: {}", describe(last.as_ref()));

    // The latest of one type: e.g. the last snapshot, or the last withdrawal.
    let withdrawn = ns.get_last("account-1", Some("Withdrawn")).await?;
    assert_eq!(withdrawn.as_ref().map(|m| m.position), Some(2));
    println!("last Withdrawn: {}", describe(withdrawn.as_ref()));

    // No message of that type, or no such stream: none, not an error.
    let closed = ns.get_last("account-1", Some("Closed")).await?;
    assert!(closed.is_none());
    println!("last Closed: {}", describe(closed.as_ref()));
    let missing = ns.get_last("account-2", None).await?;
    assert!(missing.is_none());
    println!("last of account-2: {}", describe(missing.as_ref()));

    // The version is the position of the last message (none for an empty stream): what the next
    // write expects, so that it lands only if nobody wrote in between.
    let version = ns.stream_version("account-1").await?;
    assert_eq!(version, Some(3));
    let version = version.unwrap_or(-1);
    println!("version of account-1: {version}");
    assert_eq!(ns.stream_version("account-2").await?, None);
    println!("version of account-2: none");

    let close = NewMessage::new("Closed", json!({"reason": "moved"}))?;
    let written = ns
        .write("account-1", close, WriteOpts::expect(version))
        .await?;
    assert_eq!(written.position, 4);
    println!("wrote Closed at position {}", written.position);
    let closed = ns.get_last("account-1", Some("Closed")).await?;
    println!("last Closed: {}", describe(closed.as_ref()));
    store.close().await;
    // [/example]
    Ok(())
}
