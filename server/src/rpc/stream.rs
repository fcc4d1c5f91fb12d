//! `stream.*` methods.

use messagedb::{GetStreamOpts, JsonObject, Namespace, NewMessage, WriteOpts};
use serde_json::value::RawValue;
use uuid::Uuid;

use super::args::{self, Fields, Kind, kind, non_empty, opt_number, opt_string, options};
use super::encode;
use crate::error::ApiError;

const STREAM_NAME: &str = "streamName must be a non-empty string";

/// A message object `{type, data, metadata?, id?}` (the id is read only when `with_id`).
fn message(raw: Option<&RawValue>, with_id: bool) -> Result<NewMessage, ApiError> {
    let fields = args::object(raw, "message must be an object")?
        .ok_or_else(|| ApiError::invalid("message must be an object"))?;
    let message_type = non_empty(
        fields.get("type").copied(),
        "message.type must be a non-empty string",
    )?;
    let data = fields
        .get("data")
        .filter(|d| kind(d) == Kind::Object)
        .ok_or_else(|| ApiError::invalid("message.data must be an object"))?;
    let data = JsonObject::from_raw(data, "message.data")?;
    let metadata = match fields.get("metadata") {
        None => None,
        Some(m) if kind(m) == Kind::Null => None,
        Some(m) if kind(m) == Kind::Object => Some(JsonObject::from_raw(m, "message.metadata")?),
        Some(_) => return Err(ApiError::invalid("message.metadata must be an object")),
    };
    let id = if with_id {
        message_id(&fields, "message.id")?
    } else {
        None
    };
    Ok(NewMessage::from_parts(message_type, data, metadata, id))
}

/// An optional id: absent, null or `""` = generated (core's rule).
fn message_id(fields: &Fields<'_>, name: &str) -> Result<Option<Uuid>, ApiError> {
    let text = opt_string(fields, "id", &format!("{name} must be a string"))?;
    Ok(messagedb::rules::message_id(text.as_deref(), name)?)
}

/// `stream.write(streamName, message, options?)`.
pub async fn write(ns: &Namespace, args: &[&RawValue]) -> Result<String, ApiError> {
    if args.len() < 2 {
        return Err(ApiError::invalid(
            "stream.write requires at least 2 arguments: streamName and message",
        ));
    }
    let stream = non_empty(Some(args[0]), STREAM_NAME)?;
    let mut message = message(Some(args[1]), false)?;
    let opts = options(args, 2)?.unwrap_or_default();
    if let Some(id) = message_id(&opts, "options.id")? {
        message = message.with_id(id);
    }
    let mut write = WriteOpts::default();
    write.expected_version = opt_number(
        &opts,
        "expectedVersion",
        "options.expectedVersion must be a number",
    )?;
    let r = ns.write(&stream, message, write).await?;
    encode::json(&r)
}

/// `stream.writeBatch(streamName, [message…], options?)`; also returns how many were written.
pub async fn write_batch(ns: &Namespace, args: &[&RawValue]) -> Result<(String, u64), ApiError> {
    let stream = non_empty(args.first().copied(), STREAM_NAME)?;
    let list: Vec<&RawValue> = args
        .get(1)
        .filter(|r| kind(r) == Kind::Array)
        .and_then(|r| serde_json::from_str(r.get()).ok())
        .filter(|l: &Vec<&RawValue>| !l.is_empty())
        .ok_or_else(|| ApiError::invalid("messages must be a non-empty array"))?;
    let messages = list
        .into_iter()
        .map(|m| message(Some(m), true))
        .collect::<Result<Vec<_>, _>>()?;
    let opts = options(args, 2)?.unwrap_or_default();
    let mut write = WriteOpts::default();
    write.expected_version = opt_number(
        &opts,
        "expectedVersion",
        "options.expectedVersion must be a number",
    )?;
    let n = messages.len() as u64;
    let r = ns.write_batch(&stream, messages, write).await?;
    Ok((encode::json(&r)?, n))
}

/// `stream.get(streamName, options?)`.
pub async fn get(ns: &Namespace, args: &[&RawValue]) -> Result<String, ApiError> {
    let stream = non_empty(args.first().copied(), STREAM_NAME)?;
    let opts = options(args, 1)?.unwrap_or_default();
    let mut get = GetStreamOpts::default();
    get.position = opt_number(&opts, "position", "options.position must be a number")?;
    get.global_position = opt_number(
        &opts,
        "globalPosition",
        "options.globalPosition must be a number",
    )?;
    get.batch_size = opt_number(&opts, "batchSize", "options.batchSize must be a number")?;
    let messages = ns.get_stream(&stream, &get).await?;
    encode::json(
        &messages
            .iter()
            .map(encode::StreamMessage::from)
            .collect::<Vec<_>>(),
    )
}

/// `stream.last(streamName, options?)`.
pub async fn last(ns: &Namespace, args: &[&RawValue]) -> Result<String, ApiError> {
    let stream = non_empty(args.first().copied(), STREAM_NAME)?;
    let opts = options(args, 1)?.unwrap_or_default();
    let message_type = opt_string(&opts, "type", "options.type must be a string")?;
    match ns.get_last(&stream, message_type.as_deref()).await? {
        Some(m) => encode::json(&encode::StreamMessage::from(&m)),
        None => Ok("null".into()),
    }
}

/// `stream.version(streamName)`.
pub async fn version(ns: &Namespace, args: &[&RawValue]) -> Result<String, ApiError> {
    let stream = non_empty(args.first().copied(), STREAM_NAME)?;
    encode::json(&ns.stream_version(&stream).await?)
}
