//! Topic 9 of the tutorial (`examples/README.md`): every error has a stable code; only a
//! `BACKEND_ERROR` may succeed when tried again, and only when it says so.
//!
//! `cargo run -p messagedb-examples --example errors`

use messagedb::{Error, ErrorCode, NewMessage, Store, WriteOpts};
use serde_json::json;

/// Prints what a program decides on: the code (stable, unlike the message) and whether to retry.
fn report<T: std::fmt::Debug>(what: &str, code: &str, result: Result<T, Error>) {
    let e = result.unwrap_err();
    assert_eq!(e.code(), code, "{what}");
    let retry = if e.is_retryable() { "yes" } else { "no" };
    println!("{what}: {} retryable={retry} {e}", e.code());
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // [example]
    let store = Store::open("sqlite::memory:").await?;
    let ns = store.namespace("default");
    let message_id = "0190f5a2-1c3b-7d4e-8f60-123456789abc"
        .parse()
        .expect("a UUID");
    let opened = NewMessage::new("Opened", json!({"owner": "ada"}))?.with_id(message_id);
    ns.write("account-1", opened, WriteOpts::expect(-1)).await?;

    // A refused write writes nothing: the stream is where it was.
    let again = NewMessage::new("Opened", json!({"owner": "bob"}))?;
    let conflict = ns.write("account-1", again, WriteOpts::expect(-1)).await;
    report("version conflict", "STREAM_VERSION_CONFLICT", conflict);
    assert_eq!(ns.stream_version("account-1").await?, Some(0));
    println!("account-1 is still at version 0");

    // Bad input is refused before the store is touched.
    let deposit = NewMessage::new("Deposited", json!({"amount": 10}))?;
    let empty_name = ns.write("", deposit, WriteOpts::default()).await;
    report("empty stream name", "INVALID_REQUEST", empty_name);
    let long_type = NewMessage::new("T".repeat(1025), json!({}));
    report("type too long", "INVALID_REQUEST", long_type);

    // Message ids are unique in a namespace; the second write wrote nothing either.
    let copy = NewMessage::new("Opened", json!({"owner": "ada"}))?.with_id(message_id);
    let duplicate = ns.write("account-2", copy, WriteOpts::default()).await;
    report("duplicate id", "DUPLICATE_MESSAGE_ID", duplicate);
    assert_eq!(ns.stream_version("account-2").await?, None);
    println!("account-2 has no messages");

    let nowhere = store.namespace("nowhere");
    let unknown = nowhere.stream_version("account-1").await;
    report("unknown namespace", "NAMESPACE_NOT_FOUND", unknown);

    store.close().await;
    let closed = ns.stream_version("account-1").await;
    report("closed store", "CLOSED", closed);

    // The whole table: each code, the HTTP status the server answers it with, and whether an
    // error of that code may succeed when tried again.
    println!("error codes:");
    for code in ErrorCode::ALL {
        let retry = if code.may_retry() {
            "may retry"
        } else {
            "final"
        };
        println!("{} {} {retry}", code.as_str(), code.http_status());
    }
    // [/example]
    Ok(())
}
