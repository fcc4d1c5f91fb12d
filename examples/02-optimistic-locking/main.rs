//! Optimistic locking: write only if the stream is still at the version you read.
//!
//! `cargo run -p messagedb-examples --example optimistic-locking`

use messagedb::{Error, NewMessage, Store, WriteOpts};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let store = Store::open("sqlite::memory:").await?;
    let ns = store.namespace("default");
    let opened = NewMessage::new("Opened", json!({"owner": "ada"}))?;
    ns.write("account-1", opened, WriteOpts::expect(-1)).await?;

    // [example]
    // Two writers read the stream's version: the position of its last message (-1 for none).
    let seen_by_a = ns.stream_version("account-1").await?.unwrap_or(-1);
    let seen_by_b = ns.stream_version("account-1").await?.unwrap_or(-1);
    assert_eq!((seen_by_a, seen_by_b), (0, 0));
    println!("writers A and B read version {seen_by_a}");

    // The first to write with the version it read wins.
    let deposit = NewMessage::new("Deposited", json!({"amount": 10}))?;
    let a = ns
        .write("account-1", deposit, WriteOpts::expect(seen_by_a))
        .await?;
    assert_eq!(a.position, 1);
    println!("writer A wrote position {}", a.position);

    // B's version is stale now: nothing is written, and the error says where the stream is.
    let withdrawal = NewMessage::new("Withdrawn", json!({"amount": 3}))?;
    let err = ns
        .write(
            "account-1",
            withdrawal.clone(),
            WriteOpts::expect(seen_by_b),
        )
        .await
        .expect_err("B's version is stale");
    let Error::VersionConflict {
        expected, actual, ..
    } = err
    else {
        panic!("expected a version conflict, got {err}");
    };
    assert_eq!(
        (err.code(), expected, actual),
        ("STREAM_VERSION_CONFLICT", 0, 1)
    );
    println!(
        "writer B: {} expected {expected} actual {actual}",
        err.code()
    );
    println!("writer B: {err}");

    // B re-reads, decides again with what A wrote, and retries with the new version.
    let seen_by_b = ns.stream_version("account-1").await?.unwrap_or(-1);
    assert_eq!(seen_by_b, 1);
    let b = ns
        .write("account-1", withdrawal, WriteOpts::expect(seen_by_b))
        .await?;
    assert_eq!(b.position, 2);
    println!(
        "writer B read version {seen_by_b} and wrote position {}",
        b.position
    );

    // -1 means "the stream must not exist": a second Opened is refused.
    let again = NewMessage::new("Opened", json!({"owner": "bob"}))?;
    let err = ns
        .write("account-1", again, WriteOpts::expect(-1))
        .await
        .expect_err("account-1 exists");
    let Error::VersionConflict {
        expected, actual, ..
    } = err
    else {
        panic!("expected a version conflict, got {err}");
    };
    assert_eq!((expected, actual), (-1, 2));
    println!(
        "open account-1 again: {} expected {expected} actual {actual}",
        err.code()
    );
    // [/example]

    store.close().await;
    Ok(())
}
