//! Encoding results: stream messages as 7-element arrays, category messages as 8-element arrays,
//! data and metadata embedded raw, times in the wire format.

use messagedb::{JsonObject, Message, format_time};
use serde::Serialize;
use uuid::Uuid;

use crate::error::ApiError;

/// `[id, type, position, globalPosition, data, metadata, time]`.
#[derive(Serialize)]
pub struct StreamMessage<'a>(
    &'a Uuid,
    &'a str,
    i64,
    i64,
    &'a JsonObject,
    Option<&'a JsonObject>,
    String,
);

impl<'a> From<&'a Message> for StreamMessage<'a> {
    fn from(m: &'a Message) -> Self {
        StreamMessage(
            &m.id,
            &m.message_type,
            m.position,
            m.global_position,
            &m.data,
            m.metadata.as_ref(),
            format_time(m.time),
        )
    }
}

/// `[id, streamName, type, position, globalPosition, data, metadata, time]`.
#[derive(Serialize)]
pub struct CategoryMessage<'a>(
    &'a Uuid,
    &'a str,
    &'a str,
    i64,
    i64,
    &'a JsonObject,
    Option<&'a JsonObject>,
    String,
);

impl<'a> From<&'a Message> for CategoryMessage<'a> {
    fn from(m: &'a Message) -> Self {
        CategoryMessage(
            &m.id,
            &m.stream_name,
            &m.message_type,
            m.position,
            m.global_position,
            &m.data,
            m.metadata.as_ref(),
            format_time(m.time),
        )
    }
}

/// JSON text of a result.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| {
        ApiError::new(
            messagedb::ErrorCode::Backend,
            format!("cannot encode the result: {e}"),
        )
    })
}

/// The rows of an answer of messages.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// [`StreamMessage`] rows.
    Stream,
    /// [`CategoryMessage`] rows.
    Category,
}

/// JSON text of messages, encoded on the blocking pool when they are many
/// (`messagedb::threads`), so that a long answer does not hold up the other connections of this
/// serving thread.
pub async fn messages(messages: Vec<Message>, shape: Shape) -> Result<String, ApiError> {
    if !messagedb::threads::off_thread(messages.len() as i64) {
        return encode_messages(&messages, shape);
    }
    tokio::task::spawn_blocking(move || encode_messages(&messages, shape))
        .await
        .map_err(|e| {
            ApiError::new(
                messagedb::ErrorCode::Backend,
                format!("cannot encode the result: {e}"),
            )
        })?
}

fn encode_messages(messages: &[Message], shape: Shape) -> Result<String, ApiError> {
    match shape {
        Shape::Stream => json(&messages.iter().map(StreamMessage::from).collect::<Vec<_>>()),
        Shape::Category => json(
            &messages
                .iter()
                .map(CategoryMessage::from)
                .collect::<Vec<_>>(),
        ),
    }
}
