//! `NativeNamespace`: the message operations of one namespace.

use messagedb::{
    CategoryOpts, ConsumerGroup, GetStreamOpts, JsonObject, ListStreamsOpts, MessageInput,
    Namespace, NewMessage, SubscribeOpts, WriteOpts,
};
use napi::Env;
use napi::bindgen_prelude::{Either, PromiseRaw};
use napi_derive::napi;

use crate::consumer::{NativeConsumer, NativeConsumerOptions};
use crate::consumer_id::{NativeConsumerId, NativeConsumerIdentity};
use crate::subscription::NativeSubscription;
use crate::{JsMessage, now_or_later, to_js_error, to_json};

/// One namespace's messages (wrapped by the facade's `Namespace`).
#[napi]
pub struct NativeNamespace {
    ns: Namespace,
}

impl NativeNamespace {
    pub(crate) fn new(ns: Namespace) -> Self {
        NativeNamespace { ns }
    }
}

/// A message to write; data and metadata as JSON text.
#[napi(object)]
pub struct NativeNewMessage {
    /// Message type.
    pub r#type: String,
    /// JSON text of the data object.
    pub data_json: String,
    /// JSON text of the metadata object, absent or `null` for none.
    pub metadata_json: Option<String>,
    /// UUID; generated when absent.
    pub id: Option<String>,
}

/// Where a write landed.
#[napi(object)]
pub struct NativeWriteResult {
    /// Stream position of the (first) message.
    pub position: i64,
    /// Global position of the (first) message.
    pub global_position: i64,
    /// Stream position of the last message (batches).
    pub last_position: i64,
    /// Global position of the last message (batches).
    pub last_global_position: i64,
}

/// Options of a read; unused fields are ignored.
#[napi(object)]
pub struct NativeReadOptions {
    /// Stream position (stream reads) or global position (category reads).
    pub position: Option<i64>,
    /// Global position (stream reads).
    pub global_position: Option<i64>,
    /// Batch size (-1 = unlimited).
    pub batch_size: Option<i64>,
    /// Correlation category (category reads).
    pub correlation: Option<String>,
    /// Consumer group member.
    pub member: Option<i64>,
    /// Consumer group size.
    pub size: Option<i64>,
}

/// What to subscribe to.
#[napi(object)]
pub struct NativeSubscribeOptions {
    /// A stream.
    pub stream: Option<String>,
    /// A category.
    pub category: Option<String>,
    /// Every message of the namespace.
    pub all: Option<bool>,
    /// Start position (stream position for a stream, global position otherwise).
    pub position: Option<i64>,
    /// Consumer group member.
    pub member: Option<i64>,
    /// Consumer group size.
    pub size: Option<i64>,
}

/// A message from JS; `id_field` names where its id came from, for the error message.
fn new_message(m: &NativeNewMessage, id_field: &str) -> messagedb::Result<NewMessage> {
    let metadata = m.metadata_json.as_deref();
    let input = MessageInput {
        message_type: &m.r#type,
        data: Some(JsonObject::parse_raw(&m.data_json, "message.data")?),
        metadata: metadata
            .map(|text| JsonObject::parse_raw(text, "message.metadata"))
            .transpose()?,
        id: m.id.as_deref(),
    };
    input.parse(id_field)
}

