//! Stream names and their parts, as Message DB defines them: the category, the id, the cardinal
//! id, whether a name is a category, and `hash_64`, which consumer groups split a category by.
//!
//! `cargo run -p messagedb-examples --example stream-names`

use messagedb::{cardinal_id, category, consumer_group_member, hash_64, id, is_category};
use serde_json::json;

// Pure functions: nothing to await, so no runtime.
fn main() {
    // [example]
    // A stream name is `category-id`. A `:` belongs to the category (`account:command` holds the
    // commands for accounts); a `+` splits the id into the cardinal id and a suffix.
    let names = [
        ("account-123", "account", Some("123"), Some("123"), false),
        (
            "account:command-123",
            "account:command",
            Some("123"),
            Some("123"),
            false,
        ),
        (
            "account-123+456",
            "account",
            Some("123+456"),
            Some("123"),
            false,
        ),
        ("account", "account", None, None, true),
    ];
    for (name, want_category, want_id, want_cardinal, want_is_category) in names {
        assert_eq!(category(name), want_category);
        assert_eq!(id(name), want_id);
        assert_eq!(cardinal_id(name), want_cardinal);
        assert_eq!(is_category(name), want_is_category);
        println!(
            "{name}: category {}, id {}, cardinal id {}, is category {}",
            json!(category(name)),
            json!(id(name)),
            json!(cardinal_id(name)),
            is_category(name)
        );
    }

    // hash64 is Message DB's hash_64: the first 8 bytes of MD5, read as a signed 64-bit integer.
    assert_eq!(hash_64("abc"), -8_070_080_442_485_551_184);
    println!("hash64(\"abc\") = {}", hash_64("abc"));

    // A consumer group of `size` members gives a stream to member abs(hash64(cardinal id)) % size.
    // The streams of one entity share a cardinal id, so one member gets them all, in order.
    let size: i64 = 4;
    for name in ["account-123", "account-123+456", "account:command-123"] {
        let hash = hash_64(cardinal_id(name).expect("an entity's stream has an id"));
        let member = consumer_group_member(name, size).expect("an entity's stream has a member");
        assert_eq!((hash, member), (2_318_431_741_638_412_123, 3));
        println!("{name}: hash64 {hash}, member {member} of {size}");
    }
    // [/example]
}
