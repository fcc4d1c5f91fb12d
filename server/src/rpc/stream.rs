//! `stream.*` methods.

use messagedb::{GetStreamOpts, MessageInput, Namespace, NewMessage, WriteOpts};
use serde_json::value::RawValue;

use super::args::{self, Fields, Kind, kind, non_empty, opt_number, opt_string, options};
use super::encode;
use crate::error::ApiError;

const STREAM_NAME: &str = "streamName must be a non-empty string";

/// A message object `{type, data, metadata?, id?}` (the id is read only when `with_id`): the JSON
/// kinds are read here, every rule is core's (`MessageInput::parse`, `rules::message_id`).
fn message(raw: Option<&RawValue>, with_id: bool) -> Result<NewMessage, ApiError> {
    let fields = args::object(raw, "message must be an object")?
        .ok_or_else(|| ApiError::invalid("message must be an object"))?;
    let message_type = args::string(
        fields.get("type").copied(),
        "message.type must be a non-empty string",
    )?;
    let input = MessageInput {
        message_type: &message_type,
        data: fields.get("data").copied(),
        metadata: fields.get("metadata").copied(),
        id: None,
    };
    let message = input.parse("message.id")?;
    match with_id {
        true => with_id_of(message, &fields, "message.id"),
        false => Ok(message),
    }
}

/// The message with the id field of `fields` (`name` in messages), when it has one.
fn with_id_of(
    message: NewMessage,
    fields: &Fields<'_>,
    name: &str,
) -> Result<NewMessage, ApiError> {
    let text = opt_string(fields, "id", &format!("{name} must be a string"))?;
    Ok(match messagedb::rules::message_id(text.as_deref(), name)? {
        Some(id) => message.with_id(id),
        None => message,
    })
}

/// The write options `{expectedVersion?}`.
fn write_opts(opts: &Fields<'_>) -> Result<WriteOpts, ApiError> {
    let mut write = WriteOpts::default();
    write.expected_version = opt_number(
        opts,
        "expectedVersion",
        "options.expectedVersion must be a number",
    )?;
    Ok(write)
}

/// `stream.write(streamName, message, options?)`.
pub async fn write(ns: &Namespace, args: &[&RawValue]) -> Result<String, ApiError> {
    if args.len() < 2 {
        return Err(ApiError::invalid(
            "stream.write requires at least 2 arguments: streamName and message",
        ));
    }
    let stream = non_empty(Some(args[0]), STREAM_NAME)?;
    let message = message(Some(args[1]), false)?;
    let opts = options(args, 2)?.unwrap_or_default();
    let message = with_id_of(message, &opts, "options.id")?;
    let write = write_opts(&opts)?;
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
    let write = write_opts(&options(args, 2)?.unwrap_or_default())?;
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
    encode::messages(messages, encode::Shape::Stream).await
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
