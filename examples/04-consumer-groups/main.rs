//! Consumer groups: split a category between members; each stream goes to exactly one member.
//!
//! `cargo run -p messagedb-examples --example consumer-groups`

use std::collections::BTreeMap;

use messagedb::{CategoryOpts, ConsumerGroup, NewMessage, Store, WriteOpts};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), messagedb::Error> {
    let store = Store::open("sqlite::memory:").await?;
    let ns = store.namespace("default");
    let writes = [
        ("account-1", "Opened"),
        ("account-2", "Opened"),
        ("account-3", "Opened"),
        ("account-4", "Opened"),
        ("account-1", "Deposited"),
        ("account-1+audit", "Reviewed"),
        ("account-2", "Deposited"),
    ];
    for (stream, message_type) in writes {
        let message = NewMessage::new(message_type, json!({}))?;
        ns.write(stream, message, WriteOpts::default()).await?;
    }

    // [example]
    // Each member of a group of 2 reads the same category with its member number.
    let size = 2;
    let mut member_of = BTreeMap::new(); // stream -> member
    let mut read = Vec::new();
    for member in 0..size {
        let group = ConsumerGroup::new(member, size)?;
        let opts = CategoryOpts::default().consumer_group(group);
        for m in ns.get_category("account", &opts).await? {
            println!(
                "member {member}: global {} {} {}",
                m.global_position, m.stream_name, m.message_type
            );
            // The rule: member = abs(hash_64(cardinal id) % size), where hash_64 is the first 8
            // bytes of an MD5 and the cardinal id is the stream's id up to any `+`.
            assert_eq!(
                messagedb::consumer_group_member(&m.stream_name, size),
                Some(member)
            );
            let first = *member_of.entry(m.stream_name.clone()).or_insert(member);
            assert_eq!(first, member, "a stream is read by one member only");
            read.push(m);
        }
    }

    // `account-1+audit` has the cardinal id of `account-1`, so the same member reads both.
    assert_eq!(messagedb::cardinal_id("account-1+audit"), Some("1"));
    assert_eq!(member_of["account-1+audit"], member_of["account-1"]);
    println!(
        "account-1+audit goes with account-1: member {}",
        member_of["account-1"]
    );

    // Together the members read the whole category, each message once. (A stream without an
    // id, named just `account`, would belong to no member.)
    read.sort_by_key(|m| m.global_position);
    let whole = ns.get_category("account", &CategoryOpts::default()).await?;
    assert_eq!(read, whole);
    println!("{} members read all {} messages", size, whole.len());
    // [/example]

    store.close().await;
    Ok(())
}
