//! Python arguments to core option structs and JSON, shared by the sync and asyncio classes.
//! Validation stays in the core: this only moves values across.

use chrono::{DateTime, Datelike, Timelike, Utc};
use messagedb::{
    CategoryOpts, ConsumerGroup, GetStreamOpts, JsonObject, ListStreamsOpts, MessageInput,
    NamespaceOpts, NewMessage, SubscribeOpts, WriteOpts,
};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString};

use crate::{errors, json};

static ENCODE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static SCAN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static DATETIME: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static UTC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Compact JSON text of a Python value: plain JSON types directly, anything else through the
/// standard library's encoder.
fn encode(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Some(text) = json::to_json(value) {
        return Ok(text);
    }
    let encode = ENCODE.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        let kwargs = PyDict::new(py);
        kwargs.set_item("separators", (",", ":"))?;
        kwargs.set_item("ensure_ascii", false)?;
        let encoder = py
            .import("json")?
            .getattr("JSONEncoder")?
            .call((), Some(&kwargs))?;
        Ok(encoder.getattr("encode")?.unbind())
    })?;
    let text = encode.bind(py).call1((value,))?;
    match text.extract() {
        Ok(text) => Ok(text),
        // Text that is not UTF-8 (a lone surrogate): its ASCII form escapes it, and the core
        // refuses the escape with the message of every other surface.
        Err(_) => py
            .import("json")?
            .getattr("dumps")?
            .call1((value,))?
            .extract(),
    }
}

/// A JSON object from a Python mapping; the core says when it is not an object.
pub(crate) fn json_object(
    py: Python<'_>,
    value: &Bound<'_, PyAny>,
    what: &str,
) -> PyResult<JsonObject> {
    JsonObject::from_json(&encode(py, value)?, what).map_err(errors::to_py_err)
}

/// Python objects of stored JSON text: the `json` module's scanner, called directly (half the
/// cost of `json.loads`, whose wrapper also checks what the core already did), else `json.loads`.
pub(crate) fn json_value<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let text = PyString::new(py, text);
    let scan = SCAN.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        let decoder = py.import("json")?.getattr("JSONDecoder")?.call0()?;
        let scanner = py.import("json.scanner")?.getattr("make_scanner")?;
        Ok(scanner.call1((decoder,))?.unbind())
    })?;
    match scan.bind(py).call1((&text, 0)) {
        Ok(found) => found.get_item(0),
        Err(_) => LOADS.import(py, "json", "loads")?.call1((text,)),
    }
}

/// An aware UTC `datetime.datetime` (one call of the class: the stable ABI has no C constructor).
pub(crate) fn datetime<'py>(py: Python<'py>, time: &DateTime<Utc>) -> PyResult<Bound<'py, PyAny>> {
    let class = DATETIME.import(py, "datetime", "datetime")?;
    let utc = UTC.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        let timezone = py.import("datetime")?.getattr("timezone")?;
        Ok(timezone.getattr("utc")?.unbind())
    })?;
    let (date, clock) = (time.date_naive(), time.time());
    let micros = (clock.nanosecond() / 1000).min(999_999);
    class.call1((
        date.year(),
        date.month(),
        date.day(),
        clock.hour(),
        clock.minute(),
        clock.second(),
        micros,
        utc,
    ))
}

/// A message to write from the arguments of `write`: the values become text (JSON for the data
/// and metadata, `str()` of the id, which may be a `uuid.UUID`); the core checks them.
pub(crate) fn new_message(
    py: Python<'_>,
    message_type: String,
    data: &Bound<'_, PyAny>,
    metadata: Option<&Bound<'_, PyAny>>,
    id: Option<&Bound<'_, PyAny>>,
    id_name: &str,
) -> PyResult<NewMessage> {
    let data = encode(py, data)?;
    let metadata = match metadata.filter(|m| !m.is_none()) {
        Some(m) => Some(encode(py, m)?),
        None => None,
    };
    let id = match id.filter(|i| !i.is_none()) {
        Some(id) => Some(id.str()?.to_string()),
        None => None,
    };
    let raw = |text, what| JsonObject::parse_raw(text, what).map_err(errors::to_py_err);
    let input = MessageInput {
        message_type: &message_type,
        data: Some(raw(&data, "message.data")?),
        metadata: metadata
            .as_deref()
            .map(|m| raw(m, "message.metadata"))
            .transpose()?,
        id: id.as_deref(),
    };
    input.parse(id_name).map_err(errors::to_py_err)
}

