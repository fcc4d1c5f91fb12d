//! The stream-name helpers of Message DB, as module functions.

use pyo3::prelude::*;

/// The category of a stream: the text before the first ``-`` (the whole name when there is none).
///
/// Examples
/// --------
/// >>> category("account-123+retry")
/// 'account'
#[pyfunction]
pub(crate) fn category(name: &str) -> &str {
    messagedb::category(name)
}

/// The id of a stream: the text after the first ``-``, ``None`` when there is no ``-``.
#[pyfunction]
pub(crate) fn id(name: &str) -> Option<&str> {
    messagedb::id(name)
}

/// The cardinal id of a stream: its id up to the first ``+``, ``None`` when there is no id.
#[pyfunction]
pub(crate) fn cardinal_id(name: &str) -> Option<&str> {
    messagedb::cardinal_id(name)
}

/// Whether a name is a category (has no ``-``) rather than one entity's stream.
#[pyfunction]
pub(crate) fn is_category(name: &str) -> bool {
    messagedb::is_category(name)
}

/// Message DB's ``hash_64``: the first 8 bytes of MD5(utf-8 value), big-endian, signed.
///
/// Examples
/// --------
/// >>> hash64("abc")
/// -8070080442485551184
#[pyfunction]
pub(crate) fn hash64(value: &str) -> i64 {
    messagedb::hash_64(value)
}

/// The member of a consumer group of ``size`` members that reads a stream:
/// ``abs(hash64(cardinal id)) % size``; ``None`` for a stream without an id (no member reads it)
/// and for a size below 1.
///
/// Examples
/// --------
/// >>> consumer_group_member("account-123", 2)
/// 1
#[pyfunction]
pub(crate) fn consumer_group_member(name: &str, size: i64) -> Option<i64> {
    messagedb::consumer_group_member(name, size)
}
