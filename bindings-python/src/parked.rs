//! Parked messages (messages that failed every try) as Python records, and the replay loop of
//! the sync namespace, which hands them to a Python handler.

use chrono::{DateTime, Utc};
use messagedb::consumer::{ConsumerId, Settled};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

use crate::errors;
use crate::listings::record_methods;
use crate::message::Message;
use crate::runtime::block_on;

/// A message that failed every try and was parked.
///
/// Attributes
/// ----------
/// stream : str
///     The parked message's stream.
/// position : int
///     Its position in that stream.
/// global_position : int
///     Its global position (which names it for ``settle_parked``).
/// type : str
///     Its type.
/// id : str
///     Its id.
/// error : str
///     The error of its last try.
/// attempts : int
///     How many times it was tried.
/// parked_at : datetime.datetime
///     When it was parked.
#[pyclass(frozen, eq, module = "messagedb")]
#[derive(PartialEq)]
pub(crate) struct ParkedMessage {
    inner: messagedb::consumer::Parked,
}

impl ParkedMessage {
    /// The core's record, to read the parked message back.
    pub(crate) fn core(&self) -> &messagedb::consumer::Parked {
        &self.inner
    }
}

impl From<messagedb::consumer::Parked> for ParkedMessage {
    fn from(inner: messagedb::consumer::Parked) -> Self {
        ParkedMessage { inner }
    }
}

record_methods!(
    ParkedMessage,
    [
        "stream",
        "position",
        "global_position",
        "type",
        "id",
        "error",
        "attempts",
        "parked_at"
    ],
    {
        /// The parked message's stream.
        #[getter]
        fn stream(&self) -> &str {
            &self.inner.stream_name
        }
        /// Its position in that stream.
        #[getter]
        fn position(&self) -> i64 {
            self.inner.position
        }
        /// Its global position.
        #[getter]
        fn global_position(&self) -> i64 {
            self.inner.global_position
        }
        /// Its type.
        #[getter]
        #[pyo3(name = "type")]
        fn message_type(&self) -> &str {
            &self.inner.message_type
        }
        /// Its id.
        #[getter]
        fn id(&self) -> &str {
            &self.inner.id
        }
        /// The error of its last try.
        #[getter]
        fn error(&self) -> &str {
            &self.inner.error
        }
        /// How many times it was tried.
        #[getter]
        fn attempts(&self) -> u32 {
            self.inner.attempts
        }
        /// When it was parked (aware, UTC).
        #[getter]
        fn parked_at(&self) -> DateTime<Utc> {
            self.inner.parked_at
        }
    }
);

/// What a replay of parked messages did.
///
/// Attributes
/// ----------
/// replayed : int
///     Parked messages the handler handled this time (each now recorded as replayed).
/// failed : list of tuple of (ParkedMessage, str)
///     Those it failed again, with the error; they stay parked.
#[pyclass(frozen, module = "messagedb")]
pub(crate) struct ReplayResult {
    #[pyo3(get)]
    replayed: u64,
    failed: Vec<(Py<ParkedMessage>, String)>,
}

impl ReplayResult {
    pub(crate) fn new(replayed: u64, failed: Vec<(Py<ParkedMessage>, String)>) -> Self {
        ReplayResult { replayed, failed }
    }
}

record_methods!(ReplayResult, ["replayed", "failed"], {
    #[new]
    #[pyo3(signature = (replayed, failed))]
    fn py_new(replayed: u64, failed: Vec<(Py<ParkedMessage>, String)>) -> Self {
        ReplayResult::new(replayed, failed)
    }
    /// The parked messages the handler failed again, with the errors.
    #[getter]
    fn failed(&self, py: Python<'_>) -> Vec<(Py<ParkedMessage>, String)> {
        self.failed
            .iter()
            .map(|(p, e)| (p.clone_ref(py), e.clone()))
            .collect()
    }
});

/// Hands each outstanding parked message of a consumer to `handler` again, oldest first, with
/// the GIL held for the handler only: one it handles is recorded as replayed; one it fails (an
/// `Exception`) stays parked, with the error in the result; any other exception (such as
/// `KeyboardInterrupt`) ends the replay. A parked message whose original is gone is discarded.
pub(crate) fn replay(
    py: Python<'_>,
    ns: &messagedb::Namespace,
    id: &ConsumerId,
    handler: &Bound<'_, PyAny>,
) -> PyResult<ReplayResult> {
    let (mut replayed, mut failed) = (0, Vec::new());
    for parked in block_on(py, ns.parked(id))? {
        let global_position = parked.global_position;
        let Some(message) = block_on(py, ns.parked_message(&parked))? else {
            block_on(
                py,
                ns.settle_parked(id, global_position, Settled::Discarded),
            )?;
            continue;
        };
        match handler.call1((Message::from(message),)) {
            Ok(_) => {
                block_on(py, ns.settle_parked(id, global_position, Settled::Replayed))?;
                replayed += 1;
            }
            Err(e) if e.is_instance_of::<PyException>(py) => {
                let error = errors::failure_text(e.value(py))?;
                failed.push((Py::new(py, ParkedMessage::from(parked))?, error));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(ReplayResult::new(replayed, failed))
}

/// `"replayed"` or `"discarded"`.
pub(crate) fn settled(outcome: &str) -> PyResult<Settled> {
    match outcome {
        "replayed" => Ok(Settled::Replayed),
        "discarded" => Ok(Settled::Discarded),
        _ => Err(errors::invalid("outcome must be 'replayed' or 'discarded'")),
    }
}