/// The messages of `write_batch`: mappings with `type`, `data` and optional `metadata` and `id`.
pub(crate) fn new_messages(
    py: Python<'_>,
    messages: &Bound<'_, PyAny>,
) -> PyResult<Vec<NewMessage>> {
    let mut batch = Vec::new();
    for item in messages.try_iter()? {
        let item = item?;
        if !item.hasattr("get")? {
            return Err(errors::invalid("message must be an object"));
        }
        let field = |key: &str| item.call_method1("get", (key,));
        let message_type = field("type")?;
        let message_type = match message_type.is_none() {
            true => String::new(),
            false => message_type.extract()?,
        };
        let (data, metadata, id) = (field("data")?, field("metadata")?, field("id")?);
        batch.push(new_message(
            py,
            message_type,
            &data,
            Some(&metadata),
            Some(&id),
            "message.id",
        )?);
    }
    Ok(batch)
}

/// Options of a write.
pub(crate) fn write_opts(expected_version: Option<i64>) -> WriteOpts {
    let mut opts = WriteOpts::default();
    opts.expected_version = expected_version;
    opts
}

/// Options of a stream read.
pub(crate) fn stream_opts(
    position: Option<i64>,
    global_position: Option<i64>,
    batch_size: Option<i64>,
) -> GetStreamOpts {
    let mut opts = GetStreamOpts::default();
    opts.position = position;
    opts.global_position = global_position;
    opts.batch_size = batch_size;
    opts
}

/// A consumer group from `(member, size)`; the core checks the rules.
pub(crate) fn consumer_group(group: Option<(i64, i64)>) -> PyResult<Option<ConsumerGroup>> {
    group
        .map(|(member, size)| ConsumerGroup::new(member, size).map_err(errors::to_py_err))
        .transpose()
}

/// Options of a category read.
pub(crate) fn category_opts(
    position: Option<i64>,
    batch_size: Option<i64>,
    correlation: Option<String>,
    group: Option<(i64, i64)>,
) -> PyResult<CategoryOpts> {
    let mut opts = CategoryOpts::default();
    opts.position = position;
    opts.batch_size = batch_size;
    opts.correlation = correlation;
    opts.consumer_group = consumer_group(group)?;
    Ok(opts)
}

/// What a subscription follows: exactly one of a stream, a category or everything (the core
/// checks, with the messages of the server's `/subscribe`).
pub(crate) fn subscribe_opts(
    stream: Option<&str>,
    category: Option<&str>,
    all: bool,
    position: i64,
    group: Option<(i64, i64)>,
) -> PyResult<SubscribeOpts> {
    let (member, size) = group.unzip();
    SubscribeOpts::target(stream, category, all)
        .and_then(|opts| opts.from_position(position).with_group(member, size))
        .map_err(errors::to_py_err)
}

/// Options of a namespace creation.
pub(crate) fn namespace_opts(
    py: Python<'_>,
    description: Option<String>,
    token: Option<String>,
    metadata: Option<&Bound<'_, PyAny>>,
) -> PyResult<NamespaceOpts> {
    let mut opts = NamespaceOpts::default();
    opts.description = description;
    opts.token = token;
    if let Some(m) = metadata.filter(|m| !m.is_none()) {
        opts.metadata = Some(json_object(py, m, "options.metadata")?);
    }
    Ok(opts)
}

/// Options of a stream listing.
pub(crate) fn list_streams_opts(
    prefix: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
) -> ListStreamsOpts {
    let mut opts = ListStreamsOpts::default();
    opts.prefix = prefix;
    opts.cursor = cursor;
    opts.limit = limit;
    opts
}

/// A `durability=` argument of `open`.
pub(crate) fn store_options(durability: Option<&str>) -> PyResult<messagedb::StoreOptions> {
    let mut opts = messagedb::StoreOptions::default();
    opts.durability = match durability {
        None | Some("full") => messagedb::Durability::Full,
        Some("normal") => messagedb::Durability::Normal,
        Some("off") => messagedb::Durability::Off,
        Some(_) => {
            return Err(errors::invalid(
                "durability must be 'full', 'normal' or 'off'",
            ));
        }
    };
    Ok(opts)
}
