//! A consumer's identity and options from Python arguments: the keyword options of
//! `consume`/`consumer` (seconds as floats) become a core `ConsumerOpts`. The core checks the
//! names and the group; this only moves values across and refuses what cannot be a duration or a
//! count.

use std::time::Duration;

use messagedb::consumer::{ConsumerId, ConsumerOpts, OnError, RetryOpts, Start};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::{convert, errors};

/// A consumer's identity: its category, its name and, for a group member, `(member, size)`.
pub(crate) fn consumer_id(
    category: &str,
    name: &str,
    group: Option<(i64, i64)>,
) -> PyResult<ConsumerId> {
    let group = convert::consumer_group(group)?;
    ConsumerId::new(category, name, group).map_err(errors::to_py_err)
}

/// The options of a consumer from the keyword arguments of `consume` / `consumer`; a `None`
/// value keeps the default.
///
/// # Errors
/// `InvalidRequestError` for a bad identity, start, count or duration; `TypeError` for an unknown
/// option.
pub(crate) fn consumer_opts(
    category: &str,
    name: &str,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<ConsumerOpts> {
    let mut opts = ConsumerOpts::new(category, name).map_err(errors::to_py_err)?;
    let mut retry = RetryOpts::default();
    for (key, value) in options.into_iter().flat_map(|o| o.iter()) {
        let key: String = key.extract()?;
        if value.is_none() {
            continue;
        }
        let value = &value;
        opts = match key.as_str() {
            "consumer_group" => opts
                .group(convert::consumer_group(Some(value.extract()?))?.expect("given"))
                .map_err(errors::to_py_err)?,
            "correlation" => opts.correlation(value.extract::<String>()?),
            "start" => opts.start(start(value)?),
            "position_update_interval" => opts.position_update_interval(count(value, &key)?),
            "position_update_idle" => opts.position_update_idle(seconds(value, &key)?),
            "retry_attempts" => {
                retry.attempts = u32::try_from(count(value, &key)?)
                    .map_err(|_| errors::invalid("retry_attempts is too large"))?;
                opts
            }
            "retry_initial_delay" => {
                retry.initial_delay = seconds(value, &key)?;
                opts
            }
            "retry_max_delay" => {
                retry.max_delay = seconds(value, &key)?;
                opts
            }
            "on_error" => opts.on_error(on_error(value)?),
            "lease" => opts.lease(seconds(value, &key)?),
            _ => {
                return Err(PyTypeError::new_err(format!(
                    "unexpected keyword argument '{key}' (a consumer's options are {})",
                    OPTIONS.join(", ")
                )));
            }
        };
    }
    Ok(opts.retry(retry))
}

/// The keyword options of a consumer, named in the message of an unknown one.
const OPTIONS: [&str; 10] = [
    "consumer_group",
    "correlation",
    "start",
    "position_update_interval",
    "position_update_idle",
    "retry_attempts",
    "retry_initial_delay",
    "retry_max_delay",
    "on_error",
    "lease",
];

/// `"beginning"`, `"end"` or a global position.
fn start(value: &Bound<'_, PyAny>) -> PyResult<Start> {
    if let Ok(text) = value.cast::<PyString>() {
        return match text.to_cow()?.as_ref() {
            "beginning" => Ok(Start::Beginning),
            "end" => Ok(Start::End),
            other => Err(errors::invalid(format!(
                "start must be 'beginning', 'end' or a global position, not '{other}'"
            ))),
        };
    }
    match value.extract::<i64>() {
        Ok(position) if position >= 1 => Ok(Start::At(position)),
        _ => Err(errors::invalid(
            "start must be 'beginning', 'end' or a global position (an int >= 1)",
        )),
    }
}

/// `"park"` or `"stop"`.
fn on_error(value: &Bound<'_, PyAny>) -> PyResult<OnError> {
    match value.extract::<String>()?.as_str() {
        "park" => Ok(OnError::Park),
        "stop" => Ok(OnError::Stop),
        _ => Err(errors::invalid("on_error must be 'park' or 'stop'")),
    }
}

/// A count (an int >= 0).
fn count(value: &Bound<'_, PyAny>, what: &str) -> PyResult<u64> {
    value
        .extract::<i64>()
        .ok()
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| errors::invalid(format!("{what} must be an int >= 0")))
}

/// A duration from seconds (an int or a float >= 0).
fn seconds(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Duration> {
    value
        .extract::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| errors::invalid(format!("{what} must be a number of seconds >= 0")))
}