#[napi]
impl NativeNamespace {
    /// Writes one message.
    #[napi(ts_return_type = "NativeWriteResult | Promise<NativeWriteResult>")]
    pub fn write<'env>(
        &self,
        env: &'env Env,
        stream: String,
        message: NativeNewMessage,
        expected_version: Option<i64>,
    ) -> napi::Result<Either<NativeWriteResult, PromiseRaw<'env, NativeWriteResult>>> {
        let ns = self.ns.clone();
        now_or_later(env, async move {
            let message = new_message(&message, "options.id").map_err(to_js_error)?;
            let mut opts = WriteOpts::default();
            opts.expected_version = expected_version;
            let r = ns
                .write(&stream, message, opts)
                .await
                .map_err(to_js_error)?;
            Ok(NativeWriteResult {
                position: r.position,
                global_position: r.global_position,
                last_position: r.position,
                last_global_position: r.global_position,
            })
        })
    }

    /// Writes several messages to one stream atomically.
    #[napi(ts_return_type = "NativeWriteResult | Promise<NativeWriteResult>")]
    pub fn write_batch<'env>(
        &self,
        env: &'env Env,
        stream: String,
        messages: Vec<NativeNewMessage>,
        expected_version: Option<i64>,
    ) -> napi::Result<Either<NativeWriteResult, PromiseRaw<'env, NativeWriteResult>>> {
        let ns = self.ns.clone();
        now_or_later(env, async move {
            let messages = messages
                .iter()
                .map(|m| new_message(m, "message.id"))
                .collect::<Result<Vec<_>, _>>()
                .map_err(to_js_error)?;
            let mut opts = WriteOpts::default();
            opts.expected_version = expected_version;
            let r = ns
                .write_batch(&stream, messages, opts)
                .await
                .map_err(to_js_error)?;
            Ok(NativeWriteResult {
                position: r.position,
                global_position: r.global_position,
                last_position: r.last_position,
                last_global_position: r.last_global_position,
            })
        })
    }

    /// A stream's messages; JSON array.
    #[napi(ts_return_type = "string | Promise<string>")]
    pub fn get_stream<'env>(
        &self,
        env: &'env Env,
        stream: String,
        options: NativeReadOptions,
    ) -> napi::Result<Either<String, PromiseRaw<'env, String>>> {
        let ns = self.ns.clone();
        now_or_later(env, async move {
            let mut opts = GetStreamOpts::default();
            opts.position = options.position;
            opts.global_position = options.global_position;
            opts.batch_size = options.batch_size;
            let page = ns.get_stream(&stream, &opts).await.map_err(to_js_error)?;
            to_json(&page.iter().map(JsMessage::from).collect::<Vec<_>>())
        })
    }

    /// A stream's last message (optionally of a type); JSON or `null`.
    #[napi(ts_return_type = "string | Promise<string>")]
    pub fn get_last<'env>(
        &self,
        env: &'env Env,
        stream: String,
        message_type: Option<String>,
    ) -> napi::Result<Either<String, PromiseRaw<'env, String>>> {
        let ns = self.ns.clone();
        now_or_later(env, async move {
            let m = ns
                .get_last(&stream, message_type.as_deref())
                .await
                .map_err(to_js_error)?;
            to_json(&m.as_ref().map(JsMessage::from))
        })
    }

    /// A stream's version, `null` when empty.
    #[napi(ts_return_type = "number | null | Promise<number | null>")]
    pub fn stream_version<'env>(
        &self,
        env: &'env Env,
        stream: String,
    ) -> napi::Result<Either<Option<i64>, PromiseRaw<'env, Option<i64>>>> {
        let ns = self.ns.clone();
        now_or_later(env, async move {
            ns.stream_version(&stream).await.map_err(to_js_error)
        })
    }

    /// A category's messages by global position; JSON array.
    #[napi(ts_return_type = "string | Promise<string>")]
    pub fn get_category<'env>(
        &self,
        env: &'env Env,
        category: String,
        options: NativeReadOptions,
    ) -> napi::Result<Either<String, PromiseRaw<'env, String>>> {
        let ns = self.ns.clone();
        now_or_later(env, async move {
            let mut opts = CategoryOpts::default();
            opts.position = options.position;
            opts.batch_size = options.batch_size;
            opts.correlation = options.correlation;
            opts.consumer_group =
                ConsumerGroup::from_parts(options.member, options.size).map_err(to_js_error)?;
            let page = ns
                .get_category(&category, &opts)
                .await
                .map_err(to_js_error)?;
            to_json(&page.iter().map(JsMessage::from).collect::<Vec<_>>())
        })
    }

    /// Streams by name; JSON array of `{stream, version, lastActivity}`.
    #[napi]
    pub async fn list_streams(
        &self,
        prefix: Option<String>,
        cursor: Option<String>,
        limit: Option<i64>,
    ) -> napi::Result<String> {
        let mut opts = ListStreamsOpts::default();
        opts.prefix = prefix;
        opts.cursor = cursor;
        opts.limit = limit;
        to_json(&self.ns.list_streams(&opts).await.map_err(to_js_error)?)
    }

    /// Categories with counts; JSON array of `{category, streamCount, messageCount}`.
    #[napi]
    pub async fn list_categories(&self) -> napi::Result<String> {
        to_json(&self.ns.list_categories().await.map_err(to_js_error)?)
    }

    /// Starts a subscription (history, then live).
    #[napi]
    pub async fn subscribe(
        &self,
        options: NativeSubscribeOptions,
    ) -> napi::Result<NativeSubscription> {
        let opts = SubscribeOpts::target(
            options.stream.as_deref(),
            options.category.as_deref(),
            options.all.unwrap_or(false),
        )
        .and_then(|t| {
            t.from_position(options.position.unwrap_or(0))
                .with_group(options.member, options.size)
        })
        .map_err(to_js_error)?;
        let sub = self.ns.subscribe(opts).await.map_err(to_js_error)?;
        Ok(NativeSubscription::new(sub))
    }

    /// A consumer, not yet started (`open()` waits to be the active instance of its identity).
    #[napi]
    pub fn consumer(&self, options: NativeConsumerOptions) -> napi::Result<NativeConsumer> {
        NativeConsumer::new(self.ns.clone(), &options)
    }

    /// A consumer's identity: its recorded position, progress and parked messages.
    #[napi]
    pub fn consumer_id(&self, identity: NativeConsumerIdentity) -> napi::Result<NativeConsumerId> {
        NativeConsumerId::new(self.ns.clone(), identity)
    }
}
