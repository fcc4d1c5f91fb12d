//! A consumer's progress, as ``info()`` and ``consumer_info`` return it: an immutable record, like
//! the listings.

use pyo3::prelude::*;

use crate::listings::record_methods;

/// A consumer's progress.
///
/// Attributes
/// ----------
/// position : int or None
///     The global position of the last message it handled (recorded, or acknowledged in this
///     run); ``None`` before its first.
/// head : int
///     The namespace's last global position (0 when it is empty).
/// lag : int
///     Messages of its category after its position (counted up to a million).
/// handled : int
///     Messages handled in this run (0 for a consumer not running here).
/// parked : int
///     Parked messages not replayed or discarded yet.
/// active : bool
///     Whether this is the active instance of its identity (``False`` for a standby or a
///     consumer not running here).
#[pyclass(frozen, eq, hash, get_all, module = "messagedb")]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct ConsumerInfo {
    position: Option<i64>,
    head: i64,
    lag: i64,
    handled: u64,
    parked: u64,
    active: bool,
}

impl From<messagedb::consumer::ConsumerInfo> for ConsumerInfo {
    fn from(i: messagedb::consumer::ConsumerInfo) -> Self {
        ConsumerInfo {
            position: i.position,
            head: i.head,
            lag: i.lag,
            handled: i.handled,
            parked: i.parked,
            active: i.active,
        }
    }
}

record_methods!(
    ConsumerInfo,
    ["position", "head", "lag", "handled", "parked", "active"]
);
