//! Stream names and their parts, as Message DB defines them, and the consumer-group rule.

use md5::{Digest, Md5};

/// The category of a stream: the text before the first `-` (the whole name when there is none).
///
/// ```
/// assert_eq!(messagedb::category("account-123+retry"), "account");
/// assert_eq!(messagedb::category("account"), "account");
/// ```
pub fn category(stream_name: &str) -> &str {
    stream_name.split_once('-').map_or(stream_name, |(c, _)| c)
}

/// The id of a stream: the text after the first `-`, `None` when there is no `-`.
pub fn id(stream_name: &str) -> Option<&str> {
    stream_name.split_once('-').map(|(_, id)| id)
}

/// The cardinal id of a stream: its id up to the first `+`, `None` when there is no id.
pub fn cardinal_id(stream_name: &str) -> Option<&str> {
    id(stream_name).map(|id| id.split_once('+').map_or(id, |(c, _)| c))
}

/// Whether a name is a category (has no `-`), as opposed to a stream of one entity.
pub fn is_category(name: &str) -> bool {
    !name.contains('-')
}

/// Message DB's `hash_64`: the first 8 bytes of MD5(utf8(value)) read big-endian as a signed i64.
///
/// ```
/// assert_eq!(messagedb::hash_64("abc"), -8070080442485551184);
/// ```
pub fn hash_64(value: &str) -> i64 {
    let digest = Md5::digest(value.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// The consumer-group hash of a stream: `hash_64(cardinal_id)`, `None` for a stream without an id.
pub fn stream_hash(stream_name: &str) -> Option<i64> {
    cardinal_id(stream_name).map(hash_64)
}

/// The member of a consumer group of `size` members that a hash belongs to: `abs(hash) % size`.
///
/// Equal to Message DB's `MOD(@hash_64(cardinal_id(stream_name)), size)`, computed without
/// overflowing on `i64::MIN`.
pub fn group_member(hash: i64, size: i64) -> i64 {
    (hash % size).abs()
}

/// The member of a consumer group of `size` members that reads `stream_name`: `None` for a
/// stream without an id (no member reads it) and for a size below 1. The one statement of the
/// rule the bindings expose (`consumerGroupMember`, `consumer_group_member`).
///
/// ```
/// assert_eq!(messagedb::consumer_group_member("account-123", 2), Some(1));
/// assert_eq!(messagedb::consumer_group_member("account-123+retry", 2), Some(1));
/// assert_eq!(messagedb::consumer_group_member("account", 2), None);
/// ```
pub fn consumer_group_member(stream_name: &str, size: i64) -> Option<i64> {
    if size < 1 {
        return None;
    }
    stream_hash(stream_name).map(|h| group_member(h, size))
}

/// Whether a stream belongs to `member` of a consumer group of `size` members.
///
/// A stream without `-` belongs to no member.
///
/// ```
/// assert!(messagedb::in_consumer_group("account-123", 1, 2));
/// assert!(messagedb::in_consumer_group("account-123+retry", 3, 4));
/// assert!(!messagedb::in_consumer_group("account", 0, 1));
/// ```
pub fn in_consumer_group(stream_name: &str, member: i64, size: i64) -> bool {
    consumer_group_member(stream_name, size) == Some(member)
}

/// The category a message is correlated with: `category(metadata.correlationStreamName)`.
pub(crate) fn correlation_category(metadata: Option<&str>) -> Option<String> {
    let stream = crate::rules::correlation_stream(metadata?).ok()??;
    Some(category(&stream).to_owned())
}
