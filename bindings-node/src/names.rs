//! The stream-name helpers.

use napi_derive::napi;

/// The category of a stream: the text before the first `-`.
#[napi]
pub fn category(name: String) -> String {
    messagedb::category(&name).to_string()
}

/// The id of a stream: the text after the first `-`, `null` without one.
#[napi]
pub fn id(name: String) -> Option<String> {
    messagedb::id(&name).map(str::to_string)
}

/// The cardinal id of a stream: its id up to the first `+`.
#[napi(js_name = "cardinalId")]
pub fn cardinal_id(name: String) -> Option<String> {
    messagedb::cardinal_id(&name).map(str::to_string)
}

/// Whether a name is a category (no `-`).
#[napi(js_name = "isCategory")]
pub fn is_category(name: String) -> bool {
    messagedb::is_category(&name)
}

/// Message DB's `hash_64`: the first 8 bytes of MD5 as a signed 64-bit integer (a `bigint`).
#[napi(js_name = "hash64")]
pub fn hash_64(value: String) -> napi::bindgen_prelude::BigInt {
    messagedb::hash_64(&value).into()
}

/// The member of a consumer group of `size` members that reads a stream, `null` for a stream
/// without an id (no member reads it) and for a size below 1.
#[napi(js_name = "consumerGroupMember")]
pub fn consumer_group_member(name: String, size: i64) -> Option<i64> {
    messagedb::consumer_group_member(&name, size)
}
