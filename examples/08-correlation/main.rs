//! Correlation: a process that sends a command to another component names its own stream in the
//! command's `metadata.correlationStreamName`. The component carries that metadata over to the
//! events it writes, so the process reads the component's category filtered by correlation and
//! gets only the events that answer its own category.
//!
//! `cargo run -p messagedb-examples --example correlation`

use messagedb::{CategoryOpts, NewMessage, Store, WriteOpts};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), messagedb::Error> {
    let store = Store::open("sqlite::memory:").await?;
    let ns = store.namespace("default");

    // [example]
    // An order and a subscription each send a Charge command to the payment component, with
    // their own stream as the correlation.
    let requests = [
        ("order-1", "payment:command-1", 50),
        ("subscription-7", "payment:command-2", 9),
    ];
    for (origin, stream, amount) in requests {
        let metadata = json!({ "correlationStreamName": origin });
        let charge = NewMessage::new("Charge", json!({ "amount": amount }))?
            .with_metadata(metadata.clone())?;
        ns.write(stream, charge, WriteOpts::default()).await?;
        println!("{origin} sent Charge to {stream} with metadata {metadata}");
    }

    // The payment component handles each command and writes the outcome to its own stream,
    // keeping the correlation and naming the command that caused it.
    for command in ns
        .get_category("payment:command", &Default::default())
        .await?
    {
        let received = command.metadata.map(|m| m.to_value()).unwrap_or_default();
        let metadata = json!({
            "causationMessageStreamName": command.stream_name,
            "correlationStreamName": received["correlationStreamName"],
        });
        let payment = command.stream_name.replace("payment:command-", "payment-");
        let charged =
            NewMessage::new("Charged", command.data.to_value())?.with_metadata(metadata)?;
        ns.write(&payment, charged, WriteOpts::default()).await?;
        println!("payment wrote Charged to {payment}");
    }

    // The order process reads the payment category (`payment:command` is another category) and
    // keeps only the messages correlated with the `order` category.
    let payments = ns.get_category("payment", &Default::default()).await?;
    let opts = CategoryOpts::default().correlation("order");
    let replies = ns.get_category("payment", &opts).await?;
    assert_eq!((payments.len(), replies.len()), (2, 1));
    println!("category payment: {} messages", payments.len());
    println!("correlated with order: {}", replies.len());
    // The metadata comes back as it was written.
    let m = &replies[0];
    let metadata = m.metadata.as_ref().map_or("", |m| m.as_str());
    let written =
        r#"{"causationMessageStreamName":"payment:command-1","correlationStreamName":"order-1"}"#;
    assert_eq!((m.stream_name.as_str(), metadata), ("payment-1", written));
    let (stream, data) = (&m.stream_name, m.data.as_str());
    println!("{stream} {} {data} metadata {metadata}", m.message_type);

    // The filter takes a category: a stream name matches nothing.
    let opts = CategoryOpts::default().correlation("order-1");
    let by_stream = ns.get_category("payment", &opts).await?;
    assert!(by_stream.is_empty());
    println!("correlated with order-1: {}", by_stream.len());
    // [/example]

    store.close().await;
    Ok(())
}
