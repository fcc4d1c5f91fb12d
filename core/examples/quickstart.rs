//! Writes to and reads from an embedded SQLite store in `./messagedb-data` (or the directory given
//! as the first argument), then follows the category live for a moment.
//!
//! `cargo run --example quickstart`

use messagedb::{CategoryOpts, NewMessage, Store, SubscribeOpts, WriteOpts};
use serde_json::json;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), messagedb::Error> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "./messagedb-data".into());
    let store = Store::open(&format!("sqlite://{dir}")).await?;
    let ns = store.namespace("default");

    let stream = format!("account-{}", uuid::Uuid::now_v7().simple());
    let opened = NewMessage::new("Opened", json!({"owner": "ada"}))?;
    let w = ns.write(&stream, opened, WriteOpts::expect(-1)).await?;
    println!(
        "wrote {stream} position {} global position {}",
        w.position, w.global_position
    );
    let deposit = NewMessage::new("Deposited", json!({"amount": 10}))?;
    ns.write(&stream, deposit, WriteOpts::expect(0)).await?;

    for m in ns.get_stream(&stream, &Default::default()).await? {
        println!(
            "{} {} {} {}",
            m.position,
            m.message_type,
            m.data.as_str(),
            m.time_rfc3339()
        );
    }
    let category = ns.get_category("account", &CategoryOpts::default()).await?;
    println!("category 'account' holds {} messages", category.len());
    match ns.stream_version(&stream).await? {
        Some(v) => println!("{stream} is at version {v}"),
        None => println!("{stream} is empty"),
    }

    // A subscription: history, then live.
    let mut sub = ns.subscribe(SubscribeOpts::stream(stream.as_str())).await?;
    ns.write(
        &stream,
        NewMessage::new("Withdrawn", json!({"amount": 3}))?,
        WriteOpts::expect(1),
    )
    .await?;
    for _ in 0..3 {
        if let Some(m) = sub.next().await {
            let m = m?;
            println!("subscription: {} {}", m.position, m.message_type);
        }
    }
    store.close().await;
    Ok(())
}
