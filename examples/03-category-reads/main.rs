//! Category reads: every stream of a category, in global order, page by page.
//!
//! `cargo run -p messagedb-examples --example category-reads`

use messagedb::{CategoryOpts, NewMessage, Store, WriteOpts};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), messagedb::Error> {
    let store = Store::open("sqlite::memory:").await?;
    let ns = store.namespace("default");

    // [example]
    // The category of a stream is its name up to the first `-`: these are three accounts and
    // one transfer, written in this order.
    let writes = [
        ("account-1", "Opened", json!({"owner": "ada"})),
        ("account-2", "Opened", json!({"owner": "bob"})),
        ("transfer-1", "Started", json!({"amount": 5})),
        ("account-1", "Deposited", json!({"amount": 10})),
        ("account-3", "Opened", json!({"owner": "cy"})),
        ("account-2", "Deposited", json!({"amount": 7})),
    ];
    for (stream, message_type, data) in writes {
        let message = NewMessage::new(message_type, data)?;
        ns.write(stream, message, WriteOpts::default()).await?;
    }

    // One read returns the messages of every account stream, in the order they were written.
    let all = ns.get_category("account", &CategoryOpts::default()).await?;
    let globals: Vec<i64> = all.iter().map(|m| m.global_position).collect();
    assert_eq!(globals, [1, 2, 4, 5, 6]);
    for m in &all {
        assert_eq!(messagedb::category(&m.stream_name), "account");
        println!(
            "global {} {} position {} {}",
            m.global_position, m.stream_name, m.position, m.message_type
        );
    }

    // Page through it: the next page starts after the last global position seen (3 belongs to
    // another category, so counting messages would not give the next position).
    let mut next = 1;
    let mut seen = Vec::new();
    loop {
        let opts = CategoryOpts::default().position(next).batch_size(2);
        let page = ns.get_category("account", &opts).await?;
        let Some(last) = page.last() else {
            println!("page from {next}: empty, done");
            break;
        };
        let positions: Vec<String> = page.iter().map(|m| m.global_position.to_string()).collect();
        println!("page from {next}: {}", positions.join(" "));
        next = last.global_position + 1;
        seen.extend(page);
    }
    assert_eq!(seen, all);
    // [/example]

    store.close().await;
    Ok(())
}
