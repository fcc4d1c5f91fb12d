//! Write a message and a batch to a stream, then read the stream back.
//!
//! `cargo run -p messagedb-examples --example write-read`

use messagedb::{GetStreamOpts, NewMessage, Store, WriteOpts};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), messagedb::Error> {
    // [example]
    // An in-memory store: nothing touches the disk, everything is gone at exit.
    let store = Store::open("sqlite::memory:").await?;
    let ns = store.namespace("default");

    // Expected version -1: the stream must not exist yet, so this write starts it.
    let opened = NewMessage::new("Opened", json!({"owner": "ada"}))?;
    let written = ns.write("account-1", opened, WriteOpts::expect(-1)).await?;
    assert_eq!((written.position, written.global_position), (0, 1));
    println!(
        "wrote position {} global {}",
        written.position, written.global_position
    );

    // A batch lands atomically, at contiguous positions after the last one (0).
    let batch = vec![
        NewMessage::new("Deposited", json!({"amount": 10}))?,
        NewMessage::new("Withdrawn", json!({"amount": 3}))?,
    ];
    let b = ns
        .write_batch("account-1", batch, WriteOpts::expect(0))
        .await?;
    assert_eq!((b.position, b.last_position), (1, 2));
    assert_eq!((b.global_position, b.last_global_position), (2, 3));
    println!(
        "wrote batch positions {}..{} global {}..{}",
        b.position, b.last_position, b.global_position, b.last_global_position
    );

    // Positions count from 0 within the stream; global positions from 1 in the namespace.
    let messages = ns
        .get_stream("account-1", &GetStreamOpts::default())
        .await?;
    assert_eq!(messages.len(), 3);
    for m in &messages {
        println!(
            "{} position {} global {} {} {}",
            m.stream_name,
            m.position,
            m.global_position,
            m.message_type,
            m.data.as_str()
        );
    }

    // Reading from a position returns that message and the ones after it.
    let rest = ns
        .get_stream("account-1", &GetStreamOpts::default().position(1))
        .await?;
    let types: Vec<&str> = rest.iter().map(|m| m.message_type.as_str()).collect();
    assert_eq!(types, ["Deposited", "Withdrawn"]);
    println!("from position 1: {}", types.join(" "));
    // [/example]

    store.close().await;
    Ok(())
}
